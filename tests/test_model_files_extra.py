"""Model files: permissions of written files, truncated files told from pickles, and
``chainrule predict --out`` refusing to overwrite its own inputs."""

import os
import pickle
import stat
import struct
import zipfile

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.io import ModelFileError
from chainrule.models import LogisticRegressionGD


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _table(tmp_path, name="d.csv"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    path = tmp_path / name
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": (X[:, 0] > 0).astype(int)}).to_csv(path, index=False)
    return path


# -- permissions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002], ids=oct)
def test_a_new_model_file_gets_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    path = cr.mlp([2, 3, 1], rng=0).save(tmp_path / "m.chainrule") or tmp_path / "m.chainrule"
    assert _mode(path) == 0o666 & ~mask
    estimator = LogisticRegressionGD(epochs=2, random_state=0).fit(np.eye(3), [0, 1, 1])
    assert _mode(estimator.save(tmp_path / "e.chainrule")) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.chainrule", "m.chainrule"]


@pytest.mark.parametrize("existing", [0o644, 0o640, 0o604, 0o600], ids=oct)
def test_overwriting_keeps_the_files_mode(tmp_path, umask, existing):
    umask(0o077)  # the umask would give 0o600: the old file's mode must win
    path = tmp_path / "m.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path)
    os.chmod(path, existing)
    cr.mlp([2, 3, 1], rng=1).save(path)
    assert _mode(path) == existing
    np.testing.assert_array_equal(cr.load(path).layers[0].W.value, cr.mlp([2, 3, 1], rng=1).layers[0].W.value)
    assert [p.name for p in tmp_path.iterdir()] == ["m.chainrule"]


def test_train_save_gets_the_umask_mode(tmp_path, umask):
    umask(0o022)
    model = tmp_path / "m.chainrule"
    assert main(["train", "--data", str(_table(tmp_path)), "--target", "y", "--epochs", "3", "--save", str(model),
                 "--no-plots", "--quiet"]) == 0
    assert _mode(model) == 0o644


# -- truncated files versus pickles ----------------------------------------------------------------

def _with_header_length(good, out, length):
    """Copy a model file with its JSON header padded with spaces to ``length`` bytes."""
    data = good.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header, body = data[8:8 + n].rstrip(b" "), data[8 + n:]
    assert len(header) <= length
    out.write_bytes(struct.pack("<Q", length) + header + b" " * (length - len(header)) + body)
    return out


@pytest.mark.parametrize("length", [0x380, 0x480, 0x1080], ids=hex)
def test_a_truncated_file_whose_length_starts_with_0x80_is_called_truncated(tmp_path, length):
    """Header lengths 0x380/0x480 begin with bytes 80 03 / 80 04, like a pickle of protocol 3/4."""
    good = tmp_path / "good.chainrule"
    net = cr.mlp([2, 3, 1], rng=0)
    net.save(good)
    padded = _with_header_length(good, tmp_path / "padded.chainrule", length)
    data = padded.read_bytes()
    assert data[:1] == b"\x80"
    np.testing.assert_array_equal(cr.load(padded).predict(np.eye(2)), net.predict(np.eye(2)))  # a valid file
    for cut in (len(data) // 2, 9, length + 8 - 1, length + 8 + 1, len(data) - 1):
        bad = tmp_path / "bad.chainrule"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="is truncated, not a complete safetensors file") as info:
            cr.load(bad)
        assert "pickle" not in str(info.value)


def test_a_file_cut_to_its_length_prefix_is_not_called_a_pickle(tmp_path):
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(good)
    bad = _with_header_length(good, tmp_path / "bad.chainrule", 0x480)
    bad.write_bytes(bad.read_bytes()[:8])
    with pytest.raises(ModelFileError, match=r"not safetensors, or truncated"):
        cr.load(bad)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("value", [{"W": [1.0, 2.0]}, list(range(1000)), "{" * 50, np.zeros(3)])
def test_real_pickles_are_still_called_pickles(tmp_path, protocol, value):
    path = tmp_path / "m.chainrule"
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


def test_zip_archives_are_still_named(tmp_path):
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"W": 1}))
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


# -- predict --out must not overwrite its inputs ---------------------------------------------------

@pytest.fixture
def model_and_table(tmp_path):
    table = _table(tmp_path)
    model = tmp_path / "m.chainrule"
    assert main(["train", "--data", str(table), "--target", "y", "--epochs", "3", "--save", str(model),
                 "--no-plots", "--quiet"]) == 0
    return model, table


def _out_variants(tmp_path, target):
    """The same file named directly, through ``..``, and through a symbolic link."""
    link = tmp_path / f"link-to-{target.name}"
    link.symlink_to(target)
    return [str(target), str(tmp_path / "sub" / ".." / target.name), str(link)]


@pytest.mark.parametrize("which, role", [(0, "the model file"), (1, "the input table")])
def test_predict_refuses_to_overwrite_its_inputs(tmp_path, model_and_table, capsys, which, role):
    (tmp_path / "sub").mkdir()
    before = [p.read_bytes() for p in model_and_table]
    capsys.readouterr()
    for out in _out_variants(tmp_path, model_and_table[which]):
        assert main(["predict", *map(str, model_and_table), "--out", out]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--out {out} is {role}" in err
        assert [p.read_bytes() for p in model_and_table] == before
    assert main(["predict", *map(str, model_and_table), "--out", str(tmp_path / "p.csv")]) == 0
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == ["prediction", "p_0", "p_1"]


def test_predict_checks_out_before_reading_the_model(tmp_path, capsys):
    """Refused before any work: even a model file that is not one is left unread and unchanged."""
    model = tmp_path / "m.chainrule"
    model.write_bytes(b"not a model at all")
    table = _table(tmp_path)
    assert main(["predict", str(model), str(table), "--out", str(model)]) == 2
    assert "is the model file" in capsys.readouterr().err
    assert model.read_bytes() == b"not a model at all"


def test_predict_out_overwriting_a_csv_keeps_its_mode(tmp_path, model_and_table, umask, capsys):
    model, table = model_and_table
    out = tmp_path / "predictions.csv"
    out.write_text("old")
    os.chmod(out, 0o600)
    umask(0o022)
    assert main(["predict", str(model), str(table), "--out", str(out)]) == 0
    assert _mode(out) == 0o600 and out.read_text().startswith("prediction")
    fresh = tmp_path / "fresh.csv"
    assert main(["predict", str(model), str(table), "--out", str(fresh)]) == 0 and _mode(fresh) == 0o644


def test_a_class_model_whose_network_cannot_give_classes_is_refused(tmp_path, capsys):
    """Files an older chainrule wrote for a regression loss on class labels (1 output, 3 classes)."""
    net = cr.mlp([2, 4, 1], rng=0)
    net.loss = cr.losses.MSE()
    path = tmp_path / "old.chainrule"
    net.save(path, task="multiclass", classes=["a", "b", "c"], features=["a", "b"], target="y")
    table = tmp_path / "t.csv"
    pd.DataFrame({"a": [0.1, 0.2], "b": [0.3, 0.4]}).to_csv(table, index=False)
    assert main(["predict", str(path), str(table)]) == 2
    err = capsys.readouterr().err
    assert "multiclass model of 3 classes, but its network has 1 output(s) trained with loss mse" in err
    assert err.count("\n") == 1


def test_every_writer_shares_the_permission_rule(tmp_path, umask):
    """Ising data (mkstemp made them 0600), figures and text all go through chainrule.atomic."""
    import matplotlib.pyplot as plt

    from chainrule.cli._output import save_figure, write_text_atomic
    from chainrule.datasets.ising import sample_ising
    from chainrule.datasets.ising_io import load_ising_npz, save_ising_npz

    umask(0o022)
    data = tmp_path / "ising.npz"
    samples = sample_ising(4, [1.5, 3.0], 4, rng=0)
    save_ising_npz(data, samples)
    assert _mode(data) == 0o644 and load_ising_npz(data).L == 4
    os.chmod(data, 0o640)
    save_ising_npz(data, samples)
    assert _mode(data) == 0o640
    figure_path, text_path = tmp_path / "f.png", tmp_path / "t.txt"
    save_figure(plt.figure(), figure_path)
    write_text_atomic(text_path, "σ")
    assert _mode(figure_path) == _mode(text_path) == 0o644 and text_path.read_text(encoding="utf-8") == "σ"
    os.chmod(figure_path, 0o600)
    save_figure(plt.figure(), figure_path)
    assert _mode(figure_path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "ising.npz", "t.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    from chainrule.atomic import replacing

    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with replacing(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_temporary_file_that_cannot_be_removed_does_not_hide_the_error(tmp_path, monkeypatch):
    """In a directory that only grows (chattr +a) the temporary file cannot be removed after
    a failed write: the write's own error is the one reported, and the target is untouched."""
    import pathlib

    from chainrule.atomic import replacing

    target = tmp_path / "kept.txt"
    target.write_text("old")

    def refuse(self, missing_ok=False):
        raise PermissionError(1, "Operation not permitted", str(self))

    with pytest.raises(RuntimeError, match="the write failed"):
        with replacing(target) as tmp:
            tmp.write_text("half")
            monkeypatch.setattr(pathlib.Path, "unlink", refuse)
            raise RuntimeError("the write failed")
    monkeypatch.undo()
    assert target.read_text() == "old"


def test_bytes_appended_to_a_model_file_are_named(tmp_path):
    path = cr.mlp([2, 3, 1], rng=0).save(tmp_path / "m.chainrule")
    path.write_bytes(path.read_bytes() + b"appended")
    with pytest.raises(ModelFileError, match=r"m.chainrule is corrupted: 8 byte\(s\) follow the end of its tensors"):
        cr.load(path)
