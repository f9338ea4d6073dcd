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
