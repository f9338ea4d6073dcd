"""The main job: ``chainrule train`` with no arguments, its options and its errors."""

import json
import os
import subprocess
import sys

import pytest

from chainrule.cli import main


def test_train_without_arguments_is_the_main_job(tmp_path):
    """Run the console entry exactly as a user would, in a fresh directory."""
    result = subprocess.run([sys.executable, "-m", "chainrule", "train"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=240, env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert "epoch 500/500" in result.stdout
    assert "train" in result.stdout and "test" in result.stdout and "accuracy" in result.stdout
    for name in ("loss_curve.png", "decision_boundary.png"):
        assert (tmp_path / "chainrule-plots" / name).stat().st_size > 10_000


def test_train_json_reports_real_metrics(tmp_path, capsys):
    code = main(["train", "--json", "--epochs", "300", "--plots", str(tmp_path)])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "moons" and report["network"] == [2, 8, 8, 1]
    assert report["test"]["accuracy"] >= 0.9
    assert sorted(os.listdir(tmp_path)) == ["confusion_matrix.png", "decision_boundary.png", "loss_curve.png", "network.png"]


@pytest.mark.parametrize("argv, expected", [
    (["train", "--dataset", "iris", "--epochs", "100", "--no-plots", "--json"], "accuracy"),
    (["train", "--dataset", "sine", "--hidden", "16,16", "--epochs", "200", "--no-plots", "--json"], "r2"),
    (["train", "--dataset", "xor", "--activation", "relu", "--optimizer", "momentum", "--lr", "0.05",
      "--batch-size", "32", "--epochs", "50", "--no-plots", "--json"], "accuracy"),
    (["train", "--dataset", "breast_cancer", "--early-stopping", "5", "--epochs", "300", "--no-plots", "--json"], "accuracy"),
    (["train", "--dataset", "digits", "--hidden", "32,32,32", "--activation", "relu", "--batch-norm", "--dropout",
      "0.1", "--residual", "--batch-size", "64", "--epochs", "5", "--no-plots", "--json"], "accuracy"),
])
def test_train_options(argv, expected, capsys):
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert expected in report["test"]


@pytest.mark.parametrize("argv, message", [
    (["train", "--lr", "0"], "--lr: must be a finite number > 0, got 0"),
    (["train", "--epochs", "0"], "--epochs: must be >= 1, got 0"),
    (["train", "--batch-size", "-2"], "--batch-size: must be >= 1, got -2"),
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--activation", "swish"], "invalid choice: 'swish'"),
    (["train", "--hidden", "8,x"], "expected comma-separated integers"),
    (["train", "--test-size", "1.5", "--no-plots"], "--test-size must be in (0, 1), got 1.5"),
    (["train", "--loss", "hinge", "--dataset", "iris", "--no-plots"], "loss hinge is for two classes but dataset iris has 3"),
    (["train", "--loss", "bce", "--dataset", "sine", "--no-plots"], "is a regression problem"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["train", "--dropout", "1"], "--dropout: must be in [0, 1), got 1"),
])
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_diverging_training_exits_1(capsys):
    code = main(["train", "--dataset", "diabetes", "--standardize", "no", "--optimizer", "sgd", "--lr", "10",
                 "--no-plots", "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "training failed" in err and "epoch" in err and err.count("\n") == 1


def test_a_figure_that_cannot_be_drawn_leaves_no_model_file(tmp_path, monkeypatch, capsys):
    # the figures are drawn before the model is saved: an error in one writes nothing at all
    from chainrule import plot

    def broken(*args, **kwargs):
        raise ValueError("this figure cannot be drawn")

    monkeypatch.setattr(plot, "network_diagram", broken)
    model, plots = tmp_path / "m.chainrule", tmp_path / "plots"
    assert main(["train", "--epochs", "5", "--quiet", "--save", str(model), "--plots", str(plots)]) == 2
    assert "this figure cannot be drawn" in capsys.readouterr().err
    assert not model.exists() and not plots.exists()


def test_weights_restored_by_the_training_loss_are_reported_even_at_the_last_epoch(capsys):
    # without validation, early stopping restores the weights the best epoch *started* from:
    # other than the last epoch's weights even when the best epoch is the last one
    args = ["train", "--early-stopping", "20", "--validation-size", "0", "--epochs", "60", "--no-plots"]
    assert main([*args, "--json"]) == 0
    restored = json.loads(capsys.readouterr().out)["restored_epoch"]
    assert restored is not None
    assert main([*args, "--quiet"]) == 0
    assert f"restored the weights epoch {restored} started from (lowest training loss)" in capsys.readouterr().out


def test_a_figure_left_from_an_earlier_run_is_pointed_out(tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["train", "--epochs", "5", "--quiet", "--plots", str(plots)]) == 0  # moons: a decision boundary
    capsys.readouterr()
    assert main(["train", "--dataset", "sine", "--epochs", "5", "--quiet", "--plots", str(plots)]) == 0
    err = capsys.readouterr().err
    assert f"{plots / 'decision_boundary.png'} is from an earlier run: this one did not write it" in err
    assert (plots / "decision_boundary.png").exists() and (plots / "fit.png").exists()  # nothing deleted


def test_no_stratify_and_seed_42_is_seed_002s_own_split_of_moons():
    """The built-in moons are seed 002's points in make_moons' order, so the CLI's split with
    --no-stratify --seed 42 is the seed's train_test_split(..., random_state=42)."""
    import numpy as np

    from chainrule.cli.train import Problem, split
    from chainrule.datasets import load_builtin, moons

    X, y, task = load_builtin("moons", seed=42)
    parts = split(Problem(X, y, task, "moons"), X, y, 0.3, 42, "train and test", stratified=False)
    for part, expected in zip(parts, moons()):
        np.testing.assert_array_equal(part, expected)
