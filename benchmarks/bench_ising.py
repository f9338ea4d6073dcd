"""Speed of chainrule's 2-D Ising samplers.

* Metropolis: spin-flip attempts per second, L = 32, 26 temperatures from 1.0 to 3.5 (the
  experiment's grid) × 40 chains in one batch; and, for scale, a textbook vectorised NumPy
  checkerboard sweep (np.roll neighbour sums, masks, float64 uniforms against exp(-ΔE/T)).
* Wolff: clusters and spins flipped per second at T_c over a batch of chains, and for one
  chain at a time (``wolff_cluster``).
* The experiment: ``sample_ising(32, 26 temperatures, 500)`` end to end.

Each rate is the median of ``--rounds`` rounds (min and max shown). Run:
``python benchmarks/bench_ising.py [--rounds N] [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from chainrule.datasets.ising import (
    T_C,
    CheckerboardMetropolis,
    WolffSampler,
    sample_ising,
    wolff_cluster,
)


def rates(run, rounds):
    """Median, min, max of the per-round rates; ``run()`` returns (work done, seconds)."""
    values = []
    for _ in range(rounds):
        work, seconds = run()
        values.append(work / seconds)
    return statistics.median(values), min(values), max(values)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def metropolis(L=32, n_temperatures=26, chains=40, sweeps=20, rounds=7, seed=0):
    T = np.repeat(np.linspace(1.0, 3.5, n_temperatures), chains)
    rng = np.random.default_rng(seed)
    sampler = CheckerboardMetropolis(np.where(rng.random((T.size, L, L)) < 0.5, 1, -1).astype(np.int8), T, rng)
    sampler.sweep(2)  # warm-up
    return rates(lambda: (T.size * L * L * sweeps, timed(sampler.sweep, sweeps)[1]), rounds)


def textbook_metropolis(L=32, n_temperatures=26, chains=40, sweeps=5, rounds=3, seed=0):
    T = np.repeat(np.linspace(1.0, 3.5, n_temperatures), chains)[:, None, None]
    rng = np.random.default_rng(seed)
    spins = np.where(rng.random((T.shape[0], L, L)) < 0.5, 1, -1).astype(np.int8)
    i, j = np.indices((L, L))
    masks = [(i + j) % 2 == colour for colour in (0, 1)]

    def run():
        nonlocal spins
        for _ in range(sweeps):
            for mask in masks:
                neighbours = np.roll(spins, 1, 1) + np.roll(spins, -1, 1) + np.roll(spins, 1, 2) + np.roll(spins, -1, 2)
                accept = rng.random(spins.shape) < np.exp(-2.0 * spins * neighbours / T)
                spins = np.where(accept & mask, -spins, spins)

    return rates(lambda: (T.shape[0] * L * L * sweeps, timed(run)[1]), rounds)


def wolff_batch(L=32, chains=256, clusters=10, rounds=5, seed=0):
    sampler = WolffSampler(np.ones((chains, L, L), np.int8), np.full(chains, T_C), rng=seed)
    sampler.run(20)  # equilibrate
    clusters_rates, flips_rates = [], []
    for _ in range(rounds):
        flipped, seconds = timed(sampler.run, clusters)
        clusters_rates.append(chains * clusters / seconds)
        flips_rates.append(flipped.sum() / seconds)
    return statistics.median(clusters_rates), statistics.median(flips_rates)


def wolff_single(L=32, clusters=200, seed=0):
    rng = np.random.default_rng(seed)
    spins = np.ones((L, L), np.int8)
    for _ in range(20):
        wolff_cluster(spins, T_C, rng)
    sizes, seconds = timed(lambda: [wolff_cluster(spins, T_C, rng) for _ in range(clusters)])
    return clusters / seconds, sum(sizes) / seconds


def experiment(L=32, n_samples=500, seed=0):
    samples, seconds = timed(lambda: sample_ising(L, np.linspace(1.0, 3.5, 26), n_samples, rng=seed))
    return seconds, samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller experiment")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    median, low, high = metropolis(rounds=rounds)
    t_median, t_low, t_high = textbook_metropolis(rounds=min(rounds, 3))
    print("| sampler | L | chains | median | min | max |")
    print("|---|---|---|---|---|---|")
    print(f"| Metropolis, packed checkerboard, one-byte exact acceptance | 32 | 26 T × 40 | "
          f"{median / 1e6:.0f} M attempts/s | {low / 1e6:.0f} M | {high / 1e6:.0f} M |")
    print(f"| Metropolis, textbook NumPy checkerboard (reference) | 32 | 26 T × 40 | "
          f"{t_median / 1e6:.1f} M attempts/s | {t_low / 1e6:.1f} M | {t_high / 1e6:.1f} M |")
    clusters, flips = wolff_batch(rounds=max(2, rounds // 2))
    print(f"| Wolff, batched frontier BFS, T = T_c | 32 | 256 | {clusters:,.0f} clusters/s, "
          f"{flips / 1e6:.1f} M flips/s | | |")
    clusters, flips = wolff_single(clusters=50 if args.quick else 200)
    print(f"| Wolff, one chain at a time (wolff_cluster), T = T_c | 32 | 1 | {clusters:,.0f} clusters/s, "
          f"{flips / 1e6:.2f} M flips/s | | |")
    seconds, samples = experiment(n_samples=100 if args.quick else 500)
    print(f"\nsample_ising(32, 26 temperatures 1.0-3.5, {samples.n_samples} samples): {seconds:.1f} s "
          f"(Wolff at {int((samples.method == 'wolff').sum())} temperatures, Metropolis at the rest)")


if __name__ == "__main__":
    main()
