"""The phase-classification experiment: npz files, the CLI, and the crossing estimate."""

import json
import pickle

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.ising_phases import crossing
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
def test_supervised_crossing_within_one_percent_at_L32(tmp_path, capsys):
    data = tmp_path / "ising32.npz"
    assert main(["ising", "generate", "--L", "32", "--samples", "500", "--out", str(data)]) == 0
    capsys.readouterr()
    assert main(["ising", "classify", str(data), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert abs(result["tc"] - T_C) / T_C < 0.01, result


@pytest.mark.parametrize("argv, message", [
    (["ising", "generate", "--L", "7", "--out", "x.npz"], "L must be an even integer"),
    (["ising", "generate", "--tmin", "0", "--out", "x.npz"], "need 0 < --tmin < --tmax"),
    (["ising", "generate", "--samples", "0", "--out", "x.npz"], "--samples: must be >= 1"),
    (["ising", "classify", "nope.npz"], "no such Ising dataset"),
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
    assert main(["ising", "tc", "--L", "8,12", "--samples", "80", "--steps", "12", "--json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["L"] == [8, 12] and len(result["tc_L"]) == 2 and np.isfinite(result["tc_extrapolated"])
    assert main(["ising", "tc", "--L", "8"]) == 2
