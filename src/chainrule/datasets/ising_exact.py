"""Exact results for the 2-D ferromagnetic Ising model (J = 1, k_B = 1) that the Monte Carlo
samplers are validated against: Onsager's critical temperature and internal energy of the
infinite lattice, Yang's spontaneous magnetisation, and brute-force enumeration of every
state of a tiny periodic lattice (finite-size exact, for detailed-balance checks)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .ising_lattice import check_temperatures, energy_per_spin, magnetisation_per_spin

__all__ = ["T_C", "exact_enumeration", "onsager_energy_per_spin", "yang_magnetisation"]

#: Onsager's critical temperature 2 / ln(1 + √2) = 2.269185314...
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def onsager_energy_per_spin(T) -> np.ndarray:
    """Internal energy per spin of the infinite lattice (Onsager, 1944).

    u(T) = -coth(2β) [1 + (2/π)(2 tanh²(2β) - 1) K(k²)],  k = 2 sinh(2β) / cosh²(2β),
    with K the complete elliptic integral of the first kind, K(m) = ∫_0^{π/2} dθ (1 - m sin²θ)^{-1/2}.
    SciPy's ``ellipk`` takes the *parameter* m = k² (not the modulus k), which is what is passed.
    At T_c, k = 1 and K diverges, but its prefactor 2 tanh²(2β_c) - 1 vanishes and u = -√2.

    Parameters
    ----------
    T : float or array-like, shape (n,)
        Temperatures, finite and > 0.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    from scipy.special import (
        ellipk,  # imported lazily: SciPy is only needed for the exact results
    )

    x = 2.0 / check_temperatures(T)  # 2β
    sech = 2.0 * np.exp(-x) / (1.0 + np.exp(-2.0 * x))  # 1/cosh without overflow at low T
    k = 2.0 * np.tanh(x) * sech
    factor = 2.0 * np.tanh(x) ** 2 - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        K = ellipk(np.minimum(k * k, 1.0))
        term = np.where(np.isfinite(K), factor * K, 0.0)  # at T_c: 0 · ∞ -> 0 (the limit)
    return -(1.0 / np.tanh(x)) * (1.0 + (2.0 / np.pi) * term)


def yang_magnetisation(T) -> np.ndarray:
    """Spontaneous magnetisation per spin of the infinite lattice (Yang, 1952).

    m(T) = (1 - sinh(2/T)^-4)^(1/8) for T < T_c, and 0 for T >= T_c.

    Parameters
    ----------
    T : float or array-like, shape (n,)

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    T = check_temperatures(T)
    below = T < T_C
    m = np.zeros_like(T)
    x = 2.0 / T[below]
    inverse_sinh4 = 16.0 * np.exp(-4.0 * x) / (1.0 - np.exp(-2.0 * x)) ** 4  # sinh(x)^-4, no overflow
    m[below] = (1.0 - inverse_sinh4) ** 0.125
    return m


def exact_enumeration(L: int, T) -> dict:
    """Exact Boltzmann averages on an L×L periodic lattice by summing over all 2^(L²) states.

    Parameters
    ----------
    L : int
        2, 3 or 4 (4 means 65 536 states).
    T : float or array-like, shape (n_T,)

    Returns
    -------
    dict
        ``levels`` (distinct energies per spin, shape (n_levels,)), ``probabilities``
        (shape (n_T, n_levels), the exact energy histogram), ``energy``, ``energy2``,
        ``abs_magnetisation``, ``magnetisation2``, ``magnetisation4`` (shape (n_T,), the
        exact averages of e, e², |m|, m², m⁴ per spin).
    """
    if L not in (2, 3, 4):
        raise ValueError(f"exact enumeration is for L in (2, 3, 4), got {L!r}")
    T = check_temperatures(T)
    states = np.array(list(itertools.product((-1, 1), repeat=L * L)), dtype=np.int8).reshape(-1, L, L)
    e = energy_per_spin(states)
    m = magnetisation_per_spin(states)
    log_w = -np.outer(1.0 / T, e) * (L * L)
    log_w -= log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w)
    w /= w.sum(axis=1, keepdims=True)
    levels, index = np.unique(np.round(e, 12), return_inverse=True)
    probabilities = np.zeros((T.size, levels.size))
    for t in range(T.size):
        probabilities[t] = np.bincount(index, weights=w[t], minlength=levels.size)
    return {
        "levels": levels, "probabilities": probabilities,
        "energy": w @ e, "energy2": w @ e**2,
        "abs_magnetisation": w @ m, "magnetisation2": w @ m**2, "magnetisation4": w @ m**4,
    }
