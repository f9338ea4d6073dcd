"""Tables the CLI audit found read wrong: rows longer than the header, a file without a
header, an index in a Parquet file."""

import json

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main
from chainrule.datasets import load_table
from conftest import one_line_error


def _rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).round(3), rng.integers(0, 2, size=n)


def test_rows_with_a_field_more_than_the_header_are_refused(tmp_path, capsys):
    X, y = _rows(20)
    path = tmp_path / "shifted.csv"
    # a row ID in front of every row, under a header that does not name it
    path.write_text("a,b,y\n" + "".join(f"{i},{a},{b},{t}\n" for i, ((a, b), t) in enumerate(zip(X, y))))
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "1"], capsys)
    assert "data row 1 (header not counted) has 4 fields, the header names 3" in err


def test_a_trailing_separator_on_every_row_is_named(tmp_path, capsys):
    X, y = _rows(20)
    path = tmp_path / "trailing.csv"
    path.write_text("a,b,y\n" + "".join(f"{a},{b},{t},\n" for (a, b), t in zip(X, y)))
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "1"], capsys)
    assert "has 4 fields, the header names 3" in err and "lines read after the header end with a separator" in err
    assert "missing value" not in err


@pytest.mark.parametrize("row", [5, 80])  # within the lines read to find the layout, and past them
def test_one_long_row_is_named(tmp_path, row, capsys):
    X, y = _rows(100)
    lines = [f"{a},{b},{t}\n" for (a, b), t in zip(X, y)]
    lines[row - 1] = "1,2,3,0\n"
    path = tmp_path / "one_long.csv"
    path.write_text("a,b,y\n" + "".join(lines))
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "1"], capsys)
    where = "data row 5 (header not counted)" if row == 5 else "line 81"
    assert f"{where} has 4 fields, the header names 3" in err


def test_predict_refuses_a_file_without_a_header(tmp_path, capsys):
    from chainrule.estimators import NeuralNetClassifier

    X, y = _rows(30)
    model = tmp_path / "array.model"
    NeuralNetClassifier(hidden_layer_sizes=(2,), epochs=2, random_state=0).fit(X, y).save(model)
    path = tmp_path / "noheader.csv"
    np.savetxt(path, X[:5], delimiter=",")
    err = one_line_error(["predict", str(model), str(path)], capsys)
    assert "is all numbers: the file seems to have no header" in err and "add a header line" in err
    # pandas' default names for an array's columns are a header
    pd.DataFrame(X[:5]).to_csv(path, index=False)
    assert main(["predict", str(model), str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 5


def test_a_named_parquet_index_is_a_column(tmp_path):
    X, y = _rows(30)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    path = tmp_path / "indexed.parquet"
    frame.set_index("a").to_parquet(path)
    table = load_table(path, "y")
    assert table.feature_names == ["a", "b"]
    np.testing.assert_array_equal(table.X, X)
    # an unnamed index (the row labels a filter leaves) is not data
    frame[frame.a > 0].to_parquet(path)
    assert load_table(path, "y").feature_names == ["a", "b"]


def test_train_on_a_named_parquet_index(tmp_path, capsys):
    X, y = _rows(30)
    path = tmp_path / "indexed.parquet"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).set_index("a").to_parquet(path)
    assert main(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["network"][0] == 2
