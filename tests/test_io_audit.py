"""File I/O from an audit: failed writes, odd metadata, long headers, devices and odd names.

Each test fails on the code before its fix; each checks that bad input gets one clear error
naming the file (and the field or line at fault) and that nothing a user had is lost.
"""

import errno

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.io import ModelFileError, save_model
from conftest import one_line_error, rewrite_record, set_key, train_iris


# --- a full disk while safetensors writes a model file -------------------------------------

def _disk_full(monkeypatch):
    """Make safetensors' writer fail as it does on a full disk: with its own error type."""
    import safetensors.numpy
    from safetensors import SafetensorError

    def full(tensors, filename, metadata=None):
        open(filename, "wb").write(b"partial")
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.numpy, "save_file", full)


def test_a_full_disk_while_saving_is_an_oserror_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "m.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path)
    before = path.read_bytes()
    _disk_full(monkeypatch)
    with pytest.raises(OSError) as info:
        save_model(cr.mlp([2, 3, 1], rng=1), path)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.chainrule"]


def test_a_full_disk_while_the_cli_saves_is_one_line(tmp_path, monkeypatch, iris_csv, capsys):
    _disk_full(monkeypatch)
    model = tmp_path / "m.chainrule"
    err = one_line_error(train_iris(iris_csv, "--no-plots", "--save", model), capsys)
    assert err.strip() == f"chainrule: error: No space left on device: {model}"
    assert not model.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- every atomic write names its file when the write itself fails -------------------------

def _write_fails():
    """What a full disk raises from ``write``: an OSError with an errno and no file name."""
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_failing_inside_replacing_names_the_file(tmp_path):
    from chainrule.atomic import replacing

    path = tmp_path / "out.csv"
    path.write_text("old")
    with pytest.raises(OSError) as info, replacing(path):
        _write_fails()
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_error_naming_another_file_keeps_that_name(tmp_path):
    from chainrule.atomic import replacing

    with pytest.raises(FileNotFoundError) as info, replacing(tmp_path / "out.csv"):
        open(tmp_path / "missing.txt")
    assert info.value.filename == str(tmp_path / "missing.txt")


def test_predict_out_on_a_full_disk_names_the_file(tmp_path, monkeypatch, iris_csv, capsys):
    import pathlib

    model = tmp_path / "m.chainrule"
    assert main(train_iris(iris_csv, "--no-plots", "--save", model)) == 0
    capsys.readouterr()
    monkeypatch.setattr(pathlib.Path, "write_text", lambda *a, **k: _write_fails())
    out = tmp_path / "p.csv"
    err = one_line_error(["predict", str(model), str(iris_csv), "--out", str(out)], capsys)
    assert err.strip() == f"chainrule: error: No space left on device: {out}"
    assert not out.exists()


def test_ising_generate_on_a_full_disk_names_the_file(tmp_path, monkeypatch, capsys):
    from chainrule.datasets import ising_io

    monkeypatch.setattr(ising_io.np, "savez_compressed", lambda *a, **k: _write_fails())
    out = tmp_path / "i.npz"
    err = one_line_error(["ising", "generate", "--L", "4", "--steps", "7", "--samples", "4",
                          "--equilibration", "5", "--sweeps-between", "1", "--out", str(out)], capsys)
    assert err.strip() == f"chainrule: error: No space left on device: {out}"
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_figure_on_a_full_disk_names_the_file(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.figure

    from chainrule.cli._output import save_figure

    figure = matplotlib.figure.Figure()
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda *a, **k: _write_fails())
    with pytest.raises(OSError) as info:
        save_figure(figure, tmp_path / "loss.png")
    assert info.value.filename == str(tmp_path / "loss.png")


# --- class labels a classifier's predictions cannot be written with ------------------------

@pytest.fixture
def binary_model(tmp_path, capsys):
    """A binary classifier trained by ``chainrule train`` on a small table: (model, table)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    table = tmp_path / "binary.csv"
    rows = [f"{a},{b},{'pos' if a + b > 0 else 'neg'}" for a, b in X]
    table.write_text("a,b,y\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.chainrule"
    assert main(["train", "--data", str(table), "--target", "y", "--epochs", "2", "--quiet", "--no-plots",
                 "--save", str(model)]) == 0
    capsys.readouterr()
    return model, table


@pytest.mark.parametrize("classes, message", [
    (["neg"], "must name at least 2 classes"),
    ([], "must name at least 2 classes"),
    (["\ud800neg", "pos"], "not valid Unicode text"),
])
def test_predict_refuses_unusable_class_labels_before_any_work(binary_model, tmp_path, classes, message, capsys):
    model, table = binary_model
    forged = rewrite_record(model, tmp_path / "forged.chainrule", set_key("metadata", "classes", value=classes))
    for command in (["predict", str(forged), str(table)], ["evaluate", str(forged), str(table)]):
        err = one_line_error(command, capsys)
        assert str(forged) in err and message in err


# --- metadata nested deeper than a loader can read -----------------------------------------

def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_metadata_nested_as_deep_as_allowed_round_trips(tmp_path):
    from chainrule.io import MAX_METADATA_DEPTH

    path = save_model(cr.mlp([2, 3, 1], rng=0), tmp_path / "m.chainrule", deep=_nested(MAX_METADATA_DEPTH))
    assert cr.load(path).metadata["deep"] == _nested(MAX_METADATA_DEPTH)


@pytest.mark.parametrize("depth", [990, 995, 100_000])
def test_metadata_nested_too_deep_is_refused_at_save(tmp_path, depth):
    path = tmp_path / "m.chainrule"
    with pytest.raises(ValueError, match="'deep' nests lists or dicts more than 100 levels"):
        save_model(cr.mlp([2, 3, 1], rng=0), path, deep=_nested(depth))
    assert not path.exists()


def test_metadata_that_contains_itself_is_refused_at_save(tmp_path):
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save_model(cr.mlp([2, 3, 1], rng=0), tmp_path / "m.chainrule", loop=loop)


def test_a_forged_record_nested_too_deep_to_parse_says_so(tmp_path):
    import json

    from safetensors.numpy import load_file, save_file

    from chainrule.io import read_header

    good = save_model(cr.mlp([2, 3, 1], rng=0), tmp_path / "m.chainrule", deep=0)
    text = json.dumps(read_header(good)).replace('"deep": 0', '"deep": ' + "[" * 5000 + "]" * 5000)
    bad = tmp_path / "deep.chainrule"
    save_file(load_file(str(good)), str(bad), metadata={"chainrule": text})
    with pytest.raises(ModelFileError, match="not valid JSON .it nests lists or objects too deeply"):
        cr.load(bad)


# --- a header too large names what makes it large --------------------------------------------

def test_long_feature_names_are_named_as_what_makes_the_header_too_large(tmp_path):
    """A long training history no longer fills the header (its curves are tensors:
    test_persist_curves.py); what still can are the estimator's names, and the advice says so."""
    import pandas as pd

    from chainrule.models import LinearRegressionGD

    X = pd.DataFrame(np.random.default_rng(0).normal(size=(4, 20_000)),
                     columns=[f"{i:05d}" + "x" * 900 for i in range(20_000)])  # 18 MB of names
    est = LinearRegressionGD(epochs=1).fit(X, np.arange(4.0))
    path = tmp_path / "m.chainrule"
    with pytest.raises(ValueError) as info:
        est.save(path)
    message = str(info.value)
    assert "estimator.state.feature_names_in_, 20000 values" in message and "metadata" not in message
    assert "estimator.network_.save(path)), without the estimator's class labels and feature names" in message
    assert not path.exists()


def test_large_metadata_is_named_by_its_key(tmp_path):
    with pytest.raises(ValueError, match=r"bytes of it are metadata\.notes: store less metadata"):
        save_model(cr.mlp([2, 3, 1], rng=0), tmp_path / "m.chainrule", small=1, notes="x" * 17_000_000)


# --- a CSV header longer than the first MiB read ---------------------------------------------

def _wide_header_table(path, compress=False):
    """A table whose header line is 1.2 MiB long (12 columns of long names, then y)."""
    import gzip

    names = [f"{i:02d}" + "x" * 100_000 for i in range(12)]
    rows = "".join(",".join(str((i * j) % 7) for j in range(12)) + f",{'ab'[i % 2]}\n" for i in range(20))
    text = ",".join(names) + ",y\n" + rows
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return names


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_longer_than_a_mebibyte_is_read_whole(tmp_path, compress):
    from chainrule.datasets import load_table

    path = tmp_path / ("wide.csv.gz" if compress else "wide.csv")
    names = _wide_header_table(path, compress)
    table = load_table(path, "y")
    assert table.feature_names == names and table.X.shape == (20, 12) and table.classes == ["a", "b"]


def test_a_header_line_past_the_limit_is_refused_naming_it(tmp_path, monkeypatch):
    from chainrule.datasets import load_table, table_file

    monkeypatch.setattr(table_file, "_MAX_HEAD_BYTES", 2 << 20)
    path = tmp_path / "wide.csv"
    path.write_text("x" * (3 << 20) + ",y\n1,2\n")
    with pytest.raises(ValueError, match=r"wide.csv: the header \(line 1\) and the line under it do not end "
                                         r"within the first 2 MiB"):
        load_table(path, "y")


# --- a device given as the data file ---------------------------------------------------------

@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_as_the_data_file_is_refused_before_reading(tmp_path, device, binary_model, capsys):
    import os

    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    model, _ = binary_model
    err = one_line_error(["predict", str(model), device], capsys)  # /dev/zero: read forever before the fix
    assert err.strip() == (f"chainrule: error: {device} is a character device, not a data file (chainrule reads "
                           "tables from files, pipes and standard input)")


def test_a_pipe_is_still_read(tmp_path, binary_model):
    import subprocess
    import sys

    model, table = binary_model
    result = subprocess.run([sys.executable, "-m", "chainrule", "predict", str(model), "/dev/stdin"],
                            input=table.read_bytes(), capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[0] == "prediction,p_neg,p_pos"


# --- a header whose first name starts with '#' -------------------------------------------------

def _load(path, text):
    from chainrule.datasets import load_table

    path.write_text(text)
    return load_table(path, "y", warn=False)


def test_a_hash_header_over_rows_with_text_is_the_header(tmp_path):
    # before: "#id,a,b,y" was a comment, and the first data row became the header
    table = _load(tmp_path / "t.csv", "#id,a,b,y\n1,0.5,0.3,neg\n2,0.1,0.2,pos\n3,0.4,0.9,neg\n4,0.2,0.1,pos\n")
    assert table.feature_names == ["id", "a", "b"] and table.X.shape == (4, 3) and table.classes == ["neg", "pos"]
    assert "read without its '#': the first column is 'id'" in table.warnings[0]


def test_a_hash_line_that_could_be_either_is_refused_naming_it(tmp_path):
    from chainrule.datasets import load_table

    path = tmp_path / "t.csv"
    path.write_text("#id,a,b,y\n1,x,0.3,neg\n2,0.1,0.2,pos\n")
    with pytest.raises(ValueError, match=r"t.csv: line 1 starts with '#' and has as many fields \(4\) as line 2 "
                                         r"under it: it is either the header, its first column named '#id', or a "
                                         r"comment"):
        load_table(path, "y")


@pytest.mark.parametrize("text, names, rows", [
    ("# exported, v2\na,y\n1,0\n2,1\n3,0\n4,1\n", ["a"], 4),       # a comment with a comma, a text header
    ("# instrument X\na,b,y\n1,2,0\n3,4,1\n", ["a", "b"], 2),        # a plain comment
    ("# a,b,y\n1,2,0\n3,4,1\n", ["a", "b"], 2),                      # numpy.savetxt
    ("#,x,y\n1,2.5,0\n2,0.5,1\n", ["#", "x"], 2),                     # a column named '#'
])
def test_comment_lines_still_read_as_before(tmp_path, text, names, rows):
    table = _load(tmp_path / "t.csv", text)
    assert table.feature_names == names and table.X.shape[0] == rows


# --- Ising datasets with entries of the wrong type -------------------------------------------

@pytest.fixture(scope="module")
def ising_arrays(tmp_path_factory):
    """The arrays of a small Ising dataset written by chainrule."""
    from chainrule.datasets.ising_io import save_ising_npz
    from chainrule.datasets.ising_sampler import sample_ising

    path = tmp_path_factory.mktemp("ising") / "is.npz"
    save_ising_npz(path, sample_ising(4, [1.5, 3.0], 4, equilibration=5, sweeps_between=1, rng=0))
    return dict(np.load(path))


@pytest.mark.parametrize("entry, value, message", [
    ("chains", np.array("x"), r"chains must be a whole number >= 1 \(or -1: unknown\), got 'x' \(dtype <U1\)"),
    ("chains", np.arange(3), r"chains must be a whole number >= 1 .*, got \[0, 1, 2\] \(dtype int64, shape \(3,\)\)"),
    ("chains", np.array(1.5), r"chains must be a whole number >= 1 .*, got 1.5"),
    ("chains", np.array(-5), r"chains must be a whole number >= 1 .*, got -5"),
    ("energy", np.array(["a", "b"]), r"energy must hold real numbers, got \['a', 'b'\]"),
    ("energy", np.ones(2, complex), r"energy must hold real numbers, got .*complex128"),
    ("energy", np.zeros(2, dtype=[("a", "f8")]), r"energy must hold real numbers"),
    ("binder_err", np.array(["q", "q"]), r"binder_err must hold real numbers"),
    ("method", np.arange(2), r"method must hold text"),
    ("equilibration", np.full(2, np.nan), r"equilibration must hold whole numbers of sweeps"),
])
def test_ising_entries_of_the_wrong_type_are_named(tmp_path, ising_arrays, entry, value, message):
    from chainrule.datasets.ising_io import load_ising_npz

    path = tmp_path / "bad.npz"
    np.savez(path, **{**ising_arrays, entry: value})
    with pytest.raises(ValueError, match=f"^{path}: {message}"):
        load_ising_npz(path)


def test_ising_observables_of_another_float_type_load_as_float64(tmp_path, ising_arrays):
    from chainrule.datasets.ising_io import load_ising_npz

    path = tmp_path / "f32.npz"
    np.savez(path, **{**ising_arrays, "energy": ising_arrays["energy"].astype(np.float32)})
    assert load_ising_npz(path).energy.dtype == np.float64


def test_a_device_is_not_called_a_missing_ising_dataset():
    from chainrule.datasets.ising_io import load_ising_npz

    with pytest.raises(ValueError, match="^/dev/null is a character device, not a chainrule Ising dataset"):
        load_ising_npz("/dev/null")


# --- whole numbers past 2**64 in a feature column ----------------------------------------------

def test_a_whole_number_past_2_to_the_64_is_a_number(tmp_path, binary_model, capsys):
    table = _load(tmp_path / "big.csv", "a,b,y\n18446744073709551616,1,0\n5,2,1\n-3,3,0\n7,4,1\n")
    np.testing.assert_array_equal(table.X[:, 0], [2.0**64, 5, -3, 7])
    model, _ = binary_model  # and predict takes it like any other number
    data = tmp_path / "predict.csv"
    data.write_text("a,b\n18446744073709551616,1\n2,3\n")
    assert main(["predict", str(model), str(data)]) == 0
    assert capsys.readouterr().out.startswith("prediction,p_neg,p_pos\n")


def test_a_missing_cell_beside_a_huge_whole_number_is_still_missing(tmp_path):
    with pytest.raises(ValueError, match="feature column 'a' has a missing value in data row 2"):
        _load(tmp_path / "big.csv", "a,b,y\n18446744073709551616,1,0\n,2,1\n-3,3,0\n7,4,1\n")


# --- file names holding a newline in one-line errors -------------------------------------------

def test_a_file_name_with_a_newline_is_shown_whole(tmp_path, binary_model, capsys):
    model, table = binary_model
    missing = str(tmp_path / "no\nsuch.csv")
    err = one_line_error(["predict", str(model), missing], capsys)
    assert err == f"chainrule: error: no such data file: {missing!r}\n"
    odd_model = tmp_path / "new\nline.chainrule"
    odd_model.write_bytes(b"not a model")
    err = one_line_error(["predict", str(odd_model), str(table)], capsys)
    assert err.startswith(f"chainrule: error: {str(odd_model)!r} is not a chainrule model file")


def test_a_directory_name_with_a_newline_is_shown_whole(tmp_path, binary_model, capsys):
    model, table = binary_model
    directory = str(tmp_path / "no\ndir")
    out = directory + "/p.csv"
    err = one_line_error(["predict", str(model), str(table), "--out", out], capsys)
    assert err == f"chainrule: error: --out {out!r}: directory {directory!r} does not exist\n"
