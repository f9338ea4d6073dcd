"""The 2-D ferromagnetic Ising model on an L×L square lattice with periodic boundaries
(J = 1, k_B = 1, spins ±1 stored as int8), sampled by Monte Carlo and validated against exact
results. This module gathers the public names; each concept lives in its own module:

=======================  ==================================================================
``ising_sampler``        :func:`sample_ising`, :class:`IsingSamples`,
                         :func:`measure_autocorrelation`
``ising_schedule``       Metropolis or Wolff per temperature, default sweeps from the
                         measured autocorrelation times
``ising_metropolis``     :class:`CheckerboardMetropolis`: checkerboard Metropolis over many
                         chains at once, exact acceptance from one random byte per site
``ising_wolff``          :class:`WolffSampler`: Wolff cluster updates over many chains at once
``ising_stats``          blocking, jackknife, integrated autocorrelation times, observables
``ising_exact``          :data:`T_C`, Onsager's energy, Yang's magnetisation, exact enumeration
``ising_lattice``        input checks, checkerboard packing, energy and magnetisation
``ising_io``             :func:`save_ising_npz` / :func:`load_ising_npz` (no pickle, atomic)
``ising_toy``            seed 002's fake, NOT physical, generator
=======================  ==================================================================

Examples
--------
>>> from chainrule.datasets.ising import sample_ising, T_C
>>> samples = sample_ising(16, [1.5, T_C, 3.0], n_samples=100, rng=0)
>>> samples.configs.shape, samples.configs.dtype
((3, 100, 16, 16), dtype('int8'))
"""

from __future__ import annotations

from .ising_exact import (
    T_C,
    exact_enumeration,
    onsager_energy_per_spin,
    yang_magnetisation,
)
from .ising_io import load_ising_npz, save_ising_npz
from .ising_lattice import (
    check_lattice,
    check_temperatures,
    energy_per_spin,
    magnetisation_per_spin,
)
from .ising_metropolis import CheckerboardMetropolis
from .ising_sampler import IsingSamples, measure_autocorrelation, sample_ising
from .ising_schedule import WOLFF_WINDOW, default_schedule
from .ising_stats import blocking_error, integrated_autocorrelation_time, jackknife_bins
from .ising_toy import toy_ising_configurations
from .ising_wolff import WolffSampler, wolff_cluster

__all__ = [
    "T_C", "WOLFF_WINDOW", "CheckerboardMetropolis", "IsingSamples", "WolffSampler", "blocking_error",
    "check_lattice", "check_temperatures", "default_schedule", "energy_per_spin", "exact_enumeration",
    "integrated_autocorrelation_time", "jackknife_bins", "load_ising_npz", "magnetisation_per_spin",
    "measure_autocorrelation", "onsager_energy_per_spin", "sample_ising", "save_ising_npz",
    "toy_ising_configurations", "wolff_cluster", "yang_magnetisation",
]
