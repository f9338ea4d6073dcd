"""How long to run the Ising samplers: which update to use at each temperature ("auto"), and
the default equilibration and sweeps between samples, derived from the integrated
autocorrelation times measured with :func:`~chainrule.datasets.ising_sampler.measure_autocorrelation`
(the table below)."""

from __future__ import annotations

import numpy as np

from .ising_exact import T_C
from .ising_lattice import check_temperatures

__all__ = ["COST", "WOLFF_WINDOW", "choose_methods", "default_schedule", "metropolis_tau", "wolff_between"]


def choose_methods(temperatures: np.ndarray, method: str) -> np.ndarray:
    """The update used at each temperature: for "auto", Wolff within :data:`WOLFF_WINDOW` of T_c."""
    if method != "auto":
        return np.full(temperatures.size, method, dtype="<U10")
    return np.where(np.abs(temperatures - T_C) < WOLFF_WINDOW, "wolff", "metropolis").astype("<U10")


#: "auto" uses Wolff for |T - T_c| < WOLFF_WINDOW and Metropolis elsewhere. At the window's
#: edges Metropolis needs 2τ ≈ 20-60 sweeps per independent sample (table below), which at
#: ~350 M attempts/s costs less than Wolff's 2τ ≈ 4 sweep-equivalents at ~5 M flips/s; inside,
#: Metropolis' τ_|m| at T = 2.3 went from 73 sweeps at L = 32 to 188 at L = 64 (a factor 2.6,
#: L^1.37 between these two sizes; T = 2.3 is off T_c at both sizes, so this is not the
#: dynamic exponent z ≈ 2.17 of Metropolis at T_c, and at larger L the growth is steeper)
#: while Wolff's stayed at 1-2 sweep-equivalents at L = 16-32 and ~2-3 at L = 64.
WOLFF_WINDOW = 0.2

# Integrated autocorrelation times measured with measure_autocorrelation (8 chains per T,
# 4000-6000 sweeps for Metropolis, 1000 sweep-equivalents for Wolff; seeds 0 and 1; the rows
# 2.05 and 2.07 and those above 3.5 were remeasured with seeds 0-2), in sweeps:
#
#   T      Metropolis L=32     Metropolis L=64     Wolff L=32
#          tau_e   tau_|m|     tau_e   tau_|m|     tau_e  tau_|m|  clusters/sweep
#   1.0    0.53    0.53
#   1.5    0.72    0.80
#   1.8    1.09    1.63        1.09    1.55        0.79   0.80     1
#   1.9    1.31    1.94        1.32    2.16        0.82   0.82     1
#   2.0    1.99    5.15        1.94    4.12        1.01   1.00     1
#   2.05   2.10    4.39        2.47    8.46    (remeasured at L = 32, seeds 0-2: τ_|m| 5.3, 7.7,
#   2.07   2.67    7.66        2.69    8.23     6.0 at 2.05 and 13.1, 7.3, 6.0 at 2.07; the audit's
#                                               own estimator gave 17.8, 5.8, 4.7 at 2.05. Rare
#                                               reversals of m, which pass through |m| ≈ 0, make
#                                               τ_|m| heavy-tailed here; METROPOLIS_TAU takes the
#                                               largest seen, 17.8 and 13.1)
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
#   4      0.58    0.86        (L = 32 from here on, seeds 0-2, the largest of the three;
#   5      0.51    0.67         at 3.5 they gave 0.70 and 1.26)
#   7      0.54    0.57
#   10     0.67    0.64
#   20     1.24    0.98
#   50     3.02    2.56
#   100    5.91    5.29
#   1000   56.7    54.6
#
# Above T ≈ 20 Metropolis slows down again: almost every proposed flip is accepted, so a
# checkerboard sweep reverses nearly every spin, and reversing every spin leaves e unchanged;
# τ_e grows about ∝ T (5.9 at T = 100, 57 at T = 1000). Above 3.5 METROPOLIS_TAU takes the
# larger of τ_e and τ_|m| (τ_e from T = 20 on) up to T = 1000, where samples are 120 sweeps
# apart (2τ = 113); beyond T = 1000 nothing was measured and the spacing stays 120 sweeps, so at T = 10⁴ (τ ≈ 570 if ∝ T) the n
# samples are worth only about n · 120 / (2 · 0.057 T) independent ones. Near T_c the table's
# Wolff column is L = 32 only: at L = 16, T = 2.35 τ_e was 1.96 and 1.78 (seeds 0, 1), and at
# L = 64, T_c, 1.73 and 2.42 ± 0.26 (seeds 0, 1; 600 sweep-equivalents) and ≈ 3 with the
# independent estimator — hence the spacing by L (wolff_between).
#
# Up to T ≈ 10 τ of |m| is the larger one; away from T_c it no longer depends on L. Metropolis samples are
# taken 2τ_|m| apart, τ taken as the larger of L = 32 and 64 at the two tabulated temperatures
# around T (τ is unimodal in T up to T ≈ 10, so that bounds it there; above, the table follows
# the slow rise), rounded up to one of METROPOLIS_LEVELS so that few batches form. Wolff's τ was
# ≤ 1.96 sweep-equivalents at L = 16 and 32 (4 = ceil(2τ)) and up to ≈ 3 at L = 64 (6); beyond
# L = 64 nothing was measured and the spacing grows as L^0.25 from 6 (Wolff's dynamic exponent
# in sweep units in 2-D, z ≈ 0.25 in the literature), an extrapolation, not a measurement.
# Metropolis forced into the window gets max(20, L²/4) sweeps (≥ 2τ at T = 2.3: 146 at L = 32,
# 376 at L = 64) after max(500, 5 L²). Equilibration: from the starts used (ordered with a
# random sign below T_c and for every Wolff chain, random above T_c for Metropolis) e and |m|
# reached equilibrium within 50 sweeps (Metropolis, L = 32 and 64, outside the window) and 10
# sweep-equivalents (Wolff, L = 32, T = 2.27-2.5); the defaults are 10× and 5× that.
METROPOLIS_TAU = np.array([
    (1.0, 0.53), (1.1, 0.59), (1.2, 0.59), (1.3, 0.64), (1.4, 0.69), (1.5, 0.80), (1.6, 0.87), (1.7, 1.18),
    (1.8, 1.63), (1.9, 2.16), (2.0, 5.15), (2.05, 17.8), (2.07, 13.1), (2.1, 9.32), (2.2, 35.3), (2.3, 188.0),
    (2.4, 42.6), (2.45, 36.3), (2.47, 29.8), (2.5, 18.1), (2.6, 10.1), (2.7, 6.15), (2.8, 4.34), (2.9, 3.18),
    (3.0, 2.33), (3.1, 2.02), (3.2, 1.73), (3.3, 1.54), (3.4, 1.32), (3.5, 1.27), (4.0, 0.86), (5.0, 0.67),
    (7.0, 0.57), (10.0, 0.67), (20.0, 1.24), (50.0, 3.02), (100.0, 5.91), (1000.0, 56.7),
])
METROPOLIS_LEVELS = (2, 5, 10, 20, 40, 80, 120)
METROPOLIS_EQUILIBRATION = 500
WOLFF_BETWEEN, WOLFF_EQUILIBRATION = 4, 50
#: Wolff sweep-equivalents between samples for 32 < L <= 64 (beyond: :func:`wolff_between`).
WOLFF_BETWEEN_64 = 6


def wolff_between(L: int) -> int:
    """Wolff sweep-equivalents between samples: :data:`WOLFF_BETWEEN` (4) up to L = 32 and
    :data:`WOLFF_BETWEEN_64` (6) up to 64, from the τ measured there (comments above); beyond
    64, ``ceil(6 (L/64)^0.25)`` — an extrapolation with the literature's z ≈ 0.25, unmeasured."""
    if L <= 32:
        return WOLFF_BETWEEN
    if L <= 64:
        return WOLFF_BETWEEN_64
    return int(np.ceil(WOLFF_BETWEEN_64 * (L / 64) ** 0.25))

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
    between = np.where(wolff, wolff_between(L), metropolis_between).astype(np.int64)
    return equilibration, between
