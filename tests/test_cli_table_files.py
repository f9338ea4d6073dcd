"""Tables as other programs write them: separators and decimal commas, spaces and duplicates in
the header, labels that look like numbers or missing values, booleans, row IDs, files that are
not UTF-8 CSV, comment lines, and splits that cannot be made as asked."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main
from conftest import one_line_error
from chainrule.datasets import load_table


@pytest.fixture
def iris(iris_table):
    return iris_table[1]


def _train(path, target, capsys, *extra):
    """Train briefly; the exit code, stdout and stderr."""
    code = main(["train", "--data", str(path), "--target", target, "--epochs", "30", "--no-plots", "--quiet",
                 *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# 3: separators and decimal commas

@pytest.mark.parametrize("name, options", [
    ("excel_eu.csv", {"sep": ";", "decimal": ","}),
    ("semicolons.csv", {"sep": ";"}),
    ("tabs.tsv", {"sep": "\t"}),
    ("tabs_named_csv.csv", {"sep": "\t"}),
    ("pipes.csv", {"sep": "|"}),
])
def test_separators_and_decimal_commas_are_detected(tmp_path, iris, name, options, capsys):
    path = tmp_path / name
    iris.to_csv(path, index=False, **options)
    table = load_table(path, "species")
    np.testing.assert_array_equal(table.X, iris.drop(columns="species").to_numpy())
    assert table.feature_names == list(iris.columns[:4]) and table.classes == ["setosa", "versicolor", "virginica"]
    model = tmp_path / "m.chainrule"
    assert _train(path, "species", capsys, "--save", str(model))[0] == 0
    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 150


def test_excel_sep_line_names_the_separator(tmp_path, iris):
    path = tmp_path / "sep_line.csv"
    path.write_text("sep=;\n" + iris.to_csv(index=False, sep=";", decimal=","))
    np.testing.assert_array_equal(load_table(path, "species").X, iris.drop(columns="species").to_numpy())


def test_a_file_mixing_decimal_marks_is_named(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    path.write_text("x;y;t\n" + "".join(f"{i % 5},5;{i % 3}.5;{'ab'[i % 2]}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "feature column 'x' is not numeric: data row 1 holds '0,5'" in err and "decimal commas" in err



@pytest.mark.parametrize("cells, sep, said", [
    (["1,234.5", "2,000.25", "12,500.0"], "\t", "thousands separators ('1,234.5'): write every number without them "
                                                 "and with a decimal point (or, in a file separated by ';', tab or "
                                                 "'|', a decimal comma in every number), or leave it out"),
    (["-1.234,5", "2.000,25", "12.500,0"], ",", "thousands separators ('-1.234,5')"),
    (["1 234", "2 000", "12 500"], ",", "thousands separators ('1 234')"),
    (["1,234", "2,000", "12,500"], ",", "thousands separators or decimal commas ('1,234')"),
    (["12", "999", "4,628"], ",", "thousands separators or decimal commas ('4,628')"),  # most cells need none
    (["0,5", "1,25", "2,125"], ",", "decimal commas, which are read only in files separated by ';'"),
    (["1.100.2", "2.0.1", "3.100.0"], ",", "one 0/1 column per category"),  # versions, not numbers
])
def test_numbers_with_thousands_separators_are_named_as_such(tmp_path, capsys, cells, sep, said):
    path = tmp_path / "grouped.csv"
    rows = "".join(f'"{cells[i % 3]}"{sep}{i % 7}{sep}{i % 2}\n' for i in range(30))
    path.write_text(f"x{sep}y{sep}t\n" + rows)
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "feature column 'x' is not numeric" in err and said in err, err
    advice = err.split("(header not counted)")[1]
    assert ("thousands" in said) == ("thousands" in advice) and ("--drop x" in advice) == ("decimal commas, which" not in said)


def test_names_that_collide_once_stripped_are_refused(tmp_path, capsys):
    path = tmp_path / "collide.csv"
    path.write_text("x,x ,t\n" + "".join(f"{i % 5}.1,2,{i % 2}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "the header names column 'x' 2 times once its surrounding spaces are stripped (columns 1, 2)" in err


def test_missing_columns_are_listed_with_repr(tmp_path, capsys):
    path = tmp_path / "cols.csv"
    path.write_text("x,Species\n" + "".join(f"{i % 5}.1,{'ab'[i % 2]}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "species", "--no-plots"], capsys)
    assert "has no target column 'species' (columns: 'x', 'Species'); did you mean 'Species'?" in err


# 7: labels compared as the text in the file

def test_mixed_labels_evaluate_on_a_file_without_the_text_ones(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    frame["lab"] = np.where(frame.a > 0.5, "x", np.where(frame.b > 0, "2", "1"))
    path, model = tmp_path / "mixed.csv", tmp_path / "m.chainrule"
    frame.to_csv(path, index=False)
    assert _train(path, "lab", capsys, "--save", str(model))[0] == 0
    without_x = tmp_path / "numbers_only.csv"
    frame[frame.lab != "x"].to_csv(without_x, index=False)  # pandas reads this 'lab' as integers
    assert main(["evaluate", str(model), str(without_x), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["confusion_matrix"]["labels"] == ["1", "2", "x"] and metrics["rows"] == (frame.lab != "x").sum()


def test_zero_padded_codes_stay_text(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=120)
    path, model = tmp_path / "codes.csv", tmp_path / "m.chainrule"
    path.write_text("x,grade\n" + "".join(f"{v:.4f},{'01' if v < 0 else '02'}\n" for v in x))
    assert load_table(path, "grade").classes == ["01", "02"]
    assert _train(path, "grade", capsys, "--save", str(model))[0] == 0
    assert main(["predict", str(model), str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["prediction"] for row in rows} <= {"01", "02"} and "p_01" in rows[0]
    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] > 0.8
    assert load_table(path, "grade", task="regression").task == "regression"  # numbers when asked


# 10: NA, None, null as labels

def test_na_is_a_label_in_a_text_target(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 2))
    region = np.array(["NA", "EU", "AS"])[np.argmax(np.column_stack([X[:, 0], X[:, 1], -X.sum(axis=1)]), axis=1)]
    path, model = tmp_path / "region.csv", tmp_path / "m.chainrule"
    path.write_text("x1,x2,region\n" + "".join(f"{a:.3f},{b:.3f},{r}\n" for (a, b), r in zip(X, region)))
    code, _, err = _train(path, "region", capsys, "--save", str(model))
    assert code == 0 and err.count("\n") == 1
    assert ("chainrule: warning: " in err and "target column 'region' holds 'NA', read as class label(s), not as "
            "missing values (only empty cells are missing)" in err)
    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confusion_matrix"]["labels"] == ["AS", "EU", "NA"]
    other = tmp_path / "other.csv"
    other.write_text("x1,x2,region\n0,0,EU\n1,1,None\n")
    err = one_line_error(["evaluate", str(model), str(other)], capsys)
    assert "has label 'None' in data row 2 (header not counted), unknown to the model" in err
    assert "if 'None' marks a missing value, remove the row" in err


@pytest.mark.parametrize("values", [["null", "None", "NA"], ["null", "a", "b"]])
def test_labels_that_pandas_reads_as_missing(tmp_path, values):
    path = tmp_path / "labels.csv"
    path.write_text("x,t\n" + "".join(f"{i % 7}.5,{values[i % 3]}\n" for i in range(30)))
    with pytest.warns(UserWarning, match="read as class label"):
        assert load_table(path, "t").classes == sorted(values)


def test_na_in_a_numeric_target_is_missing_and_an_empty_label_too(tmp_path, capsys):
    path = tmp_path / "numeric.csv"
    path.write_text("x,t\n" + "".join(f"{i % 7}.5,{'NA' if i == 4 else i * 1.5}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "target column 't' has a missing value in data row 5 (header not counted) ('NA')" in err
    path.write_text("x,t\n" + "".join(f"{i % 7}.5,{'' if i == 4 else 'ab'[i % 2]}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "target column 't' has a missing value in data row 5 (header not counted)" in err


# 11: duplicate names

@pytest.mark.parametrize("header, target, message", [
    ("a,b,a,y", "y", "the header names column 'a' 2 times (columns 1, 3)"),
    ("y,x,y", "y", "the header names column 'y' 2 times (columns 1, 3)"),
])
def test_duplicate_column_names_are_refused(tmp_path, header, target, message, capsys):
    path = tmp_path / "dup.csv"
    width = header.count(",") + 1
    path.write_text(header + "\n" + "".join(",".join([f"{i % 2}"] * width) + "\n" for i in range(30)))
    model = tmp_path / "m.chainrule"
    err = one_line_error(["train", "--data", str(path), "--target", target, "--save", str(model), "--no-plots"],
                          capsys)
    assert message in err and not model.exists()


# 13: booleans are 0/1; other non-numeric columns get advice

def test_boolean_features_are_zero_and_one(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = rng.normal(size=100)
    frame = pd.DataFrame({"x": x, "flag": x > 0.3, "y": (x > 0).astype(int)})
    for path in (tmp_path / "b.csv", tmp_path / "b.parquet"):
        frame.to_csv(path, index=False) if path.suffix == ".csv" else frame.to_parquet(path)
        table = load_table(path, "y")
        np.testing.assert_array_equal(table.X[:, 1], (x > 0.3).astype(float))
        assert _train(path, "y", capsys)[0] == 0
    excel = tmp_path / "excel.csv"
    excel.write_text(frame.to_csv(index=False).replace("True", "TRUE").replace("False", "FALSE"))
    np.testing.assert_array_equal(load_table(excel, "y").X[:, 1], (x > 0.3).astype(float))


@pytest.mark.parametrize("values, advice", [
    (["yes", "no"], "; encode it as numbers (yes/no as 1/0) or leave it out with --drop flag"),
    (["red", "green", "blue"], "; encode it as numbers (one 0/1 column per category: 3 categories, columns "
                               "flag_red, flag_green, ...) or leave it out with --drop flag"),
    (["2024-01-01", "2024-01-02"], "; encode it as numbers (a date as a number, e.g. days since the first date)"),
])
def test_text_columns_get_advice(tmp_path, values, advice, capsys):
    path = tmp_path / "text.csv"
    path.write_text("x,flag,y\n" + "".join(f"{i}.5,{values[i % len(values)]},{i % 2}\n" for i in range(30)))
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots"], capsys)
    assert f"feature column 'flag' is not numeric: data row 1 holds {values[0]!r} (header not counted){advice}" in err


# 8: --drop and row IDs

def test_drop_leaves_columns_out_and_predict_ignores_them(tmp_path, iris, capsys):
    frame = iris.sort_values("species").reset_index(drop=True)
    frame.insert(0, "sample_id", np.arange(1, 151))
    path, model = tmp_path / "with_id.csv", tmp_path / "m.chainrule"
    frame[["sample_id", "sepal_width", "species"]].to_csv(path, index=False)
    code, _, err = _train(path, "species", capsys)
    assert code == 0 and err.count("\n") == 1
    assert ("chainrule: warning: " in err and "feature column 'sample_id' holds a different integer in every row, in "
            "increasing order: it looks like a row ID" in err and "--drop sample_id if so" in err)
    code, out, err = _train(path, "species", capsys, "--drop", "sample_id", "--save", str(model), "--json")
    assert code == 0 and err == "" and json.loads(out)["network"][0] == 1
    assert main(["predict", str(model), str(path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 150
    assert main(["evaluate", str(model), str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 150


def test_a_shuffled_id_is_noticed_and_measurements_are_not(tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"id": rng.permutation(np.arange(500, 600)), "count": rng.integers(0, 1000, 100),
                          "x": rng.normal(size=100), "y": np.arange(100) % 2})
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(UserWarning) as caught:
        load_table(path, "y")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "'id' holds a different integer in every row, every integer from 500 to 599" in \
        messages[0]


@pytest.mark.parametrize("drop, message", [
    (["nope"], "has no column 'nope' to drop (columns: 'a', 'b', 'c', 'y')"),
    (["a,nope"], "has no column 'nope' to drop"),
    (["y"], "'y' is the target column; it cannot also be dropped"),
    (["a,b", "c"], "has no feature columns besides the target and the dropped ones"),
])
def test_drop_names_must_be_columns(tmp_path, drop, message, capsys):
    path = tmp_path / "abc.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{i % 3}.5,{i % 4}.5,{i % 5}.5,{i % 2}\n" for i in range(30)))
    argv = ["train", "--data", str(path), "--target", "y", "--no-plots"]
    for entry in drop:
        argv += ["--drop", entry]
    assert message in one_line_error(argv, capsys)


def test_drop_takes_a_name_with_a_comma_whole(tmp_path, capsys):
    path = tmp_path / "comma.csv"
    path.write_text('"length, cm",x,y\n' + "".join(f"{i}.5,{i % 4}.5,{i % 2}\n" for i in range(30)))
    code, out, _ = _train(path, "y", capsys, "--drop", "length, cm", "--json")
    assert code == 0 and json.loads(out)["network"][0] == 1
    assert "--drop needs --data FILE" in one_line_error(["train", "--drop", "x", "--no-plots"], capsys)


# 9: formats and encodings

@pytest.mark.parametrize("name, content, message", [
    ("data.xlsx", b"PK\x03\x04 anything", "data.xlsx: Excel files are not supported; save the sheet as CSV UTF-8"),
    ("data.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "data.xls: Excel files are not supported"),
    ("renamed.csv", b"PK\x03\x04\x14\x00\x00\x00[Content_Types].xml xl/workbook.xml",
     "renamed.csv is an Excel (.xlsx) or other Office file, which is not supported; save the sheet as CSV UTF-8"),
    ("data.json", b'[{"x": 1, "y": 0}]', "data.json: JSON files are not supported; save the table as CSV (UTF-8) or "
                                         "Parquet"),
    ("data.feather", b"ARROW1\x00\x00", "data.feather: Feather files are not supported"),
    ("arrow.csv", b"ARROW1\x00\x00", "arrow.csv is a Feather/Arrow file, which is not supported"),
    ("latin1.csv", "Temperature \xb0C,y\n1.5,0\n".encode("cp1252"),
     "latin1.csv is not UTF-8: line 1 has the byte 0xb0 ('°' in Latin-1/Windows-1252, which the file seems to use); "
     "save it as CSV UTF-8"),
    ("u16.csv", "x,y\n1,0\n".encode("utf-16-le"), "u16.csv is not UTF-8 (it looks like UTF-16 without a byte-order "
                                                  "mark); save it as CSV UTF-8"),
    ("binary.csv", bytes(range(256)), "binary.csv is not a CSV text file (it holds binary data)"),
    ("empty.csv", b"", "empty.csv is empty"),
    ("comments.csv", b"# only\n# comments\n", "comments.csv is empty (only comment lines)"),
])
def test_files_that_are_not_utf8_csv_are_named(tmp_path, name, content, message, capsys):
    path = tmp_path / name
    path.write_bytes(content)
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots"], capsys)
    assert message in err


def test_a_latin1_byte_far_into_the_file_is_found(tmp_path, capsys):
    path = tmp_path / "late.csv"
    rows = "".join(f"{i % 5}.1,{'ab'[i % 2]}\n" for i in range(200_000))  # 1.4 MB: past the sniffed head
    path.write_bytes(("x,t\n" + rows + "1.0,caf\xe9\n").encode("latin-1"))
    err = one_line_error(["train", "--data", str(path), "--target", "t", "--no-plots"], capsys)
    assert "late.csv is not UTF-8: line 200002 has the byte 0xe9 ('é' in Latin-1/Windows-1252" in err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
def test_unicode_with_a_byte_order_mark_is_read(tmp_path, iris, encoding):
    path = tmp_path / "unicode.csv"
    path.write_bytes(iris.rename(columns={"sepal_length": "Länge °C"}).to_csv(index=False).encode(encoding))
    table = load_table(path, "species")
    assert table.feature_names[0] == "Länge °C" and table.X.shape == (150, 4)


def test_compressed_files_are_recognised_by_their_bytes(tmp_path, iris):
    path = tmp_path / "no_extension"
    path.write_bytes(gzip.compress(iris.to_csv(index=False, sep=";", decimal=",").encode()))
    np.testing.assert_array_equal(load_table(path, "species").X, iris.drop(columns="species").to_numpy())
    parquet = tmp_path / "table.dat"
    iris.to_parquet(parquet)
    assert load_table(parquet, "species").X.shape == (150, 4)


def test_comment_lines_above_the_header_are_skipped_with_a_warning(tmp_path, iris, capsys):
    path, model = tmp_path / "instrument.csv", tmp_path / "m.chainrule"
    path.write_text("# Instrument: SpectraMax M5\n# Date: 2024-03-01\n" + iris.to_csv(index=False))
    code, _, err = _train(path, "species", capsys, "--save", str(model))
    assert code == 0
    assert err == (f"chainrule: warning: {path}: skipped 2 line(s) starting with '#' above the header (line 3)\n")
    assert main(["predict", str(model), str(path), "--out", str(tmp_path / "p.csv")]) == 0
    assert capsys.readouterr().err.count("skipped 2 line(s)") == 1
    err = one_line_error(["train", "--data", str(path), "--target", "nope", "--no-plots"], capsys)
    assert "2 line(s) starting with '#' above the header were skipped" in err


def test_numpy_savetxt_header_is_the_header(tmp_path, iris):
    path = tmp_path / "savetxt.csv"
    data = iris.drop(columns="species").assign(kind=np.arange(150) // 50)
    np.savetxt(path, data.to_numpy(), delimiter=",", header=",".join(data.columns), fmt="%g")
    with pytest.warns(UserWarning, match="the header is the comment line 1"):
        table = load_table(path, "kind")
    assert table.feature_names == list(iris.columns[:4]) and table.X.shape == (150, 4) and table.classes == [0, 1, 2]


def test_a_column_named_hash_is_not_a_comment(tmp_path):
    path = tmp_path / "hash.csv"
    path.write_text("#,x,y\n" + "".join(f"{i % 4},{i % 3}.5,{i % 2}\n" for i in range(30)))
    assert load_table(path, "y").feature_names == ["#", "x"]


# 17, 18: splits

def test_test_size_too_small_names_the_sizes_that_work(tmp_path, iris, capsys):
    path = tmp_path / "iris.csv"
    iris.to_csv(path, index=False)
    err = one_line_error(["train", "--data", str(path), "--target", "species", "--test-size", "0.01",
                           "--no-plots"], capsys)
    assert ("has 150 rows; a train/test split with --test-size 0.01 needs at least 200 (2 in the smaller part): "
            "use --test-size 0.02 to 0.98 for 150 rows") in err
    err = one_line_error(["train", "--data", str(path), "--target", "species", "--validation-size", "0.01",
                           "--no-plots"], capsys)
    assert ("the training part has 105 rows; a training/validation split with --validation-size 0.01 needs at "
            "least 200 (2 in the smaller part): use --validation-size 0.02 to 0.5 for 105 rows") in err


def test_no_stratify_allows_a_class_of_one_row(tmp_path, iris, capsys):
    frame = iris.copy()
    frame.loc[0, "species"] = "unknown"
    path = tmp_path / "rare.csv"
    frame.to_csv(path, index=False)
    err = one_line_error(["train", "--data", str(path), "--target", "species", "--no-plots"], capsys)
    assert "1 of them in a single row (e.g. 'unknown')" in err and "--no-stratify splits at random instead" in err
    code, out, _ = _train(path, "species", capsys, "--no-stratify", "--json")
    report = json.loads(out)
    assert code == 0 and report["network"][-1] == 4 and report["rows"] == {"train": 105, "test": 45}


def test_load_table_warns_from_python_and_leaves_the_command_line_its_own_lines(tmp_path):
    import warnings

    from chainrule.datasets.tabular import TableWarning

    path = tmp_path / "commented.csv"
    path.write_text("# instrument X\na,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    with pytest.warns(TableWarning, match="skipped 1 line"):
        table = load_table(path, "y")
    assert len(table.warnings) == 1 and "skipped 1 line" in table.warnings[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_table(path, "y", warn=False).warnings == table.warnings


# a row with fewer fields than the header (found by an audit: pandas pads it, so a text label
# landed in a feature column and the error named that column)

@pytest.mark.parametrize("rows, suffix, sep", [
    ("1,2,3,x\n4,5,6,y\n7,8,y\n1,2,3,x\n4,5,6,y\n", ".csv", ","),
    ("1,2,3,1\n4,5,6,0\n7,8,\n1,2,3,1\n4,5,6,0\n", ".csv", ","),
    ("1;2;3;x\n4;5;6;y\n7;8;y\n1;2;3;x\n4;5;6;y\n", ".csv", ";"),
    ("1,2,3,x\n4,5,6,y\n7,8,y\n1,2,3,x\n4,5,6,y\n", ".csv.gz", ","),
])
def test_a_row_with_too_few_fields_is_named_as_such(tmp_path, rows, suffix, sep, capsys):
    text = f"a{sep}b{sep}c{sep}y\n" + rows
    path = tmp_path / f"short{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots"], capsys)
    assert err == (f"chainrule: error: {path}: data row 3 (header not counted) has 3 fields, the header 4: a value is "
                   "missing from the row, which would move its last values into the wrong columns\n")


def test_an_empty_field_is_still_a_missing_value(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("a,b,c,y\n1,2,3,1\n4,,6,0\n7,8,1,0\n1,2,3,1\n")
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots"], capsys)
    assert "feature column 'b' has a missing value in data row 2 (header not counted)" in err
