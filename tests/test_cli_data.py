"""The command line on the user's own tables: train --data/--save, predict, evaluate, datasets."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main


@pytest.fixture
def wine_csv(tmp_path):
    from sklearn.datasets import load_wine

    data = load_wine(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame["cultivar"] = [f"c{i}" for i in data.target]
    path = tmp_path / "wine.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_train_save_predict_evaluate(tmp_path, wine_csv, capsys):
    path, frame = wine_csv
    model = tmp_path / "wine.chainrule"
    assert main(["train", "--data", str(path), "--target", "cultivar", "--epochs", "150", "--save", str(model),
                 "--no-plots", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test"]["accuracy"] >= 0.9 and report["network"][-1] == 3

    features = tmp_path / "features.csv"
    frame.drop(columns="cultivar").iloc[:7].to_csv(features, index=False)
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(features), "--out", str(out)]) == 0
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["prediction", "p_c0", "p_c1", "p_c2"] and len(predictions) == 7
    np.testing.assert_allclose(predictions[["p_c0", "p_c1", "p_c2"]].sum(axis=1), 1.0)
    assert (predictions["prediction"] == frame["cultivar"].iloc[:7].to_numpy()).mean() >= 6 / 7

    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["rows"] == len(frame) and metrics["accuracy"] >= 0.95


def test_regression_table(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["y"] = 2 * frame.a - frame.b + 0.5 * frame.c**2 + rng.normal(0, 0.05, 200)
    path, model = tmp_path / "reg.parquet", tmp_path / "reg.chainrule"
    frame.to_parquet(path)
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "300", "--save", str(model),
                 "--no-plots", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test"]["r2"] > 0.9
    assert main(["predict", str(model), str(path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 200


def _frame(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("make, message", [
    (lambda: pd.DataFrame({"x": [1.0, None, 3.0, 4.0] * 5, "t": [0, 1] * 10}), "feature column 'x' has a missing value in row 2"),
    (lambda: pd.DataFrame({"x": ["a", "b"] * 10, "t": [0, 1] * 10}), "feature column 'x' is not numeric"),
    (lambda: pd.DataFrame({"x": range(20), "label": [0, 1] * 10}), "has no target column 't'"),
    (lambda: pd.DataFrame({"x": range(20), "t": [1] * 20}), "single class"),
    (lambda: pd.DataFrame({"x": range(3), "t": [0, 1, 0]}), "has 3 rows; a train/test split needs at least"),
    (lambda: pd.DataFrame({"x": range(20), "t": [0, 1] * 9 + [None, 1]}), "target column 't' has a missing value in row 19"),
])
def test_bad_tables_exit_2_and_write_nothing(tmp_path, make, message, capsys):
    data = _frame(tmp_path, "bad.csv", make())
    model = tmp_path / "never.chainrule"
    assert main(["train", "--data", data, "--target", "t", "--save", str(model), "--no-plots", "--quiet",
                 "--plots", str(tmp_path / "plots")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not model.exists() and not (tmp_path / "plots").exists()


def test_foreign_model_file_and_missing_columns(tmp_path, wine_csv, capsys):
    path, frame = wine_csv
    fake = tmp_path / "model.chainrule"
    fake.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    assert main(["predict", str(fake), str(path)]) == 2
    assert "pickle" in capsys.readouterr().err
    model = tmp_path / "wine.chainrule"
    main(["train", "--data", str(path), "--target", "cultivar", "--epochs", "5", "--save", str(model), "--no-plots", "--quiet"])
    capsys.readouterr()
    partial = _frame(tmp_path, "partial.csv", frame.drop(columns=["alcohol", "cultivar"]))
    assert main(["predict", str(model), partial]) == 2
    assert "lacks the feature column(s) 'alcohol'" in capsys.readouterr().err
    assert main(["evaluate", str(model), partial]) == 2


def test_datasets_lists_the_builtins(capsys):
    assert main(["datasets", "--json"]) == 0
    names = [row["name"] for row in json.loads(capsys.readouterr().out)]
    assert {"moons", "iris", "diabetes", "sine"} <= set(names)
