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
import stat
import struct
from pathlib import Path

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024
PICKLE_SNIFF = 1 << 20  # bytes read to recognise a text or legacy PyTorch pickle
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
    if type(version) is not int or version != FORMAT_VERSION:  # not True, not 1.0
        raise ModelFileError(
            f"{path}: model format version {version!r} is not supported "
            f"(this chainrule reads version {FORMAT_VERSION})"
        )
    check_tensor_table(path, header, document)
    check_data_size(path, header, size - 8 - length)
    return header, document


_FILE_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a pipe (FIFO)", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


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
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind != stat.S_IFREG:
        os.close(fd)
        raise ModelFileError(f"{path} is {_FILE_KINDS.get(kind, 'not a regular file')}, not a model file "
                             "(chainrule reads model files from regular files only)")
    return os.fdopen(fd, "rb")


def _read_header_bytes(path: Path, handle) -> tuple[bytes, int, int]:
    """The raw JSON header of an open file, its size and the header length, after telling
    an empty, truncated, pickled or foreign file by its first bytes."""
    size = os.fstat(handle.fileno()).st_size
    start = handle.read(9)
    if len(start) < 8:
        raise ModelFileError(f"{path} is not a chainrule model file: it is {'empty' if not start else f'only {len(start)} bytes'}")
    (length,) = struct.unpack("<Q", start[:8])
    if length > MAX_HEADER or length > size - 8:
        # a safetensors header is JSON that starts with "{": then the file was cut short
        if start[8:9] == b"{" and length <= MAX_HEADER and size >= 8:
            raise ModelFileError(f"{path} is truncated, not a complete safetensors file: its header needs "
                                 f"{length} bytes, only {size - 8} follow")
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


def _parse_json(text, message: str):
    """``json.loads``, any failure a ``ModelFileError`` with ``message`` (and, for an
    integer too long for Python to read, why)."""
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelFileError(message) from None
    except ValueError as exc:  # an integer of more than sys.get_int_max_str_digits() digits
        raise ModelFileError(f"{message} ({str(exc).split(';')[0]})") from None


def _looks_like_pickle_or_zip(head: bytes, last: bytes) -> bool:
    """Whether a file is a pickle or a zip archive (``PK``, as in PyTorch's files), from its
    first bytes ``head`` and its ``last`` byte. Nothing is unpickled.

    A pickle is either a protocol marker (``0x80`` then 2 to 5) at the start and the STOP
    opcode ``.`` as the last byte, or a start that ``pickletools`` reads as opcodes up to
    a STOP: text pickles (protocols 0 and 1) and PyTorch's legacy ``torch.save`` files,
    whose first pickle is a magic number followed by more pickles and raw data.

    Only asked once the file has been found not to be safetensors: ``0x80 0x04`` is also
    a valid start of a safetensors header length (1152 bytes)."""
    protocol = head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    return (protocol and last == b".") or head[:2] == b"PK" or _starts_with_a_pickle(head)


def _starts_with_a_pickle(head: bytes) -> bool:
    """Whether ``head`` begins with a whole pickle of at least 3 opcodes (fewer would take
    random bytes such as ``N.`` for one); ``pickletools.genops`` only decodes opcodes."""
    import io
    import pickletools

    try:
        for count, (opcode, _, _) in enumerate(pickletools.genops(io.BytesIO(head)), start=1):
            if opcode.name == "STOP":
                return count >= 3
    except Exception:  # any failure to decode (mostly ValueError) means it is not one
        return False
    return False


def check_data_size(path, header: dict, available: int) -> None:
    """Refuse a file whose tensor table points past its end (a file cut short).

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
        The tensors need more bytes than the file holds. Malformed offsets are left to
        the safetensors reader, which calls the file corrupted.
    """
    ends = [entry["data_offsets"][1] for entry in header.values()
            if isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2 and isinstance(entry["data_offsets"][1], int)]
    needed = max(ends, default=0)
    if needed > available:
        raise ModelFileError(f"{path} is truncated, not a complete safetensors file: its tensors need "
                             f"{needed} bytes, only {available} follow the header")


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
