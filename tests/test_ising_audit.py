"""The physics audit of the Ising pipeline: each test fails on the code the audit found."""

import numpy as np
import pytest

from chainrule.datasets.ising import WolffSampler, sample_ising


# --- 6. a Wolff "sweep" is about a lattice of flips even with a short equilibration -------------

@pytest.mark.parametrize("n", [0, 1])
def test_wolff_sweep_is_a_lattice_of_flips_even_without_equilibration(n):
    # at T = 3 a 16×16 cluster holds ~12 spins: a sweep-equivalent is ~20 clusters; the audited
    # code kept it at 1 cluster when equilibrate() was given fewer than 2 sweeps
    sampler = WolffSampler(np.ones((8, 16, 16), np.int8), [3.0] * 8, rng=0)
    sampler.equilibrate(n)
    assert sampler.clusters_per_sweep.min() >= 10
    flipped = sampler.flipped.copy()
    sampler.sweep(1)
    assert (sampler.flipped - flipped).mean() > 0.5 * 16 * 16
