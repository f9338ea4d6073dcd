"""Metropolis spin-flip attempts per second of chainrule's Ising sampler.

L = 32, a batch of 26 temperatures from 1.0 to 3.5 (the experiment's grid) with 40 chains
each; median over several rounds. Run: ``python benchmarks/bench_ising.py [--rounds N]``.
"""

import argparse
import statistics
import time

import numpy as np

from chainrule.datasets.ising import Metropolis


def flips_per_second(L=32, n_temperatures=26, chains=40, sweeps=20, rounds=7, seed=0):
    T = np.repeat(np.linspace(1.0, 3.5, n_temperatures), chains)
    rng = np.random.default_rng(seed)
    spins = np.where(rng.random((T.size, L, L)) < 0.5, 1, -1).astype(np.int8)
    sampler = Metropolis(T, L, rng)
    sampler.sweep(spins, 2)  # warm-up
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        sampler.sweep(spins, sweeps)
        rates.append(T.size * L * L * sweeps / (time.perf_counter() - start))
    return statistics.median(rates), min(rates), max(rates)


def wolff_rate(L=32, T=2.269, clusters=300, seed=0):
    """Wolff clusters per second and spins flipped per second at T ≈ T_c."""
    from chainrule.datasets.ising_wolff import wolff_cluster

    rng = np.random.default_rng(seed)
    spins = np.ones((L, L), dtype=np.int8)
    for _ in range(50):
        wolff_cluster(spins, T, rng)
    start = time.perf_counter()
    flipped = sum(wolff_cluster(spins, T, rng) for _ in range(clusters))
    elapsed = time.perf_counter() - start
    return clusters / elapsed, flipped / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    median, low, high = flips_per_second(rounds=args.rounds)
    print("| sampler | L | chains | median attempts/s | min | max |")
    print("|---|---|---|---|---|---|")
    print(f"| Metropolis (checkerboard, NumPy) | 32 | 26×40 | {median / 1e6:.1f} M | {low / 1e6:.1f} M | {high / 1e6:.1f} M |")
    clusters, flipped = wolff_rate()
    print(f"\nWolff at T = 2.269, L = 32: {clusters:.0f} clusters/s, {flipped / 1e6:.2f} M spins flipped/s")


if __name__ == "__main__":
    main()
