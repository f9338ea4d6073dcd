"""The L×L periodic square lattice of the 2-D Ising model: input checks, the checkerboard
(two-sublattice) packing used by the Metropolis sampler, nearest-neighbour tables used by the
Wolff sampler, and the energy and magnetisation of configurations.

Conventions: J = 1, k_B = 1, no field; H = -Σ_<ij> s_i s_j over nearest-neighbour bonds with
periodic boundaries, each bond counted once (for L = 2 the left and right neighbours are the
same site, and the bond counts twice, as it must for ΔE = 2 s_i Σ_nb s_j to hold). Spins are
±1 stored as int8.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_count", "check_increasing", "check_lattice", "check_temperatures", "energy_per_spin", "magnetisation_per_spin",
    "neighbour_table", "pack", "unpack",
]


def check_lattice(L) -> int:
    """Return ``L`` as an int; raise ValueError unless it is an even integer >= 2.

    The checkerboard decomposition needs an even side so that the two sublattices close up
    under the periodic boundaries.
    """
    if isinstance(L, bool) or not isinstance(L, numbers.Real) or not float(L).is_integer() or L < 2 or L % 2:
        raise ValueError(f"L must be an even integer >= 2, got {L!r}")
    return int(L)


def check_temperatures(temperatures) -> np.ndarray:
    """Temperatures as a 1-D float64 array; raise ValueError naming the first one that is not
    finite and > 0 (or an empty / non-numeric list).

    Returns
    -------
    ndarray of float64, shape (n_T,)
    """
    try:
        T = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"temperatures must be numbers, got {temperatures!r}") from None
    if T.ndim != 1 or T.size == 0:
        raise ValueError(f"temperatures must be a non-empty 1-D list, got shape {T.shape}")
    bad = ~np.isfinite(T) | (T <= 0)
    if bad.any():
        raise ValueError(f"temperatures must be finite and > 0, got {float(T[bad][0])!r}")
    return T


def check_increasing(T, what: str = "temperatures") -> np.ndarray:
    """Raise ValueError unless the temperatures of a dataset are strictly increasing.

    A dataset holds one block of configurations per temperature, and everything downstream
    (the held-out split, the crossing of the outputs, the trial temperatures of learning by
    confusion) reads the temperatures as an increasing grid; :func:`sample_ising`,
    ``save_ising_npz``, ``load_ising_npz``, ``classify`` and ``confusion`` all refuse other
    orders with this message, which names the first pair out of order.

    Parameters
    ----------
    T : ndarray, shape (n_T,)
    what : str
        What the temperatures belong to, for the message.

    Returns
    -------
    ndarray
        ``T`` unchanged.
    """
    T = np.asarray(T)
    steps = np.diff(T)
    if np.any(~(steps > 0)):
        k = int(np.flatnonzero(~(steps > 0))[0])
        pair = (f"T[{k}] = T[{k + 1}] = {T[k]:g} repeats" if T[k + 1] == T[k]
                else f"T[{k}] = {T[k]:g} is followed by T[{k + 1}] = {T[k + 1]:g}")
        raise ValueError(f"{what} must be strictly increasing, but {pair}")
    return T


def check_count(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an int; raise ValueError (naming ``name`` and the value) unless it is
    an integer >= ``minimum``."""
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole and isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:  # a float (or NumPy float) that holds a whole number; Python ints of any size are whole
            whole = math.isfinite(float(value)) and float(value).is_integer()
        except OverflowError:
            whole = False
    if not whole or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_spins(spins, L: int | None = None) -> np.ndarray:
    """Check a batch of configurations: int8 ±1 of shape (n_chains, L, L), L even."""
    spins = np.asarray(spins)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ValueError(f"spins must have shape (n_chains, L, L), got {spins.shape}")
    check_lattice(spins.shape[1])
    if L is not None and spins.shape[1] != L:
        raise ValueError(f"spins are {spins.shape[1]}×{spins.shape[1]}, expected L = {L}")
    if spins.dtype != np.int8:
        raise ValueError(f"spins must be int8, got {spins.dtype}")
    return spins


# --- checkerboard packing ----------------------------------------------------------------
# Site (i, x) has colour (i + x) % 2. Packed storage P of shape (n, 2, L, L/2):
#   P[:, 0, i, j] = s[i, 2j + i%2]        (colour 0)
#   P[:, 1, i, j] = s[i, 2j + 1 - i%2]    (colour 1)
# The four neighbours of a colour-0 site (i, j) are colour-1 sites P1[i-1, j], P1[i+1, j],
# P1[i, j] and P1[i, j-1] on even rows / P1[i, j+1] on odd rows; for colour 1 the horizontal
# partner is P0[i, j+1] on even rows / P0[i, j-1] on odd rows.


def pack(spins: np.ndarray) -> np.ndarray:
    """Split configurations into their two checkerboard sublattices.

    Parameters
    ----------
    spins : ndarray of int8, shape (n, L, L), L even

    Returns
    -------
    ndarray of int8, shape (n, 2, L, L // 2)
        ``[:, c]`` holds the sites of colour c = (row + column) % 2, row by row.
    """
    n, L = spins.shape[0], spins.shape[1]
    H = L // 2
    five = spins.reshape(n, H, 2, H, 2)  # [chain, row pair, row parity, column pair, column parity]
    out = np.empty((n, 2, L, H), dtype=spins.dtype)
    view = out.reshape(n, 2, H, 2, H)
    for p in (0, 1):
        view[:, 0, :, p] = five[:, :, p, :, p]
        view[:, 1, :, p] = five[:, :, p, :, 1 - p]
    return out


def unpack(packed: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`pack`: shape (n, 2, L, L // 2) -> (n, L, L)."""
    n, _, L, H = packed.shape
    if out is None:
        out = np.empty((n, L, L), dtype=packed.dtype)
    five = out.reshape(n, H, 2, H, 2)
    view = packed.reshape(n, 2, H, 2, H)
    for p in (0, 1):
        five[:, :, p, :, p] = view[:, 0, :, p]
        five[:, :, p, :, 1 - p] = view[:, 1, :, p]
    return out


def packed_neighbour_sum(other: np.ndarray, out: np.ndarray, colour: int) -> np.ndarray:
    """Sum of the four neighbours of every site of sublattice ``colour``, written into ``out``.

    Parameters
    ----------
    other : ndarray of int8, shape (n, L, L // 2)
        The *other* sublattice (colour ``1 - colour``) in packed layout.
    out : ndarray of int8, shape (n, L, L // 2)
        Preallocated; overwritten. No temporaries are allocated.
    colour : {0, 1}
        Colour of the sites whose neighbour sums are wanted.
    """
    n, L, H = other.shape
    out[:, 1:] = other[:, :-1]          # row above (periodic)
    out[:, 0] = other[:, -1]
    out[:, :-1] += other[:, 1:]         # row below
    out[:, -1] += other[:, 0]
    out += other                        # same row, same packed column
    o = out.reshape(n, L // 2, 2, H)
    b = other.reshape(n, L // 2, 2, H)
    left, right = (0, 1) if colour == 0 else (1, 0)  # row parity whose partner is at j-1 / j+1
    o[:, :, left, 1:] += b[:, :, left, :-1]
    o[:, :, left, 0] += b[:, :, left, -1]
    o[:, :, right, :-1] += b[:, :, right, 1:]
    o[:, :, right, -1] += b[:, :, right, 0]
    return out


def neighbour_table(L: int) -> np.ndarray:
    """Flat indices of the four periodic neighbours of every site of an L×L lattice.

    Returns
    -------
    ndarray of int32, shape (L*L, 4)
        Columns: up, down, left, right.
    """
    i, j = np.divmod(np.arange(L * L, dtype=np.int32), L)
    return np.stack([((i - 1) % L) * L + j, ((i + 1) % L) * L + j, i * L + (j - 1) % L, i * L + (j + 1) % L],
                    axis=1).astype(np.int32)


def energy_per_spin(spins: np.ndarray) -> np.ndarray:
    """E/N = -(1/N) Σ_<ij> s_i s_j of each configuration.

    Parameters
    ----------
    spins : ndarray, shape (..., L, L)

    Returns
    -------
    ndarray of float64, shape spins.shape[:-2]
    """
    s = np.asarray(spins)
    bonds = (s * np.roll(s, 1, axis=-1)).sum(axis=(-1, -2), dtype=np.int64)
    bonds += (s * np.roll(s, 1, axis=-2)).sum(axis=(-1, -2), dtype=np.int64)
    return -bonds / (s.shape[-1] * s.shape[-2])


def magnetisation_per_spin(spins: np.ndarray, *, signed: bool = False) -> np.ndarray:
    """|M|/N (or M/N with ``signed=True``) of each configuration.

    Parameters
    ----------
    spins : ndarray, shape (..., L, L)

    Returns
    -------
    ndarray of float64, shape spins.shape[:-2]
    """
    s = np.asarray(spins)
    m = s.sum(axis=(-1, -2), dtype=np.int64) / (s.shape[-1] * s.shape[-2])
    return m if signed else np.abs(m)
