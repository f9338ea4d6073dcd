"""Finite values too large for the scaling, and targets whose task the table leaves open:
refused or noted in one line before training, naming the column (found by an audit)."""

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main
from conftest import one_line_error


def _regression_table(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["y"] = frame["a"] * 3 + rng.normal(scale=0.1, size=n)
    frame.to_csv(path, index=False)
    return frame


def test_train_refuses_a_feature_column_too_large_to_standardise(iris_table, tmp_path, capsys):
    path, frame = iris_table
    frame = frame.copy()
    frame["sepal_length"] *= 1e200
    frame.to_csv(path, index=False)
    err = one_line_error(["train", "--data", str(path), "--target", "species", "--save", str(tmp_path / "m.chainrule"),
                          "--plots", str(tmp_path / "plots")], capsys)
    assert err == ("chainrule: error: feature column 'sepal_length' holds values too large to standardise (largest "
                   "|value| 7.9e+200: the variance overflows); rescale it, e.g. to other units\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.csv"]  # no model, no plots


def test_train_refuses_a_target_too_large_to_standardise(tmp_path, capsys):
    frame = _regression_table(tmp_path / "t.csv")
    frame.loc[3, "y"] = 1e300
    frame.to_csv(tmp_path / "t.csv", index=False)
    err = one_line_error(["train", "--data", str(tmp_path / "t.csv"), "--target", "y", "--no-plots"], capsys)
    assert "target column 'y' holds values too large to standardise (largest |value| 1e+300" in err


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_finite_value_that_overflows_the_scaling_is_named_by_column_and_row(tmp_path, capsys, command):
    frame = _regression_table(tmp_path / "train.csv")
    frame["b"] *= 0.01  # a std of about 0.01: 1e308 / 0.01 overflows
    frame.to_csv(tmp_path / "train.csv", index=False)
    model = tmp_path / "m.chainrule"
    assert main(["train", "--data", str(tmp_path / "train.csv"), "--target", "y", "--activation", "relu",
                 "--epochs", "5", "--no-plots", "--quiet", "--save", str(model)]) == 0
    capsys.readouterr()
    frame.loc[1, "b"] = 1e308
    frame.to_csv(tmp_path / "new.csv", index=False)
    err = one_line_error([command, str(model), str(tmp_path / "new.csv")], capsys)
    assert err.startswith("chainrule: error: feature column 'b' holds 1e+308 in data row 2 (header not counted): too large "
                          "for the model's scaling (mean ")
    assert err.rstrip().endswith("it overflows")


def test_an_integer_target_of_many_values_is_noted_as_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    pd.DataFrame({"a": x, "b": rng.normal(size=300),
                  "score": np.clip(np.round(x * 4 + 8), 0, 16).astype(int)}).to_csv(tmp_path / "s.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "s.csv"), "--target", "score", "--epochs", "2", "--no-plots",
                 "--no-stratify"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert any("target 'score' holds 17 different integers: treated as that many classes; --task regression "
               "treats them as numbers" in line for line in notes)


def test_a_numeric_target_seen_once_per_value_suggests_regression(tmp_path, capsys):
    rng = np.random.default_rng(1)
    pd.DataFrame({"a": rng.normal(size=20), "weight": rng.integers(120, 200, size=20)}).to_csv(tmp_path / "w.csv",
                                                                                               index=False)
    err = one_line_error(["train", "--data", str(tmp_path / "w.csv"), "--target", "weight", "--no-plots"], capsys)
    assert err.rstrip().endswith("a stratified split needs at least 2 rows per class; is it a regression target "
                                 "(--task regression)?")


def test_a_text_column_of_one_category_is_singular(tmp_path, capsys):
    rng = np.random.default_rng(2)
    pd.DataFrame({"a": rng.normal(size=30), "flag": ["red"] * 30, "y": [0, 1] * 15}).to_csv(tmp_path / "c.csv",
                                                                                           index=False)
    err = one_line_error(["train", "--data", str(tmp_path / "c.csv"), "--target", "y", "--no-plots"], capsys)
    assert "1 category, columns flag_red)" in err
