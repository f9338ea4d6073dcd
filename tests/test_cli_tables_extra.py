"""Tables as scientists write them: a saved pandas index, many integer values, many classes,
estimator files with a recorded target."""

import json

import numpy as np
import pandas as pd

from chainrule import plot
from chainrule.cli import main
from chainrule.estimators import NeuralNetClassifier


def _frame(n=120, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    frame["y"] = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return frame


def test_a_saved_pandas_index_is_refused_not_learned(tmp_path, capsys):
    path = tmp_path / "with_index.csv"
    _frame().sort_values("y").to_csv(path)  # index=True: the row number leaks the sorted target
    assert main(["train", "--data", str(path), "--target", "y", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "column 1 has no name in the header (pandas calls it 'Unnamed: 0')" in err and err.count("\n") == 1


def test_many_integer_values_say_they_are_treated_as_regression(tmp_path, capsys):
    frame = _frame(200)
    frame["y"] = np.random.default_rng(1).permutation(np.arange(200) % 50)  # exactly 50 codes
    path = tmp_path / "codes.csv"
    frame.to_csv(path, index=False)
    assert main(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "note: target 'y' holds 50 different integers (over 20): treated as regression" in out
    assert main(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "2", "--json"]) == 0
    assert "treated as regression" in json.loads(capsys.readouterr().out)["note"]


def test_evaluate_says_when_the_confusion_matrix_does_not_fit(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["y"] = [f"class_{i:02d}" for i in rng.integers(0, 30, size=600)]
    path, model = tmp_path / "many.csv", tmp_path / "many.chainrule"
    frame.to_csv(path, index=False)
    assert main(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "2", "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), str(path)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix of 30 classes not shown" in out and "--json has every count" in out
    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["confusion_matrix"]["counts"]) == 30


def test_confusion_matrix_plot_stays_small_for_many_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 200, size=4000)
    fig = plot.confusion_matrix(y, np.where(rng.random(4000) < 0.5, y, rng.integers(0, 200, size=4000)))
    width, height = fig.get_size_inches()
    assert width < 18 and height < 18
    assert len(fig.axes[0].texts) == 0 and len(fig.axes[0].get_xticks()) <= plot.models.MAX_NAMED_CLASSES
    few = plot.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    assert sorted(t.get_text() for t in few.axes[0].texts) == sorted(["1", "0", "0", "0", "1", "1", "0", "0", "1"])


def test_predict_drops_the_recorded_target_of_an_array_fitted_estimator(tmp_path, capsys):
    frame = _frame()
    estimator = NeuralNetClassifier(hidden_layer_sizes=(4,), epochs=5, random_state=0)
    estimator.fit(frame[["x0", "x1", "x2"]].to_numpy(), frame["y"].to_numpy())
    model, path = tmp_path / "e.chainrule", tmp_path / "t.csv"
    estimator.save(model, target="y")
    frame.to_csv(path, index=False)
    assert main(["evaluate", str(model), str(path)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(frame) and {"prediction", "p_0", "p_1"} <= set(rows[0])
