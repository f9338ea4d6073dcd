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
