"""Seed 002's toy "Ising" data for its phase-classification demo — NOT physical configurations.

For real Monte Carlo samples of the 2-D Ising model use
:func:`chainrule.datasets.ising.sample_ising`.
"""

from __future__ import annotations

import numpy as np

from ..initializers import as_generator
from .ising_lattice import check_count

__all__ = ["toy_ising_configurations"]


def toy_ising_configurations(L: int, n_samples: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Seed 002's fake Ising data — NOT physical: every spin is drawn independently, +1 with
    probability 0.9 for "ordered" samples (label 0) and 0.5 for "disordered" ones (label 1).

    Real configurations have correlated spins, a magnetisation that vanishes continuously at
    T_c = 2.269 and domains of every size near it; these have none of that. Kept so that the
    seed's example runs as written; use :func:`~chainrule.datasets.ising.sample_ising` for
    the physics.

    Parameters
    ----------
    L : int
        Lattice side (>= 1).
    n_samples : int
        Number of configurations (>= 1); the first ``n_samples // 2`` are ordered.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of int8, shape (n_samples, L * L)
        Spins ±1, one flattened lattice per row.
    y : ndarray of int64, shape (n_samples,)
        0 = "ordered", 1 = "disordered".
    """
    L = check_count("L", L)
    n_samples = check_count("n_samples", n_samples)
    rng = as_generator(rng)
    half = n_samples // 2
    p_up = np.r_[np.full(half, 0.9), np.full(n_samples - half, 0.5)][:, None]
    X = np.where(rng.random((n_samples, L * L)) < p_up, 1, -1).astype(np.int8)
    y = np.r_[np.zeros(half, dtype=np.int64), np.ones(n_samples - half, dtype=np.int64)]
    return X, y
