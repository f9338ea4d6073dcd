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
    (lambda: pd.DataFrame({"x": [1.0, None, 3.0, 4.0] * 5, "t": [0, 1] * 10}), "feature column 'x' has a missing value in data row 2 (header not counted)"),
    (lambda: pd.DataFrame({"x": ["a", "b"] * 10, "t": [0, 1] * 10}), "feature column 'x' is not numeric"),
    (lambda: pd.DataFrame({"x": range(20), "label": [0, 1] * 10}), "has no target column 't'"),
    (lambda: pd.DataFrame({"x": range(20), "t": [1] * 20}), "single class"),
    (lambda: pd.DataFrame({"x": range(3), "t": [0, 1, 0]}), "has 3 rows; a train/test split needs at least"),
    (lambda: pd.DataFrame({"x": range(20), "t": [0, 1] * 9 + [None, 1]}), "target column 't' has a missing value in data row 19 (header not counted)"),
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
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"moons", "iris", "diabetes", "sine"} <= set(rows)
    assert rows["iris"] == {"name": "iris", "task": "multiclass", "samples": 150, "features": 4,
                            "description": rows["iris"]["description"]}
    assert rows["diabetes"]["task"] == "regression" and rows["moons"]["samples"] == 200


def test_plots_in_the_tables_units(tmp_path, capsys):
    """--plots DIR: loss curve, decision boundary with column names and class labels, confusion
    matrix with the labels, network diagram; 1-D regression gets the fit, wider regression a parity plot."""
    import matplotlib.image

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * [10.0, 0.1] + [50.0, 0.0]
    pets = pd.DataFrame({"length": X[:, 0], "width": X[:, 1],
                         "species": np.where(X[:, 0] - 50 + 100 * X[:, 1] > 0, "dog", "cat")})
    plots = tmp_path / "pets-plots"
    assert main(["train", "--data", _frame(tmp_path, "pets.csv", pets), "--target", "species", "--epochs", "100",
                 "--plots", str(plots), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in plots.iterdir()) == ["confusion_matrix.png", "decision_boundary.png",
                                                       "loss_curve.png", "network.png"]
    assert report["test"]["accuracy"] > 0.9 and report["standardized"] == {"features": True, "target": False}
    assert matplotlib.image.imread(plots / "decision_boundary.png").shape[0] > 300

    x = rng.uniform(0, 100, 150)
    crops = pd.DataFrame({"temperature": x, "yield_kg": 1000 + 300 * np.sin(x / 15) + rng.normal(0, 10, 150)})
    fit_plots = tmp_path / "fit-plots"
    assert main(["train", "--data", _frame(tmp_path, "crops.csv", crops), "--target", "yield_kg", "--epochs", "300",
                 "--plots", str(fit_plots), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in fit_plots.iterdir()) == ["fit.png", "loss_curve.png", "network.png"]
    assert report["standardized"]["target"] and report["test"]["r2"] > 0.9 and report["test"]["rmse"] < 60

    wide = crops.assign(noise=rng.normal(size=150))
    assert main(["train", "--data", _frame(tmp_path, "wide.csv", wide), "--target", "yield_kg", "--epochs", "20",
                 "--plots", str(tmp_path / "wide-plots"), "--quiet"]) == 0
    assert (tmp_path / "wide-plots" / "parity.png").exists()


def test_regression_predictions_are_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    frame["price"] = 5000 + 800 * frame.a - 300 * frame.b
    model = tmp_path / "price.chainrule"
    assert main(["train", "--data", _frame(tmp_path, "p.csv", frame), "--target", "price", "--hidden", "none",
                 "--epochs", "400", "--lr", "0.05", "--save", str(model), "--no-plots", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "p.csv"), "--json"]) == 0
    predicted = np.array([row["prediction"] for row in json.loads(capsys.readouterr().out)])
    np.testing.assert_allclose(predicted, frame.price, rtol=1e-3)
    assert main(["evaluate", str(model), str(tmp_path / "p.csv"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["r2"] > 0.999 and metrics["rmse"] < 5 and set(metrics) == {"rows", "r2", "mse", "rmse", "mae"}


def test_estimator_files_work_with_predict_and_evaluate(tmp_path, wine_csv, capsys):
    from chainrule.estimators import NeuralNetClassifier
    from chainrule.models import LinearSVMGD

    _, frame = wine_csv
    features = frame.drop(columns="cultivar")
    scaled = (features - features.mean()) / features.std()
    table = _frame(tmp_path, "scaled.csv", scaled.assign(cultivar=frame.cultivar))
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=80, random_state=0).fit(scaled, frame.cultivar)
    clf.save(tmp_path / "clf.chainrule", target="cultivar")
    assert main(["evaluate", str(tmp_path / "clf.chainrule"), table, "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["accuracy"] == pytest.approx(clf.score(scaled, frame.cultivar))
    assert metrics["confusion_matrix"]["labels"] == ["c0", "c1", "c2"]
    assert np.sum(metrics["confusion_matrix"]["counts"]) == len(frame)
    assert main(["predict", str(tmp_path / "clf.chainrule"), table]) == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    np.testing.assert_allclose(out[["p_c0", "p_c1", "p_c2"]].to_numpy(), clf.predict_proba(scaled), rtol=1e-12)

    svm = LinearSVMGD(random_state=0).fit(scaled.to_numpy(), frame.cultivar)  # no feature names: by position
    svm.save(tmp_path / "svm.chainrule")
    assert main(["evaluate", str(tmp_path / "svm.chainrule"), table]) == 2
    assert "name it with --target COLUMN" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "svm.chainrule"), table, "--target", "cultivar", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loss_name"] == "hinge"
    assert main(["predict", str(tmp_path / "svm.chainrule"), table, "--json"]) == 2  # the target is a column too
    assert "not numeric" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "svm.chainrule"), _frame(tmp_path, "x.csv", scaled), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) == {"prediction", "margin_c0", "margin_c1", "margin_c2"}


def test_save_target_checked_before_training(tmp_path, wine_csv, capsys):
    path, _ = wine_csv
    missing = tmp_path / "no-such-dir" / "m.chainrule"
    assert main(["train", "--data", str(path), "--target", "cultivar", "--save", str(missing), "--no-plots"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--data", str(path), "--target", "cultivar", "--save", str(tmp_path), "--no-plots"]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["train", "--data", str(path), "--target", "cultivar", "--plots", str(path)]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "none.chainrule"), str(path), "--out", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_training_failure_exits_1_and_writes_nothing(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60) * 1e3, "y": rng.normal(size=60) * 1e6})
    model = tmp_path / "m.chainrule"
    code = main(["train", "--data", _frame(tmp_path, "d.csv", frame), "--target", "y", "--standardize", "no",
                 "--optimizer", "sgd", "--lr", "10", "--save", str(model), "--plots", str(tmp_path / "p"), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "training failed" in err and err.count("\n") == 1
    assert not model.exists() and not (tmp_path / "p").exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "it is empty"),
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(300)), "not a chainrule model file"),
    (lambda p: __import__("safetensors.numpy").numpy.save_file({"w": np.zeros(3)}, str(p)), "from another tool"),
])
def test_model_files_from_elsewhere_exit_2(tmp_path, wine_csv, make, message, capsys):
    path, _ = wine_csv
    model = tmp_path / "other.chainrule"
    make(model)
    out = tmp_path / "out.csv"
    for argv in (["predict", str(model), str(path), "--out", str(out)], ["evaluate", str(model), str(path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_split_needs_enough_rows_per_class(tmp_path, capsys):
    frame = pd.DataFrame({"x": range(12), "t": ["a"] * 6 + ["b"] * 5 + ["c"]})
    assert main(["train", "--data", _frame(tmp_path, "few.csv", frame), "--target", "t", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert ("cannot split 12 rows into train and test: target 't' has 3 distinct values (classes), 1 of them in a "
            "single row (e.g. 'c'); a stratified split needs at least 2 rows per class") in err and err.count("\n") == 1
    assert "regression" not in err  # string labels: no hint to regress them


def test_human_readable_outputs(tmp_path, wine_csv, capsys):
    path, _ = wine_csv
    model = tmp_path / "wine.chainrule"
    assert main(["train", "--data", str(path), "--target", "cultivar", "--epochs", "30", "--save", str(model),
                 "--no-plots", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "loss (cross_entropy)" in out and "accuracy" in out and f"wrote {model}" in out
    assert main(["evaluate", str(model), str(path)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "c2" in out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "breast_cancer" in out and "1797" in out
