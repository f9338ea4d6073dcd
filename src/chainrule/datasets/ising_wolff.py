"""The Wolff cluster algorithm (Wolff, 1989) for the 2-D Ising model.

Near T_c single-spin updates decorrelate in ~L^2.2 sweeps (critical slowing down); a Wolff
update grows one cluster of aligned spins, adding each aligned neighbour with probability
``p = 1 - e^{-2β}``, and flips it whole — rejection-free and with detailed balance. Growth is
breadth-first with the frontier handled as NumPy arrays, one layer at a time.
"""

from __future__ import annotations

import math

import numpy as np

from ..initializers import as_generator


def wolff_cluster(spins: np.ndarray, T: float, rng) -> int:
    """Grow and flip one Wolff cluster in ``spins`` (shape (L, L), int8) in place.

    Returns
    -------
    int
        The cluster size.
    """
    rng = as_generator(rng)
    L = spins.shape[0]
    p_add = 1.0 - math.exp(-2.0 / T)
    flat = spins.reshape(-1)
    seed = int(rng.integers(L * L))
    sign = flat[seed]
    in_cluster = np.zeros(L * L, dtype=bool)
    in_cluster[seed] = True
    frontier = np.array([seed])
    while frontier.size:
        rows, cols = np.divmod(frontier, L)
        neighbours = np.concatenate([
            ((rows + 1) % L) * L + cols, ((rows - 1) % L) * L + cols,
            rows * L + (cols + 1) % L, rows * L + (cols - 1) % L,
        ])
        candidates = neighbours[(flat[neighbours] == sign) & ~in_cluster[neighbours]]
        # each bond to an aligned neighbour is tried once: p_add per attempt
        accepted = candidates[rng.random(candidates.size) < p_add]
        accepted = np.unique(accepted)
        accepted = accepted[~in_cluster[accepted]]
        in_cluster[accepted] = True
        frontier = accepted
    flat[in_cluster] *= -1
    return int(in_cluster.sum())


def wolff_updates(spins: np.ndarray, temperatures, n_clusters: int, rng) -> np.ndarray:
    """``n_clusters`` Wolff updates on each chain of ``spins`` (shape (n_chains, L, L))."""
    rng = as_generator(rng)
    for chain, T in zip(spins, np.broadcast_to(temperatures, spins.shape[:1])):
        for _ in range(n_clusters):
            wolff_cluster(chain, float(T), rng)
    return spins
