"""evaluate and train splits as the CLI audit found them: a feature named as the target, a
target too large for the metrics, R² of one row, a validation part of one row, standard JSON."""

import json

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main
from chainrule.datasets import load_table
from conftest import one_line_error


@pytest.fixture
def regression(tmp_path, capsys):
    """A table of 40 rows (a, b -> y) and a model trained on it: (table path, model path)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": X @ [1.0, -2.0]})
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "reg.model"
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "2", "--no-plots", "--quiet",
                 "--save", str(model)]) == 0
    capsys.readouterr()
    return path, model


def test_a_feature_column_as_the_target_is_named(regression, capsys):
    path, model = regression
    err = one_line_error(["evaluate", str(model), str(path), "--target", "a"], capsys)
    assert "--target a is one of the model's feature columns" in err and "not numeric" not in err
    with pytest.raises(ValueError, match="'a' is both the target and one of the feature columns"):
        load_table(path, "a", features=["a", "b"])


def test_a_target_too_large_for_the_metrics_is_refused_before_work(regression, capsys):
    path, model = regression
    frame = pd.read_csv(path)
    frame.loc[3, "y"] = 1e308
    frame.to_csv(path, index=False)
    err = one_line_error(["evaluate", str(model), str(path), "--json"], capsys)
    assert "target column 'y' holds values too large for R² and the MSE" in err and "RuntimeWarning" not in err


def test_r2_of_one_row_is_undefined_not_a_number(regression, tmp_path, capsys):
    path, model = regression
    one = tmp_path / "one.csv"
    pd.read_csv(path).head(1).to_csv(one, index=False)
    assert main(["evaluate", str(model), str(one), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)  # strict JSON: no NaN
    assert metrics["rows"] == 1 and metrics["r2"] is None and metrics["mse"] >= 0
    assert main(["evaluate", str(model), str(one)]) == 0
    assert "undefined (R² needs 2 rows)" in capsys.readouterr().out


def test_json_output_never_holds_nan():
    from chainrule.cli._output import json_text

    assert json_text({"r2": None}) == '{"r2": null}'
    with pytest.raises(ValueError, match="would hold test.mse = inf"):
        json_text({"test": {"mse": float("inf")}})


def test_a_validation_part_of_one_row_is_refused(regression, capsys):
    path, _ = regression
    small = path.with_name("small.csv")
    pd.read_csv(path).head(10).to_csv(small, index=False)
    err = one_line_error(["train", "--data", str(small), "--target", "y", "--validation-size", "0.1", "--no-plots",
                          "--epochs", "1"], capsys)
    assert "the training part has 7 rows; a training/validation split with --validation-size 0.1 needs at least " \
           "20" in err and "use --validation-size 0.29 to 0.5" in err


def test_predictions_too_large_for_the_metrics_give_no_warnings(regression, capsys):
    import chainrule

    path, model = regression
    net = chainrule.load(model)
    net.save(model, **{**net.metadata, "target_std": 1e300})  # predictions near 1e300: their squares overflow
    err = one_line_error(["evaluate", str(model), str(path), "--json"], capsys)
    assert "the JSON output would hold r2 = -inf, which JSON cannot represent" in err
    assert main(["evaluate", str(model), str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "inf" in captured.out


@pytest.fixture(scope="module")
def multilabel_model(tmp_path_factory):
    from sklearn.datasets import make_multilabel_classification

    from chainrule.estimators import NeuralNetClassifier

    folder = tmp_path_factory.mktemp("multilabel")
    X, Y = make_multilabel_classification(n_samples=200, n_features=4, n_classes=3, random_state=0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=50, random_state=0).fit(frame, Y)
    frame.to_csv(folder / "x.csv", index=False)
    frame.assign(y=Y[:, 0]).to_csv(folder / "xy.csv", index=False)
    return clf, frame, clf.save(folder / "ml.chainrule"), folder


def test_predict_writes_one_decision_and_probability_per_label(multilabel_model, tmp_path, capsys):
    clf, frame, model, folder = multilabel_model
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(folder / "x.csv"), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["prediction_0", "prediction_1", "prediction_2", "p_0", "p_1", "p_2"]
    np.testing.assert_array_equal(written.filter(like="prediction_").to_numpy(), clf.predict(frame))
    np.testing.assert_allclose(written.filter(like="p_").to_numpy(), clf.predict_proba(frame), rtol=1e-12)


def test_evaluate_refuses_a_multilabel_model_by_name(multilabel_model, capsys):
    _, _, model, folder = multilabel_model
    err = one_line_error(["evaluate", str(model), str(folder / "xy.csv"), "--target", "y"], capsys)
    assert "is a multilabel classifier (3 label columns): evaluate reads one target column" in err
