"""Model files from an adversarial audit: forged headers, odd paths and odd save targets.

Each test builds the file by hand where the library would refuse to write it, and checks that
loading fails with a ``ModelFileError`` naming the file (or the CLI prints one line), without
allocating a large network, hanging, or leaving the target in a wrong state.
"""

import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.io import ModelFileError


def _raw_file(path, tensors: dict, document_text: str) -> None:
    """Write a safetensors file by hand: ``tensors`` (name -> array) and the chainrule record
    as given, byte for byte."""
    table, data = {}, b""
    kinds = {np.dtype("float64"): "F64", np.dtype("float32"): "F32"}
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        table[name] = {"dtype": kinds[array.dtype], "shape": list(array.shape),
                       "data_offsets": [len(data), len(data) + array.nbytes]}
        data += array.tobytes()
    table["__metadata__"] = {"chainrule": document_text}
    header = json.dumps(table).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def _good_parts(tmp_path):
    """The tensors and record of a small saved network (2 -> 3 -> 1)."""
    from safetensors.numpy import load_file

    path = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path)
    return load_file(str(path)), cr.io.read_header(path)


# -- D6, D10: the record's JSON and its version ---------------------------------------------------------------

@pytest.mark.parametrize("where", ["record", "table"])
def test_an_integer_too_long_for_python_is_a_model_file_error(tmp_path, where):
    tensors, document = _good_parts(tmp_path)
    path = tmp_path / "long.chainrule"
    text = json.dumps(document)
    if where == "record":
        _raw_file(path, tensors, text.replace('"training": null', '"training": ' + "9" * 5000))
    else:
        header = json.dumps({"__metadata__": {"chainrule": text}}).encode()[:-1] + b', "x": ' + b"9" * 5000 + b"}"
        path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ModelFileError, match=f"{path.name}.*not valid JSON .*4300 digits"):
        cr.load(path)


@pytest.mark.parametrize("version", [True, 1.0, "1", [1]])
def test_the_format_version_is_an_exact_integer(tmp_path, version):
    tensors, document = _good_parts(tmp_path)
    document["format_version"] = version
    path = tmp_path / "v.chainrule"
    _raw_file(path, tensors, json.dumps(document))
    with pytest.raises(ModelFileError, match="format version .* is not supported"):
        cr.load(path)


# -- D3: paths that are not regular files ---------------------------------------------------------------------

@pytest.fixture
def no_hang():
    """Fail the test instead of hanging (a FIFO opened for reading waits for a writer)."""
    import signal

    def hung(signum, frame):
        raise TimeoutError("the loader blocked")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, no_hang, capsys):
    import os

    fifo = tmp_path / "model.chainrule"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match=f"{fifo} is a pipe \\(FIFO\\), not a model file"):
        cr.load(fifo)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    for argv in (["predict", str(fifo), str(table)], ["evaluate", str(fifo), str(table), "--target", "b"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a pipe (FIFO), not a model file" in err


def test_a_pipe_on_standard_input_is_refused_by_name(tmp_path):
    """``cr.load("/dev/stdin")`` with a pickle piped in said only "File or stream is not seekable"."""
    import pickle
    import subprocess
    import sys

    code = "import chainrule as cr\ntry:\n    cr.load('/dev/stdin')\nexcept Exception as e:\n    print(type(e).__name__, e)"
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps({"W": 1}), capture_output=True,
                         timeout=60).stdout.decode()
    assert out.startswith("ModelFileError /dev/stdin is a pipe (FIFO), not a model file"), out
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 1], rng=0).save(good)
    with good.open("rb") as stdin:  # a regular file on standard input is one
        out = subprocess.run([sys.executable, "-c", code], stdin=stdin, capture_output=True, timeout=60)
    assert out.stdout == b"" and out.returncode == 0, out.stderr


def test_devices_and_special_files_are_refused_by_name():
    with pytest.raises(ModelFileError, match="/dev/null is a character device, not a model file"):
        cr.load("/dev/null")
    import os

    if os.path.exists("/proc/self/cmdline"):  # a regular file of size 0 that cannot seek from its end
        with pytest.raises(ModelFileError, match="/proc/self/cmdline is not a chainrule model file"):
            cr.load("/proc/self/cmdline")


def test_symbolic_links_are_followed_and_loops_named(tmp_path):
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 1], rng=0).save(good)
    (tmp_path / "link.chainrule").symlink_to("good.chainrule")
    assert isinstance(cr.load(tmp_path / "link.chainrule"), cr.Sequential)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(ModelFileError, match="a is a symbolic link loop, not a model file"):
        cr.load(tmp_path / "a")
    (tmp_path / "dangling").symlink_to("nothere")
    with pytest.raises(FileNotFoundError, match="no such model file: .*dangling \\(a symbolic link to nothere"):
        cr.load(tmp_path / "dangling")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        cr.load(good / "inside")


# -- D8: pickles of every kind are named as such (never unpickled) --------------------------------------------

@pytest.mark.parametrize("protocol", [0, 1])
@pytest.mark.parametrize("value", [{"W": [1.0, 2.0]}, list(range(1000)), "model", np.zeros(3)])
def test_text_pickles_are_called_pickles(tmp_path, protocol, value):
    path = tmp_path / "m.chainrule"
    path.write_bytes(__import__("pickle").dumps(value, protocol=protocol))
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


def test_a_legacy_torch_save_file_is_called_a_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.pt"
    torch.save({"W": torch.zeros(3, 2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


def test_random_bytes_and_text_are_not_called_pickles(tmp_path):
    path = tmp_path / "m.chainrule"
    for data in (np.random.default_rng(0).bytes(500), b"W,b\n1,2\n", b"hello world.", b"N." + bytes(20)):
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match="not safetensors, or truncated"):
            cr.load(path)
