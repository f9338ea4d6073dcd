"""Refusals of the Ising phase-classification code: networks that learned nothing, too few
configurations, malformed files, and the error of the extrapolated T_c."""

import numpy as np
import pytest

from chainrule.datasets.ising import sample_ising
from chainrule.datasets.ising_io import load_ising_npz, save_ising_npz
from chainrule.ising_phases import extrapolate, extrapolate_error


# --- 4. the loader ----------------------------------------------------------------------------------------------

def _rewrite(path, **changes):
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    np.savez(path, **arrays)


def test_loader_refuses_spins_other_than_plus_minus_one(tmp_path):
    samples = sample_ising(4, [1.5, 3.0], 4, equilibration=5, sweeps_between=1, rng=0)
    path = save_ising_npz(tmp_path / "d.npz", samples)
    _rewrite(path, configs=(3 * samples.configs).astype(np.int8))
    with pytest.raises(ValueError, match=r"d.npz: configs must hold spins of \+1 and -1 only; found 128 other "
                                         r"values \(-3, 3\)"):
        load_ising_npz(path)
    zeros = samples.configs.copy()
    zeros[0, 0, 0, 0] = 0
    _rewrite(path, configs=zeros)
    with pytest.raises(ValueError, match=r"found 1 other value \(0\)"):
        load_ising_npz(path)


def test_loader_refuses_temperatures_out_of_order(tmp_path):
    samples = sample_ising(4, [1.5, 2.0, 3.0], 4, equilibration=5, sweeps_between=1, rng=0)
    path = save_ising_npz(tmp_path / "r.npz", samples)
    _rewrite(path, temperatures=samples.temperatures[::-1].copy())
    with pytest.raises(ValueError, match=r"r.npz: temperatures must be strictly increasing, but T\[0\] = 3 is "
                                         r"followed by T\[1\] = 2"):
        load_ising_npz(path)
    _rewrite(path, temperatures=np.array([1.5, 2.0, 2.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        load_ising_npz(path)
    _rewrite(path, temperatures=samples.temperatures)
    assert load_ising_npz(path).temperatures.tolist() == [1.5, 2.0, 3.0]


# --- 5. the error of the extrapolated T_c ------------------------------------------------------------------------

def test_extrapolate_error_is_the_least_squares_error_of_the_intercept():
    sizes, estimates = [8, 16, 24, 32], [2.331, 2.301, 2.289, 2.285]
    _, cov = np.polyfit(1.0 / np.array(sizes), estimates, 1, cov="unscaled")
    fitted = np.polyval(np.polyfit(1.0 / np.array(sizes), estimates, 1), 1.0 / np.array(sizes))
    s2 = np.sum((np.array(estimates) - fitted) ** 2) / 2
    assert extrapolate_error(sizes, estimates) == pytest.approx(np.sqrt(s2 * cov[1, 1]), rel=1e-9)
    assert extrapolate_error(sizes, [2.27 + 0.4 / L for L in sizes]) == pytest.approx(0, abs=1e-12)
    assert extrapolate(sizes, estimates)[0] == pytest.approx(extrapolate(sizes, estimates)[0])  # unchanged


def test_extrapolate_error_covers_the_truth_about_as_often_as_it_should():
    rng = np.random.default_rng(0)
    sizes = np.array([8, 16, 24, 32, 40, 48])
    z = []
    for _ in range(2000):
        estimates = 2.269 + 0.3 / sizes + rng.normal(0, 0.004, sizes.size)
        z.append((extrapolate(sizes, estimates)[0] - 2.269) / extrapolate_error(sizes, estimates))
    # a t distribution with 4 degrees of freedom: 2.78 covers 95%
    assert 0.93 < np.mean(np.abs(z) < 2.776) < 0.97


def test_extrapolate_error_needs_a_third_point():
    assert extrapolate_error([8, 16], [2.3, 2.28]) is None  # a line through two points has no residual
    with pytest.raises(ValueError, match="two different lattice sizes"):
        extrapolate_error([16, 16, 16], [2.3, 2.31, 2.29])
    with pytest.raises(ValueError, match="one estimate per size"):
        extrapolate_error([8, 16, 24], [2.3, 2.28])
