"""``chainrule train`` checks what it is asked before any work, and reports what it did:
losses that fit the target, devices, validation rows, hidden layers, seeds, negative numbers,
the loss curve's units."""

import json

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main
from conftest import one_line_error


@pytest.fixture
def iris_csv(iris_table):
    return iris_table


def _csv(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("loss, keep, message", [
    ("mse", None, "loss mse is a regression loss but the target 'species' is categorical (3 classes): "
                  "use --loss cross_entropy"),
    ("huber", ["setosa", "versicolor"], "loss huber is a regression loss but the target 'species' is categorical "
                                        "(2 classes): use --loss bce or cross_entropy"),
    ("sse", ["setosa", "virginica"], "is categorical (2 classes)"),
])
def test_regression_loss_on_classes_is_refused(tmp_path, iris_csv, loss, keep, message, capsys):
    _, frame = iris_csv
    if keep:
        frame = frame[frame.species.isin(keep)]
    model = tmp_path / "m.chainrule"
    err = one_line_error(["train", "--data", _csv(tmp_path, "t.csv", frame), "--target", "species",
                            "--loss", loss, "--save", str(model), "--no-plots", "--quiet"], capsys)
    assert message in err and "--task regression" not in err  # string labels cannot be regressed
    assert not model.exists()


def test_regression_loss_on_numbered_classes_suggests_task_regression(tmp_path, iris_csv, capsys):
    _, frame = iris_csv
    frame = frame.assign(species=frame.species.map({"setosa": 1, "versicolor": 2, "virginica": 3}))
    err = one_line_error(["train", "--data", _csv(tmp_path, "k.csv", frame), "--target", "species",
                            "--loss", "mse", "--no-plots"], capsys)
    assert "use --loss cross_entropy (or --task regression)" in err


def test_regression_loss_on_a_builtin_classification_dataset_is_refused(capsys):
    err = one_line_error(["train", "--dataset", "moons", "--loss", "mse", "--no-plots"], capsys)
    assert "loss mse is a regression loss but dataset moons is categorical (2 classes)" in err
    assert "--task regression" not in err and "seed_000" not in err


def test_squared_error_on_the_lecture_dataset_points_to_the_seed_000_example(capsys):
    err = one_line_error(["train", "--dataset", "lecture", "--loss", "sse", "--no-plots"], capsys)
    assert "use --loss bce or cross_entropy" in err and "examples/seed_000_lecture.py" in err


def test_cross_entropy_on_two_classes_still_trains(tmp_path, iris_csv, capsys):
    _, frame = iris_csv
    data = _csv(tmp_path, "two.csv", frame[frame.species != "virginica"])
    assert main(["train", "--data", data, "--target", "species", "--loss", "cross_entropy", "--epochs", "30",
                 "--no-plots", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["network"][-1] == 2 and report["test"]["accuracy"] >= 0.9


def test_non_numeric_feature_quotes_the_offending_cell_and_its_row(tmp_path, iris_csv, capsys):
    _, frame = iris_csv
    frame = frame.astype({"sepal_width": object})
    frame.loc[100, "sepal_width"] = "?"  # data row 101, line 102 of the file
    err = one_line_error(["train", "--data", _csv(tmp_path, "q.csv", frame), "--target", "species",
                            "--no-plots"], capsys)
    assert "feature column 'sepal_width' is not numeric: data row 101 holds '?' (header not counted)" in err


@pytest.mark.parametrize("backend_error", ["device='cuda' needs CuPy (pip install cupy-cuda12x) and an NVIDIA GPU",
                                           "device='cuda' was asked for but no CUDA GPU is visible"])
def test_cuda_without_cupy_or_gpu_is_one_line_before_reading_data(tmp_path, monkeypatch, backend_error, capsys):
    import chainrule.backend

    def unavailable():
        raise RuntimeError(backend_error)

    monkeypatch.setattr(chainrule.backend, "cupy_module", unavailable)
    err = one_line_error(["train", "--data", str(tmp_path / "absent.csv"), "--target", "y", "--device", "cuda",
                            "--no-plots"], capsys)
    assert f"--device cuda: {backend_error}" in err and "absent.csv" not in err


def test_validation_rows_are_held_out_and_reported_apart(tmp_path, iris_csv, capsys):
    path, _ = iris_csv
    assert main(["train", "--data", str(path), "--target", "species", "--validation-size", "0.3", "--epochs", "40",
                 "--no-plots", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # 150 rows: 45 test; of the 105 training rows 32 are held out for validation, 73 trained on
    assert report["rows"] == {"train": 73, "validation": 32, "test": 45}
    assert set(report["validation"]) == {"loss", "accuracy"} and report["final_val_loss"] is not None
    np.testing.assert_allclose(report["validation"]["loss"], report["final_val_loss"])


def test_validation_row_in_the_table(tmp_path, iris_csv, capsys):
    path, _ = iris_csv
    assert main(["train", "--data", str(path), "--target", "species", "--validation-size", "0.2", "--epochs", "5",
                 "--no-plots", "--quiet"]) == 0
    out = capsys.readouterr().out
    for row in ("│ train      │   84 │", "│ validation │   21 │", "│ test       │   45 │"):
        assert row in out


def test_early_stopping_holds_out_a_fifth_unless_told_otherwise(capsys):
    argv = ["train", "--dataset", "iris", "--early-stopping", "5", "--epochs", "40", "--no-plots", "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"train": 84, "validation": 21, "test": 45}
    assert main([*argv, "--validation-size", "0"]) == 0  # then it watches the training loss
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == {"train": 105, "test": 45} and report["final_val_loss"] is None


@pytest.mark.parametrize("value, message", [
    ("0.99", "--validation-size: must be in [0, 0.5] (the rest of the training part is trained on), got 0.99"),
    ("1", "--validation-size: must be in [0, 0.5]"),
    ("-0.1", "--validation-size: must be a finite number >= 0, got -0.1"),
])
def test_validation_size_must_leave_most_rows_for_training(value, message, capsys):
    err = one_line_error(["train", "--validation-size", value, "--no-plots"], capsys)
    assert message in err


def test_hidden_zero_is_refused_and_none_is_labelled_honestly(capsys):
    err = one_line_error(["train", "--hidden", "0", "--no-plots"], capsys)
    assert "--hidden: layer sizes must be >= 1, got '0'; 'none' means no hidden layer" in err
    assert main(["train", "--dataset", "iris", "--hidden", "none", "--epochs", "5", "--no-plots", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "network 4-3 (no hidden layer)" in out and "tanh" not in out
    assert main(["train", "--dataset", "iris", "--hidden", "none", "--epochs", "5", "--no-plots", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["network"] == [4, 3] and report["activation"] is None


@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "--seed: must be >= 0, got -1"),
    (["--seed", "x"], "--seed: expected an integer, got 'x'"),
    (["--lr", "-1e-3"], "--lr: must be a finite number > 0, got -1e-3"),
    (["--l2", "-2.5E+1"], "--l2: must be a finite number >= 0, got -2.5E+1"),
    (["--lr", "-x"], "--lr: expected one argument"),  # not a number: argparse's own message stays
])
def test_seed_and_negative_numbers_are_checked_when_parsing(argv, message, capsys):
    err = one_line_error(["train", *argv, "--no-plots"], capsys)
    assert message in err


def test_classification_of_a_continuous_target_is_a_short_message(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=120), "y": rng.normal(size=120)})
    data = _csv(tmp_path, "c.csv", frame)
    err = one_line_error(["train", "--data", data, "--target", "y", "--task", "classification", "--no-plots"], capsys)
    assert ("cannot split 120 rows into train and test: target 'y' has 120 distinct values (classes), "
            "120 of them in a single row") in err
    assert "(e.g. " in err and "is it a regression target (--task regression)?" in err
    assert len(err.replace(data, "")) < 300  # three examples, not all 120 values


def _loss_curve_labels(monkeypatch):
    import chainrule.cli._train_report as report

    labels = {}
    save = report.save_figure

    def spy(figure, path):
        labels[path.name] = figure.axes[0].get_ylabel()
        save(figure, path)

    monkeypatch.setattr(report, "save_figure", spy)
    return labels


@pytest.mark.parametrize("extra, label", [
    ([], "loss (mse, standardised target)"),
    (["--standardize-target", "no"], "loss (mse)"),
])
def test_loss_curve_says_when_the_target_was_standardised(tmp_path, monkeypatch, extra, label, capsys):
    labels = _loss_curve_labels(monkeypatch)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = 100 + 30 * frame.a + rng.normal(size=60)
    assert main(["train", "--data", _csv(tmp_path, "r.csv", frame), "--target", "y", "--epochs", "5", "--quiet",
                 "--plots", str(tmp_path / "plots"), *extra]) == 0
    assert labels["loss_curve.png"] == label


def test_a_diverging_classification_run_exits_1_and_writes_nothing(iris_csv, tmp_path, capsys):
    """Cross-entropy on logits stays finite however far the weights blow up; the CLI still stops."""
    path, _ = iris_csv
    model = tmp_path / "m.chainrule"
    model.write_bytes(b"the user's old file")
    code = main(["train", "--data", str(path), "--target", "species", "--lr", "1e6", "--optimizer", "sgd",
                 "--save", str(model), "--plots", str(tmp_path / "plots")])
    err = capsys.readouterr().err
    assert code == 1 and "diverged" in err and "over 1000×" in err and err.count("\n") == 1
    assert model.read_bytes() == b"the user's old file" and not (tmp_path / "plots").exists()
