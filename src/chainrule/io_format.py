"""Reading and checking the outside of a model file before anything is built from it.

A safetensors file is an 8-byte little-endian header length, a JSON header (tensor names,
dtypes, shapes, byte offsets, and a ``__metadata__`` map of strings), then the raw tensor
bytes. Here the header is read with plain ``json`` and every field chainrule relies on is
checked, so that a foreign, truncated or corrupted file is named as such.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024
SAFETENSORS_DTYPES = {"float64": "F64", "float32": "F32"}


class ModelFileError(ValueError):
    """The file is not a readable chainrule model (names the file and what is wrong)."""


def read_file_header(path) -> tuple[dict, dict]:
    """The safetensors header and the chainrule JSON document of a model file.

    Returns
    -------
    header : dict
        Tensor name -> {"dtype", "shape", "data_offsets"} (``__metadata__`` removed).
    document : dict
        The chainrule record: format, versions, layers, dtype, loss, training, metadata...

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError
        Anything else that makes it not a chainrule model file, with the reason.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file")
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = handle.read(8)
        if len(start) < 8:
            raise ModelFileError(f"{path} is not a chainrule model file: it is {'empty' if size == 0 else f'only {size} bytes'}")
        (length,) = struct.unpack("<Q", start)
        if length > MAX_HEADER or length > size - 8:
            if start[:1] == b"\x80" or start[:2] == b"PK":
                raise ModelFileError(
                    f"{path} is not a chainrule model file: it looks like a pickle or zip archive "
                    "(chainrule never loads pickles)"
                )
            raise ModelFileError(f"{path} is not a chainrule model file (not safetensors, or truncated)")
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{path} is not a chainrule model file: its header is not valid JSON") from None
    meta = header.pop("__metadata__", None) if isinstance(header, dict) else None
    if not isinstance(meta, dict) or "chainrule" not in meta:
        raise ModelFileError(f"{path} is a safetensors file from another tool: it has no chainrule architecture")
    try:
        document = json.loads(meta["chainrule"])
    except (TypeError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{path}: the chainrule architecture record is not valid JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        marker = document.get("format") if isinstance(document, dict) else document
        raise ModelFileError(f"{path}: unknown format marker {marker!r}")
    if document.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {document.get('format_version')!r} is not supported "
            f"(this chainrule reads version {FORMAT_VERSION})"
        )
    check_tensor_table(path, header, document)
    return header, document


def check_tensor_table(path, header: dict, document: dict) -> None:
    """Every tensor entry well formed and in the document's dtype; layer configs no larger
    than the weights the file holds (so a damaged header cannot ask for a huge network)."""
    dtype = document.get("dtype")
    if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPES:
        raise ModelFileError(f"{path}: unsupported dtype {dtype!r} (chainrule writes float32 or float64)")
    total = 0
    for name, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ModelFileError(f"{path} is corrupted: tensor {name!r} has no valid shape")
        if entry.get("dtype") != SAFETENSORS_DTYPES[dtype]:
            raise ModelFileError(f"{path} is corrupted: tensor {name!r} is {entry.get('dtype')}, "
                                 f"the model is {dtype}")
        count = 1
        for d in shape:
            count *= d
        total += count
    if not isinstance(document.get("layers"), list):
        raise ModelFileError(f"{path}: the architecture record has no layer list")
    largest = _largest_integer(document["layers"])
    if largest > max(total, 1):
        raise ModelFileError(f"{path}: the architecture asks for a size of {largest}, but the file holds only "
                             f"{total} weights (damaged or forged header)")


def _largest_integer(value) -> int:
    """The largest integer anywhere inside nested lists and dicts (0 if none)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return max((_largest_integer(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_largest_integer(v) for v in value), default=0)
    return 0
