"""Refusals of the Ising phase-classification code: networks that learned nothing, too few
configurations, malformed files, and the error of the extrapolated T_c."""

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.datasets.ising import sample_ising
from chainrule.datasets.ising_io import load_ising_npz, save_ising_npz
from chainrule.ising_confusion import confusion, confusion_peak
from chainrule.ising_phases import classify, crossing, split_samples


# --- 1. crossing: the curve must be ordered at the cold end and disordered at the hot end -------------------------

def test_crossing_refuses_a_curve_whose_ends_are_not_the_two_phases():
    T = np.linspace(1.0, 3.5, 26)
    # hovering about ½ with one noisy point above 0.7 and one below 0.3: crosses ½ downward, but
    # neither end is a phase (the old max > 0.7 / min < 0.3 test let this through)
    p = np.full(26, 0.5)
    p[[1, 3]], p[[8, 20]] = 0.75, 0.25
    p[12:] = 0.45
    with pytest.raises(ValueError, match=r"did not separate the phases: .* averages 0.58 over the 6 coldest "
                                         r"temperatures \(T = 1..1.5\) and 0.45 over the 6 hottest"):
        crossing(T, p)
    # ordered cold end, but the hot end comes back up (a network that learned noise)
    q = np.clip(1.0 - 0.6 * (T - 1.0), 0.1, 1.0)
    q[-5:] = [0.6, 0.7, 0.8, 0.75, 0.7]
    with pytest.raises(ValueError, match="did not separate the phases"):
        crossing(T, q)


def test_crossing_still_accepts_clean_curves():
    T = np.linspace(1.0, 3.5, 26)
    p = 1 / (1 + np.exp((T - 2.3) / 0.1))
    assert crossing(T, p) == pytest.approx(2.3, abs=0.01)
    assert crossing([1.0, 2.0, 3.0], [1.0, 0.75, 0.25]) == pytest.approx(2.5)  # three points: one per end
    assert crossing([1.0, 2.0, 3.0, 4.0], [0.9, 0.6, 0.4, 0.1]) == pytest.approx(2.5)


def test_classify_refuses_networks_trained_on_four_configurations_per_temperature():
    # the audit's case: 4 per temperature at L = 8 gave "+18.98%" from a curve crossing ½ three times
    samples = sample_ising(8, np.linspace(1.0, 3.5, 26), 4, rng=0)
    with pytest.raises(ValueError, match="did not separate the phases"):
        classify(samples)


# --- 2. learning by confusion: a peak above the majority-label baseline -------------------------------------------

def test_confusion_peak_refuses_a_v_shaped_curve():
    trials = np.linspace(2.65, 3.45, 9)
    accuracy = np.r_[0.9, 0.8, 0.7, 0.6, 0.5, 0.6, 0.7, 0.8, 0.9]  # the hot-only data set: no inner peak
    with pytest.raises(ValueError, match=r"no inner peak: .* \(accuracy 0.500..0.900 over T' = 2.65..3.45"):
        confusion_peak(trials, accuracy)


def test_confusion_peak_refuses_a_peak_no_better_than_the_majority_label():
    trials = np.linspace(2.65, 3.45, 9)
    baseline = np.r_[0.9, 0.8, 0.7, 0.6, 0.5, 0.6, 0.7, 0.8, 0.9]
    # a noisy bump on the cold side, 0.08 above always predicting "disordered" there
    accuracy = np.r_[0.9, 0.7, 0.78, 0.6, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert 2.75 <= confusion_peak(trials, accuracy)[0] <= 2.95  # without a baseline: accepted
    with pytest.raises(ValueError, match=r"did not learn the phases: the inner peak's accuracy 0.780 at T' = 2.85 "
                                         r"is not clearly above 0.700"):
        confusion_peak(trials, accuracy, baseline=baseline)
    assert 2.75 <= confusion_peak(trials, accuracy, baseline=baseline, margin=0.05)[0] <= 2.95
    real = baseline + np.r_[0, 0.05, 0.15, 0.3, 0.45, 0.3, 0.15, 0.05, 0]
    assert confusion_peak(trials, real, baseline=baseline)[0] == pytest.approx(3.05, abs=0.05)


def test_confusion_refuses_temperatures_all_above_the_transition(tmp_path):
    samples = sample_ising(8, np.linspace(2.6, 3.5, 8), 24, rng=0)
    with pytest.raises(ValueError, match="no inner peak|did not learn the phases"):
        confusion(samples, networks=1)


# --- 3. too few configurations per temperature --------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3])
def test_too_few_configurations_per_temperature(n):
    samples = sample_ising(4, np.linspace(1.0, 3.5, 8), n, equilibration=5, sweeps_between=1, rng=0)
    message = f"has {n} configurations? per temperature; at least 4 are needed"
    with pytest.raises(ValueError, match=message):
        split_samples(samples, 0)
    with pytest.raises(ValueError, match=message):
        classify(samples)
    with pytest.raises(ValueError, match=message):
        confusion(samples)


def test_four_configurations_hold_out_one(tmp_path):
    samples = sample_ising(4, [1.5, 3.0], 4, equilibration=5, sweeps_between=1, rng=0)
    X, temps, test = split_samples(samples, 0)
    assert X.shape == (8, 16) and test.sum() == 2 and test[:4].sum() == 1


def test_cli_says_how_many_configurations_are_needed(tmp_path, capsys):
    data = tmp_path / "s2.npz"  # generate refuses --samples 2 itself; the Python API writes such a file
    save_ising_npz(data, sample_ising(4, np.linspace(1.0, 3.5, 8), 2, rng=0))
    assert main(["ising", "classify", str(data), "--networks", "1"]) == 2
    err = capsys.readouterr().err
    assert "at least 4 are needed" in err and err.count("\n") == 1


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


def test_the_error_summary_adds_the_bootstrap_and_the_networks_spread_in_quadrature():
    from chainrule.ising_phases import error_summary

    resampled, members = [2.26, 2.27, np.nan, 2.28], [2.25, 2.29, np.nan]
    out = error_summary(resampled, members)
    assert out["tc_bootstrap_err"] == pytest.approx(np.std([2.26, 2.27, 2.28], ddof=1))
    assert out["tc_network_err"] == pytest.approx(np.std([2.25, 2.29], ddof=1) / np.sqrt(3))  # over every network
    assert out["tc_err"] == pytest.approx(np.hypot(out["tc_bootstrap_err"], out["tc_network_err"]))
    alone = error_summary([2.27], [2.25, 2.29])  # one resample: no bootstrap spread, the networks' alone
    assert np.isnan(alone["tc_bootstrap_err"]) and alone["tc_err"] == alone["tc_network_err"]
