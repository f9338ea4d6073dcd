"""Configurations of the 2-D Ising model at a grid of temperatures, with observables and
error bars: :func:`sample_ising` and its result :class:`IsingSamples`; and
:func:`measure_autocorrelation`, which measured the correlation times behind the defaults
(:mod:`~chainrule.datasets.ising_schedule`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..initializers import as_generator
from .ising_exact import T_C
from .ising_lattice import (
    check_count,
    check_increasing,
    check_lattice,
    check_temperatures,
    energy_per_spin,
    magnetisation_per_spin,
)
from .ising_metropolis import CheckerboardMetropolis
from .ising_schedule import COST, choose_methods, default_schedule
from .ising_stats import integrated_autocorrelation_time, ising_observables
from .ising_wolff import WolffSampler

__all__ = ["MAX_SPIN_UPDATES", "METHODS", "IsingSamples", "initial_spins", "make_sampler", "measure_autocorrelation", "sample_ising"]

METHODS = ("auto", "metropolis", "wolff")
#: The most spin updates :func:`sample_ising` accepts to run (a Wolff sweep-equivalent counted
#: ``COST["wolff"]`` times a Metropolis sweep, its cost): 10¹² is about 48 minutes at ~350 M
#: Metropolis attempts per second. Larger requests are refused before any work, not left to
#: run for days (an equilibration of 10¹⁵ sweeps was accepted and ran silently).
MAX_SPIN_UPDATES = 10**12


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
            out[methods == method] = _sweeps(f"{name}[{method!r}]", sweeps, minimum)
        return out
    return np.full(default.size, _sweeps(name, value, minimum), dtype=np.int64)


def _sweeps(name: str, value, minimum: int) -> int:
    """A sweep count, refused (before it could overflow int64) where it alone exceeds the work
    bound: every sweep updates at least the 4 spins of a 2×2 lattice."""
    value = check_count(name, value, minimum=minimum)
    if value > MAX_SPIN_UPDATES:
        raise ValueError(f"{name} = {value} sweeps: at least {4.0 * value:.2g} spin updates, more than the "
                         f"{MAX_SPIN_UPDATES:.0e} allowed (about {MAX_SPIN_UPDATES / 3.5e8 / 60:.0f} minutes at ~350 M updates/s)")
    return value


def spin_updates(L: int, n_samples: int, chains: int, methods, equilibration, sweeps_between) -> float:
    """The spin updates :func:`sample_ising` would run: for each temperature, ``chains`` chains of
    L² spins for ``equilibration + ceil(n_samples / chains) · sweeps_between`` sweeps, a Wolff
    sweep-equivalent counted ``COST["wolff"]`` times (its cost relative to a Metropolis sweep).

    Returns
    -------
    float
        Computed in floating point, so that absurd requests cannot overflow.
    """
    rounds = -(-n_samples // chains)
    cost = np.array([COST[str(m)] for m in np.asarray(methods)], dtype=float)
    sweeps = np.asarray(equilibration, dtype=float) + rounds * np.asarray(sweeps_between, dtype=float)
    return float(L) * L * chains * float(np.sum(cost * sweeps))


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
                 progress=None, max_spin_updates: float = MAX_SPIN_UPDATES) -> IsingSamples:
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
        Finite, > 0 and strictly increasing (units of J / k_B; T_c = 2.269185): the result is
        a dataset with one block of configurations per temperature, which the classifiers
        read as an increasing grid.
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
        "auto": Wolff cluster updates within :data:`~chainrule.datasets.ising_schedule.WOLFF_WINDOW` of T_c, where Metropolis
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
    max_spin_updates : float
        Refuse, before any work, runs estimated (:func:`spin_updates`) to make more spin
        updates than this (default :data:`MAX_SPIN_UPDATES`, about 48 minutes).

    Returns
    -------
    IsingSamples
        ``configs`` of shape (n_T, n_samples, L, L), int8, and the observables per temperature.

    Raises
    ------
    ValueError
        For L < 2 or odd, temperatures that are not finite and > 0 or not strictly increasing,
        counts < 1, an unknown method, or an estimated work above ``max_spin_updates``.
    """
    L = check_lattice(L)
    T = check_increasing(check_temperatures(temperatures))
    n_samples = check_count("n_samples", n_samples)
    method = check_method(method)
    chains = min(n_samples, 64) if chains is None else check_count("chains", chains)
    methods = choose_methods(T, method)
    default_equilibration, default_between = default_schedule(L, T, methods)
    equilibration = _schedule("equilibration", equilibration, default_equilibration, methods, minimum=0)
    sweeps_between = _schedule("sweeps_between", sweeps_between, default_between, methods, minimum=1)
    work = spin_updates(L, n_samples, chains, methods, equilibration, sweeps_between)
    if work > max_spin_updates:
        raise ValueError(f"this run would make about {work:.2g} spin updates ({T.size} temperature"
                         f"{'s' if T.size != 1 else ''} × {chains} chains × {L}² spins × (equilibration + "
                         f"{-(-n_samples // chains)} sample rounds × sweeps between them), Wolff counted "
                         f"{COST['wolff']}× for its cost), more than the {max_spin_updates:.0e} allowed (about "
                         f"{max_spin_updates / 3.5e8 / 60:.2g} minutes at ~350 M updates/s); ask for fewer sweeps "
                         "or samples")
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
        _equilibrate(sampler, n_eq, lambda sweeps, name=name, n=chain_T.size: report(name, sweeps, n))
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
