"""`chainrule explain` and `chainrule gradcheck` from the command line."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main

EXERCISE_1 = str(Path(__file__).resolve().parent.parent / "examples" / "exercise_1_hand_calculation.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_text_markdown_and_json(capsys, tmp_path):
    code, out, err = run(capsys, "explain", "--config", EXERCISE_1)
    assert code == 0 and err == ""
    assert "dZ[2] = dA[2] * σ'(Z[2])" in out and "0.8208102942" in out and "learning rate α = 0.1" in out
    assert "MSE: mean of (ŷ - y)²" in out
    code, out, _ = run(capsys, "explain", "--config", EXERCISE_1, "--format", "markdown")
    assert code == 0 and out.startswith("# One step") and r"\begin{bmatrix}" in out
    code, out, _ = run(capsys, "explain", "--config", EXERCISE_1, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "chainrule.explain/1"
    assert data["layers"][0]["W_new"][0][0] == pytest.approx(0.5 - 0.1 * 0.0009800967593, rel=1e-9)
    target = tmp_path / "trace.json"
    code, out, _ = run(capsys, "explain", "--config", EXERCISE_1, "--format", "json", "--output", str(target))
    assert code == 0 and out == "" and json.loads(target.read_text()) == data
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("layers, message", [
    ([{"W": [[1, 2]], "b": [0], "activation": "tanh"}, {"W": [[1, 2]], "b": [0]}],
     "layer 2: field 'W': has 2 column(s) (inputs) but layer 1 has 1 output(s)"),
    ([{"W": [[1, 2]], "b": [0], "activation": "tanhh"}], "layer 1: field 'activation': unknown activation 'tanhh'"),
    ([{"W": [[1, "two"]], "b": [0]}], "layer 1: field 'W': [0][1] is 'two', not a number"),
])
def test_explain_bad_config_is_one_line_naming_layer_and_field(capsys, tmp_path, layers, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"x": [1, 2], "y": 0.5, "layers": layers}))
    code, out, err = run(capsys, "explain", "--config", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("chainrule: error: ")


def test_explain_missing_file_and_usage(capsys, tmp_path):
    code, _, err = run(capsys, "explain", "--config", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json" in err and err.count("\n") == 1
    code, _, err = run(capsys, "explain")
    assert code == 2 and "--config" in err


def test_no_traceback_from_the_installed_command(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"x": [1, 2], "y": 0.5, "layers": [{"W": [[1, 2, 3]], "b": [0]}]}')
    result = subprocess.run([sys.executable, "-m", "chainrule", "explain", "--config", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"chainrule: error: {path}: layer 1: field 'W': has 3 column(s) (inputs) "
                                     "but x has 2 feature(s); W must have shape (n_out, 2)")


def test_gradcheck_from_options_and_from_a_file(capsys):
    code, out, _ = run(capsys, "gradcheck", "--sizes", "2,4,3", "--activation", "xtanh", "--loss", "cross_entropy")
    assert code == 0 and "gradient check passed: 7 tensors" in out and "XTanh()" in out
    code, out, _ = run(capsys, "gradcheck", "--config", EXERCISE_1, "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"] and [e["name"] for e in data["entries"]][:2] == ["W[1]", "b[1]"]
    assert data["n_samples"] == 1 and data["network"] == EXERCISE_1
    code, out, _ = run(capsys, "gradcheck", "--sizes", "3,5,5,1", "--activation", "relu", "--loss", "bce",
                       "--samples", "6", "--no-inputs")
    assert code == 0 and "input of layer" not in out


def test_gradcheck_fails_with_exit_1_when_a_derivative_is_wrong(capsys, monkeypatch):
    from chainrule.layers.activations import Tanh

    monkeypatch.setattr(Tanh, "backward", lambda self, da: da * (1.0 - self._a))  # forgot the square
    code, out, _ = run(capsys, "gradcheck", "--sizes", "2,3,1", "--activation", "tanh")
    assert code == 1
    assert "FAILED" in out and "dZ[1] [Tanh()]" in out


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "3"], "need at least an input and an output size"),
    (["--sizes", "2,x"], "expected comma-separated integers"),
    (["--activation", "sigmod"], "invalid choice"),
    (["--sizes", "2,3,1", "--loss", "cross_entropy"], "cross_entropy needs at least 2 outputs"),
    (["--eps", "0"], "must be a finite number > 0"),
])
def test_gradcheck_bad_options(capsys, argv, message):
    code, _, err = run(capsys, "gradcheck", *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_gradcheck_random_data_is_seeded(capsys):
    outs = [run(capsys, "gradcheck", "--sizes", "2,2,1", "--seed", "5", "--json")[1] for _ in range(2)]
    first, second = (json.loads(o) for o in outs)
    assert first == second
    assert np.isfinite([e["max_abs_error"] for e in first["entries"]]).all()


@pytest.mark.parametrize("argv, message", [
    (["gradcheck", "--config", EXERCISE_1, "--sizes", "3,4,1", "--activation", "tanh"],
     "--sizes, --activation describe a random network, but --config brings its own"),
    (["gradcheck", "--config", EXERCISE_1, "--loss", "bce"], "--loss describes a random network"),
    (["explain", "--config", EXERCISE_1, "--width", "30"], "--width: must be at least 40 columns"),
    (["explain", "--config", EXERCISE_1, "--output", "/nonexistent-dir/t.json"],
     "--output /nonexistent-dir/t.json: directory /nonexistent-dir does not exist"),
])
def test_options_that_would_be_ignored_or_fail_late_are_refused(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_explain_writes_its_output_file_whole(capsys, tmp_path):
    target = tmp_path / "trace.md"
    code, out, _ = run(capsys, "explain", "--config", EXERCISE_1, "--format", "markdown", "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("# One step") and list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("argv", [["gradcheck", "--seed", "-2"], ["ising", "generate", "--seed", "-1", "--L", "4"]])
def test_negative_seeds_are_refused_at_the_command_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and "--seed: must be >= 0" in err and len(err.strip().splitlines()) == 1
