"""Wolff cluster updates (Wolff, 1989) of many independent 2-D Ising chains at once.

A Wolff update picks a random seed site, grows a cluster by adding each *aligned* neighbour of
a newly added site with probability ``p_add = 1 - e^{-2β}`` (each bond is tried once), and
flips the whole cluster. It is rejection-free and satisfies detailed balance, and near T_c it
decorrelates in a few cluster flips per lattice where single-spin Metropolis needs ~L^2.2
sweeps (critical slowing down).

Vectorisation: every chain grows its own cluster at the same time, breadth first. The union
of all chains' frontiers is one flat index array; one step gathers the four neighbours of
every frontier site, keeps the aligned ones, draws one uniform per such bond, and flips the
accepted sites at once (flipping on addition makes a site ineligible afterwards, so no
"visited" array is needed). A site reached through two bonds in the same step is kept once
(each bond still had its own independent trial, as Wolff's algorithm requires). A chain whose
cluster is complete starts its next cluster in the next step, so the arrays stay full while
chains finish clusters of very different sizes. The work per step is proportional to the
frontier, not to the lattice.
"""

from __future__ import annotations

import numpy as np

from ..initializers import as_generator
from .ising_lattice import as_spins, check_count, check_temperatures, neighbour_table

__all__ = ["WolffSampler", "wolff_cluster"]


class WolffSampler:
    """Wolff cluster updates of a batch of independent chains.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, L, L)
        Initial configurations (±1); copied.
    temperatures : array-like, shape (n_chains,)
        Temperature of each chain (finite, > 0).
    rng : None, int or numpy.random.Generator

    Attributes
    ----------
    temperatures : ndarray, shape (n_chains,)
    L : int
    clusters_per_sweep : ndarray of int64, shape (n_chains,)
        Clusters that make one "sweep" of :meth:`sweep`: about N / ⟨cluster size⟩ at the
        chain's temperature, so that a sweep flips about as many spins as the lattice has
        (set by :meth:`equilibrate`, even ``equilibrate(0)``; 1 until then).
    clusters : ndarray of int64, shape (n_chains,)
        Clusters flipped so far in each chain.
    flipped : ndarray of int64, shape (n_chains,)
        Spins flipped so far in each chain (sum of cluster sizes).
    """

    def __init__(self, spins, temperatures, rng=None):
        spins = as_spins(spins)
        T = check_temperatures(temperatures)
        if T.size != spins.shape[0]:
            raise ValueError(f"got {T.size} temperatures for {spins.shape[0]} chains")
        self.temperatures = T
        self.L = spins.shape[1]
        self.rng = as_generator(rng)
        self._spins = np.ascontiguousarray(spins).copy()
        n, N = T.size, self.L * self.L
        index = np.int32 if n * N < 2**31 else np.int64
        offsets = (np.arange(n, dtype=index) * N)[:, None, None]
        self._neighbours = (neighbour_table(self.L).astype(index)[None] + offsets).reshape(n * N, 4)
        self._stamp = np.zeros(n * N, dtype=np.int64)
        self._p_add = np.repeat(-np.expm1(-2.0 / T), N)  # 1 - e^{-2β} of every site's chain
        self.clusters = np.zeros(n, dtype=np.int64)
        self.flipped = np.zeros(n, dtype=np.int64)
        self.clusters_per_sweep = np.ones(n, dtype=np.int64)

    @property
    def n_chains(self) -> int:
        return self.temperatures.size

    @property
    def spins(self) -> np.ndarray:
        """Current configurations, a new int8 array of shape (n_chains, L, L)."""
        return self._spins.copy()

    def set_spins(self, spins) -> None:
        """Replace the configurations (int8, shape (n_chains, L, L))."""
        spins = as_spins(spins, self.L)
        if spins.shape[0] != self.n_chains:
            raise ValueError(f"got {spins.shape[0]} configurations for {self.n_chains} chains")
        self._spins[...] = spins

    def flip_chains(self, mask) -> None:
        """Reverse every spin of the chains where ``mask`` (shape (n_chains,)) is True."""
        self._spins[np.asarray(mask, bool)] *= -1

    def run(self, n_clusters) -> np.ndarray:
        """Grow and flip ``n_clusters`` clusters in each chain.

        Parameters
        ----------
        n_clusters : int or array-like of int, shape (n_chains,)
            Clusters for each chain (a fixed number, so that when to stop never depends on the
            chain's state).

        Returns
        -------
        ndarray of int64, shape (n_chains,)
            Spins flipped in each chain by these clusters.
        """
        n, N = self.n_chains, self.L * self.L
        remaining = np.broadcast_to(np.asarray(n_clusters), (n,)).astype(np.int64)
        if remaining.min(initial=0) < 0:
            raise ValueError(f"n_clusters must be >= 0, got {int(remaining.min())}")
        rng, flat, neighbours, stamp, p_add = self.rng, self._spins.reshape(-1), self._neighbours, self._stamp, self._p_add
        flipped = np.zeros(n, dtype=np.int64)
        growing = np.zeros(n, dtype=bool)
        frontier = np.empty(0, dtype=neighbours.dtype)
        while True:
            start = np.flatnonzero(~growing & (remaining > 0))
            if start.size:
                remaining[start] -= 1
                seeds = (start * N + rng.integers(0, N, size=start.size)).astype(neighbours.dtype)
                flat[seeds] *= -1
                flipped[start] += 1
                growing[start] = True
                frontier = np.concatenate([frontier, seeds])
            if frontier.size == 0:
                break
            # Frontier sites are already flipped, so their neighbours that still carry the
            # cluster's original sign are exactly those that differ from them now.
            around = neighbours[frontier]                                   # (F, 4)
            candidates = around[flat[around] != flat[frontier][:, None]]
            candidates = candidates[rng.random(candidates.size) < p_add[candidates]]
            # a site reached through several bonds (each with its own trial) joins once
            order = np.arange(candidates.size)
            stamp[candidates] = order
            frontier = candidates[stamp[candidates] == order]
            flat[frontier] = -flat[frontier]
            counts = np.bincount(frontier // N, minlength=n)
            flipped += counts
            growing &= counts > 0  # a chain with no new sites has completed its cluster
        self.clusters += np.broadcast_to(np.asarray(n_clusters), (n,))
        self.flipped += flipped
        return flipped

    def sweep(self, n: int = 1) -> None:
        """``n`` sweep-equivalents: ``n · clusters_per_sweep`` clusters in each chain."""
        n = check_count("n", n, minimum=0)
        if n:
            self.run(n * self.clusters_per_sweep)

    def equilibrate(self, n: int) -> None:
        """``n`` sweep-equivalents of equilibration that also set :attr:`clusters_per_sweep`.

        The first half runs rounds of clusters, re-estimating ⟨cluster size⟩ at each
        temperature (pooled over its chains) after every round, until the chains of that
        temperature have flipped n/2 lattices' worth of spins on average — at least two
        lattices' worth, so that ``n`` < 4 still measures the cluster size (those clusters are
        extra, valid Monte Carlo moves; without them ``n`` = 0 or 1 left a "sweep" at one
        cluster, which at T = 3 on 16×16 flips about 12 spins, not 256); the cluster count per sweep is then
        fixed at round(N / ⟨size⟩) from the second half of those rounds, and the second half of
        the equilibration runs ``n - n//2`` fixed sweeps. Fixed counts matter afterwards: a
        sampling schedule that stops on the chain's own state (say, on spins flipped) would
        bias the samples.
        """
        n = check_count("n", n, minimum=0)
        N = self.L * self.L
        groups = np.unique(self.temperatures, return_inverse=True)[1]
        per_group = np.bincount(groups)
        target = max(n // 2, 2) * N
        done = np.zeros(groups.max() + 1)
        late_sizes, late_clusters = np.zeros_like(done), np.zeros_like(done)
        size = np.full_like(done, float(N))
        k = np.ones(self.n_chains, dtype=np.int64)
        while target and (done < target).any():
            active_group = done < target
            clusters = np.where(active_group[groups], k, 0)
            flipped = self.run(clusters)
            group_flipped = np.bincount(groups, weights=flipped) / per_group
            group_clusters = np.bincount(groups, weights=clusters) / per_group
            late = active_group & (done >= target / 2)
            late_sizes += np.where(late, group_flipped, 0.0)
            late_clusters += np.where(late, group_clusters, 0.0)
            done += group_flipped
            this_round = group_flipped / np.maximum(group_clusters, 1)
            size = np.where(~active_group, size, np.where(late_clusters > 0, late_sizes / np.maximum(late_clusters, 1),
                                                          this_round))
            k = np.maximum(1, np.rint(N / np.maximum(size, 1.0))).astype(np.int64)[groups]
        self.clusters_per_sweep = k
        self.sweep(n - n // 2)


def wolff_cluster(spins: np.ndarray, T: float, rng=None) -> int:
    """Grow and flip one Wolff cluster in a single configuration, in place.

    Convenience for one chain; :class:`WolffSampler` runs many chains at once and is far
    faster per cluster.

    Parameters
    ----------
    spins : ndarray of int8, shape (L, L)
    T : float
    rng : None, int or numpy.random.Generator

    Returns
    -------
    int
        The cluster size.
    """
    sampler = WolffSampler(np.asarray(spins)[None], [T], rng)
    size = int(sampler.run(1)[0])
    spins[...] = sampler._spins[0]
    return size
