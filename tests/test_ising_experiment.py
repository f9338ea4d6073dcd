"""The phase-classification experiment: npz files, the CLI, and the crossing estimate."""

import json
import pickle

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.datasets.ising import energy_per_spin, magnetisation_per_spin
from chainrule.ising_confusion import confusion, confusion_peak
from chainrule.ising_phases import classify, crossing, default_temperatures, extrapolate, symmetric_copies
from chainrule.datasets.ising import T_C, sample_ising
from chainrule.datasets.ising_io import load_ising_npz, save_ising_npz


def test_npz_round_trip_and_foreign_files(tmp_path):
    samples = sample_ising(8, [1.5, 3.0], 10, equilibration=20, sweeps_between=2, rng=0)
    path = save_ising_npz(tmp_path / "d.npz", samples)
    loaded = load_ising_npz(path)
    np.testing.assert_array_equal(loaded.configs, samples.configs)
    np.testing.assert_array_equal(loaded.energy, samples.energy)
    assert loaded.L == 8
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a chainrule Ising dataset"):
        load_ising_npz(tmp_path / "other.npz")
    (tmp_path / "p.npz").write_bytes(pickle.dumps({"configs": [1]}))
    with pytest.raises(ValueError, match="not a chainrule Ising dataset"):
        load_ising_npz(tmp_path / "p.npz")


def test_crossing_interpolates():
    T = np.array([1.0, 2.0, 3.0])
    assert crossing(T, np.array([1.0, 0.75, 0.25])) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="never cross"):
        crossing(T, np.array([0.9, 0.8, 0.7]))
    # a network that barely moved (outputs 0.59 → 0.49) crosses ½, but not meaningfully
    with pytest.raises(ValueError, match=r"did not separate the phases: .* spans 0.49..0.59"):
        crossing(np.linspace(1.0, 3.5, 11), np.linspace(0.59, 0.49, 11))


def test_crossing_fits_a_line_through_the_points_around_it():
    T = np.linspace(2.0, 2.6, 13)
    line = 0.5 - 2.0 * (T - 2.27)  # in the window (0.2, 0.8) from T = 2.12 to 2.42
    assert crossing(T, np.clip(line, 0, 1)) == pytest.approx(2.27, abs=1e-12)
    rng = np.random.default_rng(0)
    noisy = [crossing(T, np.clip(line + rng.normal(0, 0.03, T.size), 0, 1)) for _ in range(200)]
    interpolated = []
    for _ in range(200):
        p = np.clip(line + rng.normal(0, 0.03, T.size), 0, 1)
        i = np.flatnonzero((p[:-1] >= 0.5) & (p[1:] < 0.5))[0]
        interpolated.append(T[i] + (p[i] - 0.5) * (T[i + 1] - T[i]) / (p[i] - p[i + 1]))
    # the fitted line scatters less than two-point interpolation on the same kind of noise
    assert np.std(noisy) < 0.7 * np.std(interpolated) and abs(np.mean(noisy) - 2.27) < 0.003


def test_confusion_peak_is_the_apex_of_the_skewed_inner_peak():
    trials = np.linspace(1.05, 3.45, 25)
    left_end = np.where(trials < 1.6, 1 - 0.2 * (trials - 1.05), 0)  # a W: trivially accurate ends ...
    right_end = np.where(trials > 2.9, 1 - 0.2 * (3.45 - trials), 0)  # (higher than the inner peak) ...
    inner = 0.96 - np.where(trials < 2.29, 0.45 * (2.29 - trials), 0.2 * (trials - 2.29))  # ... skewed apex at 2.29
    accuracy = np.maximum.reduce([left_end, right_end, inner, np.full_like(trials, 0.8)])
    tc, peak = confusion_peak(trials, accuracy)
    assert tc == pytest.approx(2.29, abs=0.003) and peak.size >= 3
    top = int(np.argmax(np.where((trials > 1.6) & (trials < 2.9), accuracy, 0)))
    assert abs(trials[top] - 2.29) > 0.03  # the apex lies between trials; the best trial alone is off
    symmetric = np.r_[1.0, 0.9, 0.7, 0.8, 0.95, 0.8, 0.7, 0.9, 1.0]
    assert confusion_peak(np.arange(9.0), symmetric)[0] == pytest.approx(4.0)


def test_symmetric_copies_keep_the_physics_of_each_configuration():
    samples = sample_ising(8, [1.8, 2.6], 6, equilibration=50, sweeps_between=2, rng=1)
    X = samples.configs.reshape(12, 64).astype(np.float32)
    y = np.repeat([0, 1], 6)
    X_aug, y_aug = symmetric_copies(X, y, 8, translations=5, rng=np.random.default_rng(0))
    assert X_aug.shape == (7 * 12, 64) and X_aug.dtype == np.float32
    np.testing.assert_array_equal(y_aug, np.tile(y, 7))
    grids = X_aug.reshape(7, 12, 8, 8).astype(np.int8)
    base = grids[0]
    for copy in grids:  # translations, rotations, reflections and spin flips change no energy or |m|
        np.testing.assert_allclose(energy_per_spin(copy), energy_per_spin(base))
        np.testing.assert_allclose(magnetisation_per_spin(copy), magnetisation_per_spin(base))
    np.testing.assert_array_equal(grids[1], -base)
    assert all(not np.array_equal(c, base) and not np.array_equal(c, -base) for c in grids[2:])  # really moved


def test_extrapolation_and_temperature_grid():
    sizes = [8, 16, 24, 32]
    assert extrapolate(sizes, [2.27 + 0.4 / L for L in sizes]) == pytest.approx((2.27, 0.4))
    with pytest.raises(ValueError, match="two different lattice sizes"):
        extrapolate([16, 16], [2.3, 2.31])
    T = default_temperatures(26)
    assert T[0] == 1.0 and T[-1] == 3.5 and np.all(np.diff(T) > 0)
    assert np.max(np.diff(T[(T >= 1.9) & (T <= 2.7)])) == pytest.approx(0.05)


def test_classify_refuses_bad_settings():
    samples = sample_ising(4, [1.5, 1.8], 4, equilibration=5, sweeps_between=1, rng=0)
    with pytest.raises(ValueError, match="both sides of T_c"):
        classify(samples)
    with pytest.raises(ValueError, match="networks must be an integer >= 1"):
        classify(samples, networks=0)
    with pytest.raises(ValueError, match="at least 7 temperatures"):
        confusion(samples)
    with pytest.raises(ValueError, match="networks must be an integer >= 1"):
        confusion(sample_ising(4, np.linspace(1, 3, 8), 4, equilibration=5, sweeps_between=1, rng=0), networks=0)


def test_generate_and_classify_small_lattice(tmp_path, capsys):
    data = tmp_path / "ising8.npz"
    assert main(["ising", "generate", "--L", "8", "--steps", "16", "--samples", "120", "--equilibration", "200",
                 "--sweeps-between", "5", "--out", str(data)]) == 0
    capsys.readouterr()
    plot = tmp_path / "classify.png"
    assert main(["ising", "classify", str(data), "--json", "--plot", str(plot), "--epochs", "20"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["L"] == 8 and result["tc_exact"] == pytest.approx(T_C)
    # L = 8 has a broad finite-size crossover; the crossing still lands near T_c
    assert abs(result["tc"] - T_C) / T_C < 0.08, result
    assert plot.stat().st_size > 10_000


@pytest.mark.slow
def test_supervised_and_confusion_estimates_at_L32(tmp_path, capsys):
    data = tmp_path / "ising32.npz"
    assert main(["ising", "generate", "--L", "32", "--samples", "500", "--out", str(data)]) == 0
    capsys.readouterr()
    assert main(["ising", "classify", str(data), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert abs(result["tc"] - T_C) / T_C < 0.01, result
    assert main(["ising", "confusion", str(data), "--json", "--plot", str(tmp_path / "c.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert abs(result["tc"] - T_C) / T_C < 0.02, result


@pytest.mark.slow
def test_tc_extrapolation_within_half_percent(capsys):
    assert main(["ising", "tc", "--json"]) == 0  # L = 8, 16, 24, 32; about 3.5 minutes on 2 cores
    result = json.loads(capsys.readouterr().out)
    assert result["L"] == [8, 16, 24, 32]
    assert abs(result["tc_extrapolated"] - T_C) / T_C < 0.005, result
    assert abs(result["tc_L"][-1] - T_C) / T_C < 0.01, result


@pytest.mark.parametrize("argv, message", [
    (["ising", "generate", "--L", "7", "--out", "x.npz"], "L must be an even integer"),
    (["ising", "generate", "--tmin", "0", "--out", "x.npz"], "--tmin: must be a finite temperature >= 0.01"),
    (["ising", "generate", "--tmax", "inf", "--out", "x.npz"], "--tmax: must be a finite temperature >= 0.01"),
    (["ising", "generate", "--tmin", "3", "--tmax", "2", "--out", "x.npz"], "need --tmin < --tmax"),
    (["ising", "generate", "--samples", "0", "--out", "x.npz"], "--samples: must be >= 1"),
    (["ising", "generate", "--out", "nodir/x.npz"], "--out nodir/x.npz: directory nodir does not exist"),
    (["ising", "generate", "--out", "."], "--out . is a directory"),
    (["ising", "generate", "--L", "100000", "--steps", "2", "--samples", "4", "--out", "x.npz"],
     "of this machine's"),
    (["ising", "classify", "nope.npz"], "no such Ising dataset"),
    (["ising", "classify", "nope.npz", "--plot", "p.xyz"], "--plot p.xyz: unsupported image format '.xyz'"),
    (["ising", "confusion", "nope.npz", "--plot", "nodir/c.png"], "--plot nodir/c.png: directory nodir does not exist"),
    (["ising", "tc", "--L", "8,8"], "--L needs at least two different sizes"),
])
def test_bad_input(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.npz").exists()


def test_confusion_and_tc_pipeline_small(tmp_path, capsys):
    data = tmp_path / "ising8.npz"
    main(["ising", "generate", "--L", "8", "--steps", "12", "--samples", "80", "--equilibration", "200",
          "--sweeps-between", "5", "--out", str(data)])
    capsys.readouterr()
    assert main(["ising", "confusion", str(data), "--json", "--epochs", "4", "--plot", str(tmp_path / "c.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 1.5 < result["tc"] < 3.0 and (tmp_path / "c.png").exists()
    # enough configurations for the networks to separate the phases (fewer are refused: see crossing)
    assert main(["ising", "tc", "--L", "8,12", "--samples", "300", "--steps", "12", "--json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["L"] == [8, 12] and len(result["tc_L"]) == 2 and np.isfinite(result["tc_extrapolated"])
    # two sizes: the line passes through both points, no χ² check; the error is the propagated one
    assert result["dof"] == 0 and result["tc_extrapolated_err"] > 0 and len(result["tc_L_err"]) == 2
    assert main(["ising", "tc", "--L", "8"]) == 2


def test_example_script_runs_both_methods(tmp_path, capsys):
    from pathlib import Path
    import runpy

    example = Path(__file__).resolve().parents[1] / "examples" / "ising_phase_classification.py"
    supervised, unsupervised = runpy.run_path(str(example), run_name="example")["main"](
        [str(tmp_path), "--L", "8", "--samples", "400", "--steps", "16"])  # fewer: the networks do not separate
    out = capsys.readouterr().out
    assert "supervised crossing" in out and "learning by confusion" in out
    assert 1.9 < supervised["tc"] < 2.7 and 1.5 < unsupervised["tc"] < 3.0  # L = 8: rough
    assert supervised["p_ordered"].max() > 0.7 and supervised["p_ordered"].min() < 0.3
    assert (tmp_path / "ising_phases.png").stat().st_size > 20_000
