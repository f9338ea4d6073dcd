"""Configurations of the 2-D Ising model at a grid of temperatures, with observables and
error bars: :func:`sample_ising` and its result :class:`IsingSamples`; and
:func:`measure_autocorrelation`, which measured the correlation times behind the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..initializers import as_generator
from .ising_wolff import WolffSampler
from .ising_exact import T_C
from .ising_lattice import check_count, check_lattice, check_temperatures, energy_per_spin, magnetisation_per_spin
from .ising_metropolis import CheckerboardMetropolis
from .ising_stats import integrated_autocorrelation_time, ising_observables

__all__ = ["IsingSamples", "METHODS", "WOLFF_WINDOW", "default_schedule", "initial_spins", "make_sampler",
           "measure_autocorrelation", "metropolis_tau", "sample_ising"]

METHODS = ("auto", "metropolis", "wolff")


@dataclass
class IsingSamples:
    """Monte Carlo configurations and observables at each temperature.

    Attributes
    ----------
    L : int
        Lattice side.
    temperatures : ndarray of float64, shape (n_T,)
    configs : ndarray of int8, shape (n_T, n_samples, L, L)
        Configurations (±1) at each temperature.
    energy, energy_err : ndarray, shape (n_T,)
        ⟨e⟩, the energy per spin, and its standard error.
    magnetisation, magnetisation_err : ndarray, shape (n_T,)
        ⟨|m|⟩, the absolute magnetisation per spin, and its error.
    specific_heat, specific_heat_err : ndarray, shape (n_T,)
        C = N(⟨e²⟩ - ⟨e⟩²)/T² per spin.
    susceptibility, susceptibility_err : ndarray, shape (n_T,)
        χ = N(⟨m²⟩ - ⟨|m|⟩²)/T per spin.
    binder, binder_err : ndarray, shape (n_T,)
        U = 1 - ⟨m⁴⟩/(3⟨m²⟩²): 2/3 in the ordered phase, 0 in the disordered limit.
    method : ndarray of str, shape (n_T,)
        "metropolis" or "wolff", the update used at each temperature.
    equilibration, sweeps_between : ndarray of int64, shape (n_T,)
        Sweeps (Wolff: sweep-equivalents, see :class:`~chainrule.datasets.ising_wolff.WolffSampler`)
        before the first sample and between samples of a chain.
    chains : int
        Independent chains per temperature; the samples of a temperature come from
        ``ceil(n_samples / chains)`` rounds of all its chains.

    All errors are jackknife errors over bins that are independent chains (or, with fewer
    than 16 chains, blocks of a blocking analysis); observables use every measurement taken,
    which can be a few more than ``n_samples`` when ``chains`` does not divide it.
    """

    L: int
    temperatures: np.ndarray
    configs: np.ndarray
    energy: np.ndarray
    energy_err: np.ndarray
    magnetisation: np.ndarray
    magnetisation_err: np.ndarray
    specific_heat: np.ndarray
    specific_heat_err: np.ndarray
    susceptibility: np.ndarray
    susceptibility_err: np.ndarray
    binder: np.ndarray
    binder_err: np.ndarray
    method: np.ndarray
    equilibration: np.ndarray
    sweeps_between: np.ndarray
    chains: int

    @property
    def n_samples(self) -> int:
        return self.configs.shape[1]

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Configurations as network inputs.

        Returns
        -------
        X : ndarray of int8, shape (n_T * n_samples, L * L)
        T : ndarray of float64, shape (n_T * n_samples,)
            The temperature of each row.
        """
        n_T, n = self.configs.shape[:2]
        return self.configs.reshape(n_T * n, self.L * self.L), np.repeat(self.temperatures, n)


def check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    return method


def choose_methods(temperatures: np.ndarray, method: str) -> np.ndarray:
    """The update used at each temperature: for "auto", Wolff within :data:`WOLFF_WINDOW` of T_c."""
    if method != "auto":
        return np.full(temperatures.size, method, dtype="<U10")
    return np.where(np.abs(temperatures - T_C) < WOLFF_WINDOW, "wolff", "metropolis").astype("<U10")


#: "auto" uses Wolff for |T - T_c| < WOLFF_WINDOW and Metropolis elsewhere. At the window's
#: edges Metropolis needs 2τ ≈ 20-60 sweeps per independent sample (table below), which at
#: ~350 M attempts/s costs less than Wolff's 2τ ≈ 3 sweep-equivalents at ~5 M flips/s; inside,
#: Metropolis' τ grows like L^2.17 (73 sweeps at L = 32, 188 at L = 64, T = 2.3) while
#: Wolff's stays below 2 sweep-equivalents.
WOLFF_WINDOW = 0.2

# Integrated autocorrelation times measured with measure_autocorrelation (8 chains per T,
# 4000-6000 sweeps for Metropolis, 1000 sweep-equivalents for Wolff; seeds 0 and 1), in sweeps:
#
#   T      Metropolis L=32     Metropolis L=64     Wolff L=32
#          tau_e   tau_|m|     tau_e   tau_|m|     tau_e  tau_|m|  clusters/sweep
#   1.0    0.53    0.53
#   1.5    0.72    0.80
#   1.8    1.09    1.63        1.09    1.55        0.79   0.80     1
#   1.9    1.31    1.94        1.32    2.16        0.82   0.82     1
#   2.0    1.99    5.15        1.94    4.12        1.01   1.00     1
#   2.05   2.10    4.39        2.47    8.46
#   2.07   2.67    7.66        2.69    8.23
#   2.1    3.09    9.32        2.77    8.51        1.33   1.18     1
#   2.2    6.90    21.5        8.68    35.3        1.19   1.06     2
#   2.3    30.4    72.8        57.0    188         1.73   1.21     3
#   2.4    9.30    31.9        6.53    42.6        1.30   0.63     7
#   2.45   5.69    25.8        4.88    36.3
#   2.47   4.74    21.5        4.56    29.8
#   2.5    3.76    17.5        3.57    18.1        1.04   0.53     17
#   2.6    2.18    8.57        2.26    10.1        0.93   0.52     28
#   2.7    1.62    6.15        1.66    5.80        0.88   0.52     43
#   2.8    1.41    4.34        1.36    4.01
#   3.0    1.00    2.33
#   3.5    0.71    1.27
#
# τ of |m| is the larger one; away from T_c it no longer depends on L. Metropolis samples are
# taken 2τ_|m| apart, τ taken as the larger of L = 32 and 64 at the two tabulated temperatures
# around T (τ is unimodal in T, so that bounds it), rounded up to one of METROPOLIS_LEVELS so
# that few batches form. Wolff's τ ≤ 1.73 sweep-equivalents everywhere measured: 4 = ceil(2τ).
# Metropolis forced into the window gets max(20, L²/4) sweeps (≥ 2τ at T = 2.3: 146 at L = 32,
# 376 at L = 64) after max(500, 5 L²). Equilibration: from the starts used (ordered with a
# random sign below T_c and for every Wolff chain, random above T_c for Metropolis) e and |m|
# reached equilibrium within 50 sweeps (Metropolis, L = 32 and 64, outside the window) and 10
# sweep-equivalents (Wolff, L = 32, T = 2.27-2.5); the defaults are 10× and 5× that.
METROPOLIS_TAU = np.array([
    (1.0, 0.53), (1.1, 0.59), (1.2, 0.59), (1.3, 0.64), (1.4, 0.69), (1.5, 0.80), (1.6, 0.87), (1.7, 1.18),
    (1.8, 1.63), (1.9, 2.16), (2.0, 5.15), (2.05, 8.46), (2.07, 8.23), (2.1, 9.32), (2.2, 35.3), (2.3, 188.0),
    (2.4, 42.6), (2.45, 36.3), (2.47, 29.8), (2.5, 18.1), (2.6, 10.1), (2.7, 6.15), (2.8, 4.34), (2.9, 3.18),
    (3.0, 2.33), (3.1, 2.02), (3.2, 1.73), (3.3, 1.54), (3.4, 1.32), (3.5, 1.27),
])
METROPOLIS_LEVELS = (2, 5, 10, 20, 40, 80)
METROPOLIS_EQUILIBRATION = 500
WOLFF_BETWEEN, WOLFF_EQUILIBRATION = 4, 50

#: Relative cost of a sweep (-equivalent) per chain, for progress reports: ~350 M Metropolis
#: attempts/s against ~5 M Wolff spin flips/s.
COST = {"metropolis": 1, "wolff": 70}


def metropolis_tau(temperatures) -> np.ndarray:
    """Upper bound on Metropolis' τ_int of |m| (sweeps) from the measured table: the larger
    value at the two tabulated temperatures around each T (the end values beyond the table).

    Parameters
    ----------
    temperatures : ndarray, shape (n_T,)

    Returns
    -------
    ndarray, shape (n_T,)
    """
    grid, tau = METROPOLIS_TAU[:, 0], METROPOLIS_TAU[:, 1]
    T = np.asarray(temperatures, dtype=np.float64)
    right = np.clip(np.searchsorted(grid, T), 0, grid.size - 1)
    left = np.clip(np.searchsorted(grid, T, side="right") - 1, 0, grid.size - 1)
    return np.maximum(tau[left], tau[right])


def default_schedule(L: int, temperatures, method) -> tuple[np.ndarray, np.ndarray]:
    """Default equilibration and sweeps between samples at each temperature, from the
    autocorrelation times measured by :func:`measure_autocorrelation` (table in the source).

    Parameters
    ----------
    L : int
    temperatures : array-like, shape (n_T,)
    method : str or array-like of str, shape (n_T,)
        "metropolis" or "wolff" per temperature (or one for all).

    Returns
    -------
    equilibration, sweeps_between : ndarray of int64, shape (n_T,)
        Sweeps (Wolff: sweep-equivalents).
    """
    T = check_temperatures(temperatures)
    method = np.broadcast_to(np.asarray(method), T.shape)
    critical = np.abs(T - T_C) < WOLFF_WINDOW
    levels = np.array(METROPOLIS_LEVELS)
    wanted = 2 * metropolis_tau(T)
    tabulated = levels[np.minimum(np.searchsorted(levels, wanted), levels.size - 1)]
    metropolis_between = np.where(critical, max(20, L * L // 4), tabulated)
    metropolis_equilibration = np.where(critical, max(METROPOLIS_EQUILIBRATION, 5 * L * L), METROPOLIS_EQUILIBRATION)
    wolff = method == "wolff"
    equilibration = np.where(wolff, WOLFF_EQUILIBRATION, metropolis_equilibration).astype(np.int64)
    between = np.where(wolff, WOLFF_BETWEEN, metropolis_between).astype(np.int64)
    return equilibration, between


def initial_spins(temperatures: np.ndarray, L: int, rng, *, ordered=None) -> np.ndarray:
    """Starting configurations: ordered with a random sign where ``ordered`` (default: below
    T_c), random elsewhere.

    Returns
    -------
    ndarray of int8, shape (n_chains, L, L)
    """
    n = temperatures.size
    spins = np.where(rng.random((n, L, L)) < 0.5, 1, -1).astype(np.int8)
    ordered = temperatures < T_C if ordered is None else np.broadcast_to(ordered, (n,))
    signs = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    spins[ordered] = signs[ordered, None, None]
    return spins


def make_sampler(method: str, temperatures: np.ndarray, L: int, rng):
    """A :class:`CheckerboardMetropolis` or :class:`WolffSampler` over chains at ``temperatures``,
    started ordered (random sign) below T_c and random above — except that Wolff chains all
    start ordered: they equilibrate from order in a few sweeps, from disorder in ~50."""
    if method == "wolff":
        return WolffSampler(initial_spins(temperatures, L, rng, ordered=True), temperatures, rng)
    return CheckerboardMetropolis(initial_spins(temperatures, L, rng), temperatures, rng)


def _schedule(name: str, value, default: np.ndarray, methods: np.ndarray, *, minimum: int) -> np.ndarray:
    """Sweeps per temperature from None (the defaults), an int (every temperature) or a
    mapping {method: int} (defaults for methods not named)."""
    if value is None:
        return default.copy()
    if isinstance(value, Mapping):
        unknown = set(value) - {"metropolis", "wolff"}
        if unknown:
            raise ValueError(f"{name} keys must be 'metropolis' or 'wolff', got {sorted(map(str, unknown))}")
        out = default.copy()
        for method, sweeps in value.items():
            out[methods == method] = check_count(f"{name}[{method!r}]", sweeps, minimum=minimum)
        return out
    return np.full(default.size, check_count(name, value, minimum=minimum), dtype=np.int64)


def _equilibrate(sampler, n: int, report) -> None:
    if isinstance(sampler, WolffSampler):
        sampler.equilibrate(n)
        report(n)
        return
    for start in range(0, n, 50):
        sampler.sweep(min(50, n - start))
        report(min(50, n - start))


def sample_ising(L: int, temperatures, n_samples: int, *, sweeps_between=None, equilibration=None,
                 method: str = "auto", chains: int | None = None, global_flip: bool = True, rng=None,
                 progress=None) -> IsingSamples:
    """Sample configurations of the L×L Ising model at each temperature.

    ``chains`` independent chains per temperature run side by side (all temperatures in one
    vectorised batch per update method). Each starts ordered (random sign) below T_c and
    random above, is equilibrated, then sampled every ``sweeps_between`` sweeps until
    ``n_samples`` configurations per temperature are collected.

    Parameters
    ----------
    L : int
        Lattice side, even, >= 2.
    temperatures : array-like of float, shape (n_T,)
        Finite and > 0 (units of J / k_B; T_c = 2.269185).
    n_samples : int
        Configurations to keep per temperature, >= 1.
    sweeps_between : int or dict, optional
        Sweeps between samples of a chain (Wolff: sweep-equivalents, clusters flipping about
        L² spins). An int applies to every temperature — beware that a Wolff sweep costs ~70
        Metropolis sweeps; a dict such as ``{"metropolis": 50}`` sets only the methods it
        names. Default: :func:`default_schedule`, from measured autocorrelation times.
    equilibration : int or dict, optional
        Sweeps before the first sample, as for ``sweeps_between``. Default:
        :func:`default_schedule`.
    method : {"auto", "metropolis", "wolff"}
        "auto": Wolff cluster updates within :data:`WOLFF_WINDOW` of T_c, where Metropolis
        suffers critical slowing down, and checkerboard Metropolis elsewhere.
    chains : int, optional
        Chains per temperature; default ``min(n_samples, 64)``.
    global_flip : bool
        Before each sample, reverse all spins of a chain with probability 1/2 — a valid Monte
        Carlo move (ΔE = 0) that gives the ordered phase both signs of the magnetisation with
        equal weight, as the Boltzmann distribution of a finite lattice does.
    rng : None, int or numpy.random.Generator
        Seed for reproducible samples.
    progress : callable(done, total), optional
        Called as work completes, in units proportional to the expected time (a Metropolis
        sweep of one chain counts 1, a Wolff sweep-equivalent ``COST["wolff"]``); for
        progress bars. Nothing is printed.

    Returns
    -------
    IsingSamples
        ``configs`` of shape (n_T, n_samples, L, L), int8, and the observables per temperature.

    Raises
    ------
    ValueError
        For L < 2 or odd, temperatures that are not finite and > 0, counts < 1, an unknown
        method.
    """
    L = check_lattice(L)
    T = check_temperatures(temperatures)
    n_samples = check_count("n_samples", n_samples)
    method = check_method(method)
    chains = min(n_samples, 64) if chains is None else check_count("chains", chains)
    methods = choose_methods(T, method)
    default_equilibration, default_between = default_schedule(L, T, methods)
    equilibration = _schedule("equilibration", equilibration, default_equilibration, methods, minimum=0)
    sweeps_between = _schedule("sweeps_between", sweeps_between, default_between, methods, minimum=1)
    rng = as_generator(rng)
    rounds = -(-n_samples // chains)
    # temperatures sharing an update method and a schedule run as one vectorised batch
    batches: dict[tuple, list] = {}
    for t in range(T.size):
        batches.setdefault((str(methods[t]), int(equilibration[t]), int(sweeps_between[t])), []).append(t)
    groups = [(key, np.array(batches[key])) for key in sorted(batches)]
    total = sum(COST[name] * index.size * chains * (n_eq + rounds * between) for (name, n_eq, between), index in groups)
    done = 0

    def report(name, sweeps, n_chains):
        nonlocal done
        done += COST[name] * sweeps * n_chains
        if progress is not None:
            progress(done, total)

    configs = np.empty((T.size, rounds * chains, L, L), dtype=np.int8)
    energies = np.empty((rounds, chains, T.size))
    magnetisations = np.empty((rounds, chains, T.size))
    for (name, n_eq, between), index in groups:
        chain_T = np.repeat(T[index], chains)
        sampler = make_sampler(name, chain_T, L, rng)
        _equilibrate(sampler, n_eq, lambda sweeps: report(name, sweeps, chain_T.size))
        for r in range(rounds):
            sampler.sweep(between)
            if global_flip:
                sampler.flip_chains(rng.random(chain_T.size) < 0.5)
            spins = sampler.spins.reshape(index.size, chains, L, L)
            configs[index, r * chains:(r + 1) * chains] = spins
            energies[r, :, index] = energy_per_spin(spins)
            magnetisations[r, :, index] = magnetisation_per_spin(spins, signed=True)
            report(name, between, chain_T.size)
    observables = ising_observables(energies, magnetisations, T, L)
    observables.pop("block")
    return IsingSamples(L=L, temperatures=T, configs=configs[:, :n_samples], method=methods,
                        equilibration=equilibration, sweeps_between=sweeps_between, chains=chains, **observables)


def measure_autocorrelation(L: int, temperatures, *, method: str = "metropolis", n_measurements: int = 4000,
                            chains: int = 8, equilibration: int | None = None, rng=None) -> dict:
    """Integrated autocorrelation times of the energy and of |m|, measured after every sweep.

    Parameters
    ----------
    L : int
    temperatures : array-like, shape (n_T,)
    method : {"metropolis", "wolff"}
    n_measurements : int
        Sweeps (Wolff: sweep-equivalents) measured, one measurement each.
    chains : int
        Independent chains per temperature, pooled in the autocorrelation function.
    equilibration : int, optional
        Default: 5 × the :func:`default_schedule` value.
    rng : None, int or Generator

    Returns
    -------
    dict of ndarrays, shape (n_T,)
        ``tau_energy``, ``tau_energy_err``, ``tau_magnetisation``, ``tau_magnetisation_err``
        (in sweeps; Wolff: sweep-equivalents) and, for Wolff, ``clusters_per_sweep``.
    """
    L = check_lattice(L)
    T = check_temperatures(temperatures)
    if method not in ("metropolis", "wolff"):
        raise ValueError(f"method must be 'metropolis' or 'wolff', got {method!r}")
    n_measurements = check_count("n_measurements", n_measurements, minimum=4)
    chains = check_count("chains", chains)
    rng = as_generator(rng)
    if equilibration is None:
        equilibration = 5 * int(default_schedule(L, T, method)[0].max())
    chain_T = np.repeat(T, chains)
    sampler = make_sampler(method, chain_T, L, rng)
    _equilibrate(sampler, equilibration, lambda sweeps: None)
    e = np.empty((n_measurements, T.size, chains))
    m = np.empty_like(e)
    for t in range(n_measurements):
        sampler.sweep(1)
        spins = sampler.spins.reshape(T.size, chains, L, L)
        e[t] = energy_per_spin(spins)
        m[t] = magnetisation_per_spin(spins)
    result = {}
    for name, series in (("energy", e), ("magnetisation", m)):
        tau, err = integrated_autocorrelation_time(series.transpose(0, 2, 1))  # (n_t, chains, n_T)
        result[f"tau_{name}"], result[f"tau_{name}_err"] = np.atleast_1d(tau), np.atleast_1d(err)
    if method == "wolff":
        result["clusters_per_sweep"] = sampler.clusters_per_sweep.reshape(T.size, chains)[:, 0]
    return result
