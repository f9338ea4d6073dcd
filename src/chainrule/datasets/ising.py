"""The 2-D ferromagnetic Ising model on an L×L square lattice with periodic boundaries
(J = 1, k_B = 1), sampled by Monte Carlo, with the exact results it is validated against.

Metropolis updates use the checkerboard decomposition: the two sublattices are updated in
turn, every site of one sublattice at once, for every chain of a batch at once (each chain
has its own temperature). Acceptance uses ``u < e^{-ΔE/T}`` in its logarithmic form
``E > ΔE/T`` with ``E = -ln u`` an exponential variate, so one comparison per site decides,
with no table lookup. Spins are stored as int8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..initializers import as_generator
from ..validation import check_positive

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))  # Onsager's critical temperature, 2.269185...


def check_temperatures(temperatures) -> np.ndarray:
    """Temperatures as a 1-D float array; each must be finite and > 0."""
    T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    if T.ndim != 1 or T.size == 0:
        raise ValueError(f"temperatures must be a non-empty 1-D list, got shape {T.shape}")
    bad = ~np.isfinite(T) | (T <= 0)
    if bad.any():
        raise ValueError(f"temperatures must be finite and > 0, got {T[bad][0]}")
    return T


def check_lattice(L) -> int:
    L = check_positive("L", L, integer=True)
    if L < 2 or L % 2:
        raise ValueError(f"L must be an even integer >= 2 (checkerboard updates), got {L}")
    return L


def checkerboard(L: int):
    """The two sublattice masks, each of shape (1, L, L)."""
    i, j = np.indices((L, L))
    return [((i + j) % 2 == colour)[None] for colour in (0, 1)]


def neighbour_sum(spins: np.ndarray) -> np.ndarray:
    """Σ of the four nearest neighbours of every site (periodic), shape like ``spins``."""
    total = np.roll(spins, 1, axis=-1)
    total += np.roll(spins, -1, axis=-1)
    total += np.roll(spins, 1, axis=-2)
    total += np.roll(spins, -1, axis=-2)
    return total


class Metropolis:
    """Checkerboard Metropolis sweeps over a batch of chains.

    Parameters
    ----------
    temperatures : array-like, shape (n_chains,)
        Temperature of each chain.
    L : int
        Lattice side (even).
    rng : None, int or Generator
    """

    def __init__(self, temperatures, L: int, rng=None):
        self.T = check_temperatures(temperatures)
        self.L = check_lattice(L)
        self.rng = as_generator(rng)
        self._masks = checkerboard(self.L)
        self._half_T = (self.T / 2.0).astype(np.float32)[:, None, None]  # ΔE/T = 2 s·Σnb / T
        self._variates = np.empty((self.T.size, self.L, self.L), dtype=np.float32)

    def sweep(self, spins: np.ndarray, n: int = 1) -> np.ndarray:
        """``n`` sweeps in place (each site gets one update attempt per sweep)."""
        E = self._variates
        for _ in range(n):
            for mask in self._masks:
                local = neighbour_sum(spins)
                local *= spins  # s·Σnb: the flip costs ΔE = 2 s·Σnb
                self.rng.standard_exponential(out=E, dtype=np.float32)
                E *= self._half_T  # accept when -ln u > ΔE/T, i.e. E·T/2 > s·Σnb
                flip = E > local
                flip &= mask
                np.negative(spins, out=spins, where=flip)
        return spins


def energy_per_spin(spins: np.ndarray) -> np.ndarray:
    """E/N = -(1/N) Σ_<ij> s_i s_j for each configuration, shape spins.shape[:-2]."""
    s = spins.astype(np.int32)
    bonds = s * np.roll(s, 1, axis=-1) + s * np.roll(s, 1, axis=-2)
    return -bonds.sum(axis=(-1, -2)) / (spins.shape[-1] * spins.shape[-2])


def magnetisation_per_spin(spins: np.ndarray) -> np.ndarray:
    """|M|/N for each configuration."""
    return np.abs(spins.astype(np.int32).sum(axis=(-1, -2))) / (spins.shape[-1] * spins.shape[-2])


def binned_error(series: np.ndarray, n_bins: int = 16) -> np.ndarray:
    """Standard error of the mean of a correlated series by binning.

    Parameters
    ----------
    series : ndarray, shape (n_measurements, ...)
        Measurements in time order along axis 0.
    n_bins : int
        Bins of consecutive measurements; each bin mean is treated as independent.
    """
    n = series.shape[0] // n_bins * n_bins
    if n < n_bins or n_bins < 2:
        raise ValueError(f"need at least {n_bins} measurements for {n_bins} bins, got {series.shape[0]}")
    bins = series[:n].reshape(n_bins, n // n_bins, *series.shape[1:]).mean(axis=1)
    return bins.std(axis=0, ddof=1) / math.sqrt(n_bins)


@dataclass
class IsingSamples:
    """Configurations and observables at each temperature.

    Attributes
    ----------
    L : int
    temperatures : ndarray, shape (n_T,)
    configs : ndarray of int8, shape (n_T, n_samples, L, L)
    energy, energy_err, magnetisation, magnetisation_err : ndarray, shape (n_T,)
        Per-spin averages and their binning errors.
    specific_heat, susceptibility, binder : ndarray, shape (n_T,)
        C = N(⟨e²⟩ - ⟨e⟩²)/T², χ = N(⟨m²⟩ - ⟨m⟩²)/T, U = 1 - ⟨m⁴⟩/(3⟨m²⟩²).
    """

    L: int
    temperatures: np.ndarray
    configs: np.ndarray
    energy: np.ndarray
    energy_err: np.ndarray
    magnetisation: np.ndarray
    magnetisation_err: np.ndarray
    specific_heat: np.ndarray
    susceptibility: np.ndarray
    binder: np.ndarray


def sample_ising(L: int, temperatures, n_samples: int, *, equilibration: int = 500, sweeps_between: int = 10,
                 method: str = "auto", wolff_clusters: int = 2, rng=None, progress=None) -> IsingSamples:
    """Metropolis samples of the L×L Ising model at each temperature.

    One chain per sample would be wasteful; instead ``chains = min(n_samples, 64)`` chains per
    temperature run side by side, each started ordered (all +1 or all -1) below T_c and random above,
    equilibrated for ``equilibration`` sweeps, then sampled every ``sweeps_between`` sweeps.

    Parameters
    ----------
    method : {"auto", "metropolis"}
        "auto" adds ``wolff_clusters`` Wolff cluster updates between samples (and 4× as many
        after equilibration) for chains within 0.2 of T_c, where Metropolis alone suffers
        critical slowing down.
    progress : callable(done, total), optional
        Called after each block of sweeps.
    """
    L = check_lattice(L)
    T = check_temperatures(temperatures)
    n_samples = check_positive("n_samples", n_samples, integer=True)
    equilibration = check_positive("equilibration", equilibration, integer=True, allow_zero=True)
    sweeps_between = check_positive("sweeps_between", sweeps_between, integer=True)
    rng = as_generator(rng)
    chains = min(n_samples, 64)
    rounds = -(-n_samples // chains)
    chain_T = np.repeat(T, chains)
    spins = np.where(rng.random((chain_T.size, L, L)) < 0.5, 1, -1).astype(np.int8)
    # ordered start below T_c, with a random sign per chain: the Z2 symmetry of the ensemble
    ordered = chain_T < T_C
    spins[ordered] = np.where(rng.random(int(ordered.sum())) < 0.5, 1, -1).astype(np.int8)[:, None, None]
    if method not in ("auto", "metropolis"):
        raise ValueError(f"method must be 'auto' or 'metropolis', got {method!r}")
    wolff_clusters = check_positive("wolff_clusters", wolff_clusters, integer=True, allow_zero=True)
    critical = np.abs(chain_T - T_C) < 0.2 if method == "auto" and wolff_clusters else np.zeros(chain_T.size, bool)
    sampler = Metropolis(chain_T, L, rng)

    def cluster_updates(n):
        if critical.any():
            from .ising_wolff import wolff_updates

            spins[critical] = wolff_updates(spins[critical], chain_T[critical], n, rng)

    total = equilibration + rounds * sweeps_between
    done = 0
    for start in range(0, equilibration, 50):
        sampler.sweep(spins, min(50, equilibration - start))
        done = min(start + 50, equilibration)
        if progress:
            progress(done, total)
    cluster_updates(4 * wolff_clusters)
    configs = np.empty((T.size, rounds * chains, L, L), dtype=np.int8)
    energies = np.empty((rounds, T.size, chains))
    mags = np.empty((rounds, T.size, chains))
    for r in range(rounds):
        sampler.sweep(spins, sweeps_between)
        cluster_updates(wolff_clusters)
        view = spins.reshape(T.size, chains, L, L)
        configs[:, r * chains:(r + 1) * chains] = view
        energies[r] = energy_per_spin(view)
        mags[r] = magnetisation_per_spin(view)
        if progress:
            progress(done + (r + 1) * sweeps_between, total)
    n_spins = L * L
    e_flat = energies.transpose(1, 0, 2).reshape(T.size, -1)
    m_flat = mags.transpose(1, 0, 2).reshape(T.size, -1)
    chain_means_e = energies.mean(axis=0)  # (n_T, chains): independent chains give honest errors
    chain_means_m = mags.mean(axis=0)
    return IsingSamples(
        L=L,
        temperatures=T,
        configs=configs[:, :n_samples],
        energy=e_flat.mean(axis=1),
        energy_err=_error_over(chain_means_e, energies),
        magnetisation=m_flat.mean(axis=1),
        magnetisation_err=_error_over(chain_means_m, mags),
        specific_heat=n_spins * e_flat.var(axis=1) / T**2,
        susceptibility=n_spins * m_flat.var(axis=1) / T,
        binder=1.0 - (m_flat**4).mean(axis=1) / (3.0 * (m_flat**2).mean(axis=1) ** 2),
    )


def _error_over(chain_means, series):
    """Error of the mean: across independent chains when there are several, else by binning."""
    if chain_means.shape[1] >= 2:
        return chain_means.std(axis=1, ddof=1) / math.sqrt(chain_means.shape[1])
    return binned_error(series[:, :, 0], n_bins=min(16, series.shape[0]))


def onsager_energy_per_spin(T) -> np.ndarray:
    """Exact internal energy per spin of the infinite lattice (Onsager, 1944):
    u = -coth(2β) [1 + (2/π)(2 tanh²(2β) - 1) K(k²)], k = 2 sinh(2β)/cosh²(2β)."""
    from scipy.special import ellipk

    beta = 1.0 / check_temperatures(T)
    k = 2.0 * np.sinh(2 * beta) / np.cosh(2 * beta) ** 2
    return -(1.0 / np.tanh(2 * beta)) * (1.0 + (2.0 / np.pi) * (2.0 * np.tanh(2 * beta) ** 2 - 1.0) * ellipk(k**2))


def yang_magnetisation(T) -> np.ndarray:
    """Exact spontaneous magnetisation per spin (Yang, 1952): (1 - sinh(2/T)^-4)^(1/8) below T_c, 0 above."""
    T = check_temperatures(T)
    with np.errstate(invalid="ignore"):
        m = (1.0 - np.sinh(2.0 / T) ** -4) ** 0.125
    return np.where(T < T_C, m, 0.0)


def toy_ising_configurations(L: int, n_samples: int, rng=None):
    """Seed 002's *fake* Ising data — NOT physical: spins drawn independently, +1 with
    probability 0.9 ("ordered", label 0) or 0.5 ("disordered", label 1). Kept so the seed's
    example runs as written; use ``sample_ising`` for real configurations.

    Returns
    -------
    X : ndarray of int8, shape (n_samples, L*L)
    y : ndarray of int, shape (n_samples,)
    """
    L = check_positive("L", L, integer=True)
    n_samples = check_positive("n_samples", n_samples, integer=True)
    rng = as_generator(rng)
    half = n_samples // 2
    p_up = np.r_[np.full(half, 0.9), np.full(n_samples - half, 0.5)][:, None]
    X = np.where(rng.random((n_samples, L * L)) < p_up, 1, -1).astype(np.int8)
    y = np.r_[np.zeros(half, dtype=np.int64), np.ones(n_samples - half, dtype=np.int64)]
    return X, y
