"""The Ising Monte Carlo sampler against exact results: Onsager's energy, Yang's
magnetisation, and exact enumeration of a 4×4 lattice."""

import itertools

import numpy as np
import pytest

from chainrule.datasets.ising import (
    T_C, Metropolis, binned_error, energy_per_spin, magnetisation_per_spin, onsager_energy_per_spin,
    sample_ising, toy_ising_configurations, yang_magnetisation,
)

pytest.importorskip("scipy")


def test_exact_formulas():
    assert T_C == pytest.approx(2.269185314, abs=1e-9)
    # known values: u(T_c) = -√2, and the ground state u(0⁺) = -2, m(0⁺) = 1
    assert onsager_energy_per_spin(T_C - 1e-4)[0] == pytest.approx(-np.sqrt(2), abs=5e-3)
    assert onsager_energy_per_spin(0.2)[0] == pytest.approx(-2.0, abs=1e-6)
    assert yang_magnetisation([0.5, 2.0, 2.5]) == pytest.approx([1.0, 0.911319, 0.0], abs=1e-6)


@pytest.fixture(scope="module")
def samples():
    return sample_ising(32, [1.5, 2.0, 3.0], 64 * 20, equilibration=300, sweeps_between=5, rng=1)


def test_energy_matches_onsager(samples):
    exact = onsager_energy_per_spin(samples.temperatures)
    # statistical error (4σ) plus a finite-size allowance for L = 32
    assert np.all(np.abs(samples.energy - exact) < 4 * samples.energy_err + 0.003), (samples.energy, exact)


def test_magnetisation_matches_yang_below_tc(samples):
    below = samples.temperatures < T_C
    exact = yang_magnetisation(samples.temperatures[below])
    assert np.all(np.abs(samples.magnetisation[below] - exact) < 4 * samples.magnetisation_err[below] + 0.003)
    assert samples.magnetisation[~below][0] < 0.15  # disordered: |m| ~ 1/√N only
    assert samples.binder[0] == pytest.approx(2 / 3, abs=0.01) and samples.binder[-1] < 0.3


def test_small_lattice_matches_exact_enumeration():
    L, T = 4, 2.5
    states = np.array(list(itertools.product([-1, 1], repeat=L * L)), dtype=np.int8).reshape(-1, L, L)
    e = energy_per_spin(states)
    weights = np.exp(-e * L * L / T)
    exact = float((e * weights).sum() / weights.sum())
    exact_m = float((magnetisation_per_spin(states) * weights).sum() / weights.sum())
    rng = np.random.default_rng(0)
    chains = 4000
    spins = np.where(rng.random((chains, L, L)) < 0.5, 1, -1).astype(np.int8)
    sampler = Metropolis(np.full(chains, T), L, rng)
    sampler.sweep(spins, 100)
    measured = []
    for _ in range(20):
        sampler.sweep(spins, 5)
        measured.append([energy_per_spin(spins).mean(), magnetisation_per_spin(spins).mean()])
    measured = np.array(measured)
    error = measured.std(axis=0, ddof=1) / np.sqrt(len(measured))
    assert abs(measured[:, 0].mean() - exact) < 4 * error[0] + 1e-3
    assert abs(measured[:, 1].mean() - exact_m) < 4 * error[1] + 1e-3


def test_configurations_and_observables_have_the_documented_shapes(samples):
    assert samples.configs.shape == (3, 1280, 32, 32) and samples.configs.dtype == np.int8
    assert set(np.unique(samples.configs)) == {-1, 1}
    assert samples.specific_heat.shape == samples.susceptibility.shape == (3,)
    assert samples.susceptibility[1] < samples.susceptibility[2] or samples.specific_heat[1] > samples.specific_heat[0]


def test_binned_error_of_independent_data():
    rng = np.random.default_rng(0)
    series = rng.normal(size=100_000)
    assert binned_error(series, 20) == pytest.approx(1 / np.sqrt(100_000), rel=0.4)


@pytest.mark.parametrize("call, message", [
    (lambda: sample_ising(1, [2.0], 10), "L must be an even integer >= 2"),
    (lambda: sample_ising(7, [2.0], 10), "L must be an even integer >= 2 .*got 7"),
    (lambda: sample_ising(8, [2.0, -1.0], 10), "temperatures must be finite and > 0, got -1.0"),
    (lambda: sample_ising(8, [0.0], 10), "temperatures must be finite and > 0, got 0.0"),
    (lambda: sample_ising(8, [2.0], 0), "n_samples must be > 0, got 0"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_toy_generator_is_labelled_and_shaped():
    X, y = toy_ising_configurations(4, 10, rng=0)
    assert X.shape == (10, 16) and list(y) == [0] * 5 + [1] * 5
    assert "NOT physical" in toy_ising_configurations.__doc__


def test_wolff_clusters_sample_the_exact_distribution():
    from chainrule.datasets.ising_wolff import wolff_cluster

    L, T = 4, 2.5
    states = np.array(list(itertools.product([-1, 1], repeat=L * L)), dtype=np.int8).reshape(-1, L, L)
    e = energy_per_spin(states)
    weights = np.exp(-e * L * L / T)
    exact = float((e * weights).sum() / weights.sum())
    rng = np.random.default_rng(0)
    spins = np.ones((L, L), np.int8)
    for _ in range(100):
        wolff_cluster(spins, T, rng)
    energies = []
    for _ in range(6000):
        wolff_cluster(spins, T, rng)
        energies.append(float(energy_per_spin(spins)))
    energies = np.array(energies)
    assert abs(energies.mean() - exact) < 4 * binned_error(energies, 20) + 1e-3


def test_auto_method_uses_wolff_near_tc():
    a = sample_ising(16, [2.25], 32, equilibration=50, sweeps_between=2, rng=0)
    b = sample_ising(16, [2.25], 32, equilibration=50, sweeps_between=2, rng=0, method="metropolis")
    assert not np.array_equal(a.configs, b.configs)
    with pytest.raises(ValueError, match="method must be"):
        sample_ising(16, [2.25], 4, method="heat-bath")
