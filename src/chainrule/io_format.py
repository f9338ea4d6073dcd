"""Reading and checking the outside of a model file before anything is built from it.

A safetensors file is an 8-byte little-endian header length, a JSON header (tensor names,
dtypes, shapes, byte offsets, and a ``__metadata__`` map of strings), then the raw tensor
bytes. Here the header is read with plain ``json`` and every field chainrule relies on is
checked, so that a foreign, truncated or corrupted file is named as such.
"""

from __future__ import annotations

import errno
import json
import os
import struct
from pathlib import Path

from .atomic import file_kind
from .io_curves import CURVE_NAMES

FORMAT = "chainrule-model"
# version 2: the checksum covers the whole record and the tensors' names, dtypes and shapes
# (version 1's covered the tensor data only, so a damaged record loaded silently)
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
# A chainrule header is small: a 200-class classifier with 1000 named features has 23 kB (an
# estimator's training curves are tensors, not header). The cap bounds the memory JSON parsing
# can take (a 16 MiB header of empty objects parses to about 350 MB; safetensors' own cap,
# 100 MB, to 2 GB).
MAX_HEADER = 16 * 1024 * 1024
SAFETENSORS_MAX_HEADER = 100_000_000
PICKLE_SNIFF = 4  # bytes read to recognise a pickle by its opening opcodes
SAFETENSORS_DTYPES = {"float64": "F64", "float32": "F32"}
ITEMSIZE = {"float64": 8, "float32": 4}
# a network's layers are bounded by its tensors: each activation, dropout or block beside them
# is allowed for, generously, so that a header cannot ask for millions of parameterless layers
MAX_LAYERS, LAYERS_PER_TENSOR = 64, 8


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
        No such file (or a symbolic link to none).
    ModelFileError
        Anything else that makes it not a chainrule model file, with the reason: not a
        regular file (a directory, pipe, device, symbolic link loop), empty, truncated...
    """
    path = Path(path)
    with _open_regular_file(path) as handle:
        try:
            raw, size, length = _read_header_bytes(path, handle)
        except OSError as exc:  # e.g. a /proc file that cannot seek
            raise ModelFileError(f"{path} could not be read: {exc.strerror or exc}") from None
    header = _parse_json(raw, f"{path} is not a chainrule model file: its header is not valid JSON")
    meta = header.pop("__metadata__", None) if isinstance(header, dict) else None
    if not isinstance(meta, dict) or "chainrule" not in meta:
        raise ModelFileError(f"{path} is a safetensors file from another tool: it has no chainrule architecture")
    if not isinstance(meta["chainrule"], str):
        raise ModelFileError(f"{path}: the chainrule architecture record is not valid JSON")
    document = _parse_json(meta["chainrule"], f"{path}: the chainrule architecture record is not valid JSON")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        marker = document.get("format") if isinstance(document, dict) else document
        raise ModelFileError(f"{path}: unknown format marker {marker!r}")
    version = document.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # not True, not 1.0
        raise ModelFileError(
            f"{path}: model format version {version!r} is not supported "
            f"(this chainrule reads versions {' and '.join(map(str, READABLE_VERSIONS))})"
            + (f"; it was written by a newer chainrule ({document.get('chainrule_version')!r}): upgrade chainrule "
               "to read it" if type(version) is int and version > max(READABLE_VERSIONS) else "")
        )
    check_tensor_table(path, header, document)
    check_data_size(path, header, size - 8 - length)
    check_architecture(path, header, document)
    return header, document


def _open_regular_file(path: Path):
    """``path`` opened for binary reading, refused unless it is (a link to) a regular file.

    Opened without blocking, so that a FIFO is refused instead of waiting for a writer.

    Raises
    ------
    FileNotFoundError
        No such file (also a symbolic link to a missing file, or a path through a file).
    ModelFileError
        A symbolic link loop, a directory, pipe, device or socket.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        dangling = f" (a symbolic link to {os.readlink(path)}, which does not exist)" if path.is_symlink() else ""
        raise FileNotFoundError(f"no such model file: {path}{dangling}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ModelFileError(f"{path} is a symbolic link loop, not a model file") from None
        raise
    kind = file_kind(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise ModelFileError(f"{path} is {kind}, not a model file "
                             "(chainrule reads model files from regular files only)")
    return os.fdopen(fd, "rb")


def _read_header_bytes(path: Path, handle) -> tuple[bytes, int, int]:
    """The raw JSON header of an open file, its size and the header length, after telling
    an empty, truncated, pickled or foreign file by its first bytes."""
    size = os.fstat(handle.fileno()).st_size
    start = handle.read(9)
    if len(start) < 8:
        what = "empty" if not start else f"only {len(start)} bytes"
        raise ModelFileError(f"{path} is not a chainrule model file: it is {what}")
    (length,) = struct.unpack("<Q", start[:8])
    # a safetensors header is JSON that starts with "{": then the file was cut short or is odd
    safetensors = start[8:9] == b"{" and length <= SAFETENSORS_MAX_HEADER and size >= 8
    if safetensors and length > size - 8:
        raise ModelFileError(f"{path} is truncated, not a complete safetensors file: its header needs "
                             f"{length} bytes, only {size - 8} follow")
    if safetensors and length > MAX_HEADER:
        raise ModelFileError(f"{path}: its header is {length} bytes, more than the {MAX_HEADER >> 20} MiB chainrule "
                             "reads (damaged or forged file)")
    if length > MAX_HEADER or length > size - 8:
        last = b""
        if size > 0:  # some special files (/proc) say 0 and cannot seek from their end
            handle.seek(-1, 2)
            last = handle.read(1)
        handle.seek(0)
        if _looks_like_pickle_or_zip(handle.read(PICKLE_SNIFF), last):
            raise ModelFileError(
                f"{path} is not a chainrule model file: it looks like a pickle or zip archive "
                "(chainrule never loads pickles)"
            )
        raise ModelFileError(f"{path} is not a chainrule model file (not safetensors, or truncated)")
    handle.seek(8)
    return handle.read(length), size, length


def checksum(document: dict, tensors: dict) -> str:
    """The SHA-256 a model file records as ``sha256``, by its ``format_version``.

    Version 2 hashes the chainrule record (every field but ``sha256``, as canonical JSON:
    sorted keys, no spaces, ASCII) and then each tensor, by name: its name, dtype and
    shape, then its bytes. Version 1 hashed each tensor's name and bytes only.

    Parameters
    ----------
    document : dict
        The record as JSON gives it back (``json.loads`` of what is written).
    tensors : dict of str to ndarray
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    version = document.get("format_version")
    if version != 1:
        record = {key: value for key, value in document.items() if key != "sha256"}
        digest.update(json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=True).encode())
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        if version != 1:
            digest.update(json.dumps([name, array.dtype.name, list(array.shape)]).encode())
        else:
            digest.update(name.encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _parse_json(text, message: str):
    """``json.loads``, any failure a ``ModelFileError`` with ``message`` (and, for an
    integer too long for Python to read or a nesting too deep to parse, why)."""
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(message) from None
    except RecursionError:
        raise ModelFileError(f"{message} (it nests lists or objects too deeply to read)") from None
    except ValueError as exc:  # an integer of more than sys.get_int_max_str_digits() digits
        raise ModelFileError(f"{message} ({str(exc).split(';')[0]})") from None


def _looks_like_pickle_or_zip(head: bytes, last: bytes) -> bool:
    """Whether a file is a pickle or a zip archive (``PK``, as in PyTorch's files), from its
    first bytes ``head`` and its ``last`` byte, by byte patterns alone (nothing is unpickled
    or decoded as a pickle):

    - binary pickles (protocols 2-5): ``0x80`` and the protocol, ending in the STOP opcode
      ``.``, or followed by the 10-byte magic number legacy ``torch.save`` files start with
      (more pickles and raw data follow it);
    - text pickles (protocols 0 and 1): an opening opcode (a mark, an empty list, dict or
      tuple, a global or a scalar) and the STOP opcode as the last byte.

    Only asked once the file has been found not to be safetensors: ``0x80 0x04`` is also
    a valid start of a safetensors header length (1152 bytes)."""
    protocol = head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    legacy_torch = head[:4] == b"\x80\x02\x8a\x0a"
    text = head[:1] != b"" and head[:1] in _TEXT_PICKLE_OPENINGS and last == b"."
    return (protocol and last == b".") or legacy_torch or text or head[:2] == b"PK"


#: First opcodes of protocol 0/1 pickles: MARK, EMPTY_LIST/DICT/TUPLE, GLOBAL and the scalars.
_TEXT_PICKLE_OPENINGS = b"(]})cSVXILFNKJMGUT"


def check_data_size(path, header: dict, available: int) -> None:
    """Refuse a file whose tensor table points past its end (a file cut short), or whose
    end lies past its last tensor (bytes appended).

    Parameters
    ----------
    path : str or Path
        The file, for the message.
    header : dict
        Tensor name -> entry with ``data_offsets`` [begin, end] into the data section.
    available : int
        Bytes of tensor data the file holds after its header.

    Raises
    ------
    ModelFileError
        The tensors need more bytes than the file holds, or fewer (offsets are checked by
        ``check_tensor_table``, which comes first).
    """
    ends = [entry["data_offsets"][1] for entry in header.values()
            if isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2 and isinstance(entry["data_offsets"][1], int)]
    needed = max(ends, default=0)
    if needed > available:
        raise ModelFileError(f"{path} is truncated, not a complete safetensors file: its tensors need "
                             f"{needed} bytes, only {available} follow the header")
    if available > needed:
        raise ModelFileError(f"{path} is corrupted: {available - needed} byte(s) follow the end of its tensors "
                             "(something was appended to the file)")


def check_tensor_table(path, header: dict, document: dict) -> None:
    """Every tensor entry well formed: a shape of non-negative ints, the document's dtype
    (an estimator's curves: float64, one-dimensional), and a byte range (``data_offsets``)
    exactly as long as its shape needs, so that the file really holds the weights its table
    lists."""
    model_dtype = document.get("dtype")
    if not isinstance(model_dtype, str) or model_dtype not in SAFETENSORS_DTYPES:
        raise ModelFileError(f"{path}: unsupported dtype {model_dtype!r} (chainrule writes float32 or float64)")
    for name, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise ModelFileError(f"{path} is corrupted: tensor {name!r} has no valid shape")
        dtype = "float64" if name in CURVE_NAMES else model_dtype
        if entry.get("dtype") != SAFETENSORS_DTYPES[dtype]:
            whose = "a training curve is" if name in CURVE_NAMES else "the model is"
            raise ModelFileError(f"{path} is corrupted: tensor {name!r} is {entry.get('dtype')}, {whose} {dtype}")
        if name in CURVE_NAMES:
            _check_curve_entry(path, name, shape, document)
        offsets = entry.get("data_offsets")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
                or not 0 <= offsets[0] <= offsets[1]
                or offsets[1] - offsets[0] != _count(shape) * ITEMSIZE[dtype]):
            raise ModelFileError(f"{path} is corrupted: tensor {name!r} has data offsets {offsets!r}, "
                                 f"which do not hold its shape {shape}")


def _check_curve_entry(path, name: str, shape: list, document: dict) -> None:
    """A training curve's tensor is one-dimensional and belongs to an estimator's file."""
    if len(shape) != 1:
        raise ModelFileError(f"{path} is corrupted: tensor {name!r} has shape {shape}, "
                             "a training curve is one-dimensional")
    if not isinstance(document.get("estimator"), dict):
        raise ModelFileError(f"{path} is corrupted: tensor {name!r} is an estimator's training curve, "
                             "but the file holds no estimator record")


def check_architecture(path, header: dict, document: dict) -> None:
    """The layer list describes exactly the file's weights (every tensor but an estimator's
    curves), names and shapes, as found from the layer configs without building anything
    (``Layer.shape_plan``): a damaged or forged header cannot make the loader allocate a
    network larger than the weights in the file.

    Raises
    ------
    ModelFileError
        No layer list; more layers than the tensors can account for; a size larger than
        the file's weight count, or not an integer; layers that do not fit together;
        missing or unexpected tensors, or shapes that differ.
    """
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise ModelFileError(f"{path}: the architecture record has no layer list")
    header = {name: entry for name, entry in header.items() if name not in CURVE_NAMES}  # not weights
    _check_layers_built_to_plan(path, layers, sum(_count(entry["shape"]) for entry in header.values()))
    count, limit = _count_layer_specs(layers), MAX_LAYERS + LAYERS_PER_TENSOR * len(header)
    if count > limit:
        raise ModelFileError(f"{path}: the architecture has {count} layers for {len(header)} tensors "
                             f"(at most {limit}; damaged or forged header)")
    expected = _planned_tensors(path, layers)
    found = {name: tuple(entry["shape"]) for name, entry in header.items()}
    missing, extra = sorted(expected.keys() - found.keys()), sorted(found.keys() - expected.keys())
    if missing or extra:
        parts = [f"{what} {_some(names)}" for what, names in (("missing", missing), ("unexpected", extra)) if names]
        raise ModelFileError(f"{path}: weights do not match the architecture ({'; '.join(parts)})")
    for name, shape in expected.items():
        if found[name] != shape:
            raise ModelFileError(f"{path}: {name} has shape {found[name]}, the architecture needs {shape}")


def _check_layers_built_to_plan(path, layers: list, total: int) -> None:
    """A layer class without a ``shape_plan`` of its own (another library's) is built to find
    its tensors: first, no number in its config may pass the file's weight count (a coarse
    guard; integral floats such as 1e12 count, since a constructor may take them for sizes)."""
    from .layers import LAYERS
    from .layers.base import plans_by_building

    for spec in _walk_json(layers):
        try:
            cls = LAYERS.get(spec["type"]) if isinstance(spec, dict) and "type" in spec else None
        except (TypeError, ValueError):  # an unknown type is named when the layers are planned
            cls = None
        largest = _largest_number(spec.get("config")) if cls is not None else 0
        if cls is not None and plans_by_building(cls) and largest > max(total, 1):
            raise ModelFileError(f"{path}: the architecture asks for a size of {int(largest)}, but the file holds "
                                 f"only {total} weights (damaged or forged header)")


def _planned_tensors(path, layers: list) -> dict:
    """Tensor name -> shape that the layer specs would build (``layers.<i>.<name>``)."""
    from .layers import spec_shape_plan
    from .layers.base import chain_plans

    try:
        plans = [spec_shape_plan(spec) for spec in layers]
        chain_plans(plans, next((plan.n_in for plan in plans if plan.n_in is not None), None))
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the architecture record is invalid ({exc})") from None
    return {f"layers.{i}.{name}": tuple(shape) for i, plan in enumerate(plans) for name, shape in plan.tensors.items()}


def _some(names: list, shown: int = 3) -> str:
    """The first few of ``names``, then how many more (a forged table may list thousands)."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _count(shape) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def _walk_json(value):
    """Every value inside nested lists and dicts, ``value`` included (no recursion: the
    nesting depth of a file's JSON is the file's choice)."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _largest_number(value) -> float:
    """The largest whole number anywhere inside nested lists and dicts (0 if none), integral
    floats included."""
    numbers = (v for v in _walk_json(value) if not isinstance(v, bool)
               and (isinstance(v, int) or (isinstance(v, float) and v.is_integer())))
    return max(numbers, default=0)


def _count_layer_specs(layers: list) -> int:
    """How many layer specs (dicts with a ``type``) the list holds, nested blocks included."""
    return sum(1 for v in _walk_json(layers) if isinstance(v, dict) and "type" in v)
