"""How long to run the Ising samplers: which update to use at each temperature ("auto"), and
the default equilibration and sweeps between samples, derived from the integrated
autocorrelation times measured with :func:`~chainrule.datasets.ising_sampler.measure_autocorrelation`
(the table below)."""

from __future__ import annotations

import numpy as np

from .ising_exact import T_C
from .ising_lattice import check_temperatures

__all__ = ["COST", "WOLFF_WINDOW", "choose_methods", "default_schedule", "metropolis_tau"]


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
