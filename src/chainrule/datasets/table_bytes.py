"""The bytes of a table file, before any parsing: opening it (a pipe is read once, into
memory), refusing formats that are not tables chainrule reads (Excel, JSON, Feather, ...) by
name and by content, decompressing, and finding the text encoding or the first byte that is
not UTF-8. ``table_file`` builds on these to find the file's layout and read it.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path

_HEAD_BYTES = 1 << 20  # what the separator, encoding and header are read from
#: Read on past ``_HEAD_BYTES`` until the header and a line under it end (a table of some
#: 100,000 columns), up to this: a longer header line is refused, naming the limit.
_MAX_HEAD_BYTES = 64 << 20
_EXCEL = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OTHER_FORMATS = {".json": "JSON", ".jsonl": "JSON lines", ".ndjson": "JSON lines", ".feather": "Feather",
                  ".arrow": "Arrow IPC", ".ipc": "Arrow IPC", ".h5": "HDF5", ".hdf5": "HDF5", ".hdf": "HDF5",
                  ".pkl": "pickle", ".pickle": "pickle", ".npy": "NumPy", ".npz": "NumPy", ".sav": "SPSS",
                  ".dta": "Stata", ".sas7bdat": "SAS"}
_SAVE_AS = "save the table as CSV (UTF-8) or Parquet (pandas: DataFrame.to_csv(path, index=False))"
_SAVE_EXCEL = "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)"
_COMPRESSION_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
                      (b"\x28\xb5\x2f\xfd", "zstd"))


def _open(path: Path):
    """The file's source for pandas and its first bytes. A pipe or a terminal (``<(zcat f.gz)``,
    /dev/stdin) is read once, into memory, since it cannot be read twice; any other device
    (/dev/zero, a disk) or a socket is refused before anything is read."""
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a data file")
    with open(path, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if stat.S_ISREG(mode):
            return path, handle.read(_HEAD_BYTES)
        if not (stat.S_ISFIFO(mode) or os.isatty(handle.fileno())):
            from ..atomic import file_kind

            raise ValueError(f"{path} is {file_kind(mode)}, not a data file (chainrule reads tables from files, "
                             "pipes and standard input)")
        data = handle.read()
    return io.BytesIO(data), data[:_HEAD_BYTES]


def _head(source, size: int) -> bytes:
    """The first ``size`` bytes of ``_open``'s source (a path, or a pipe's bytes)."""
    if isinstance(source, io.BytesIO):
        return source.getvalue()[:size]
    with open(source, "rb") as handle:
        return handle.read(size)


def _refuse_by_name(path: Path) -> None:
    """Refuse Excel, JSON, Feather and other files by their extension (the one before a
    compression extension: data.json.gz)."""
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in (".gz", ".bz2", ".xz", ".zip", ".zst") and len(suffixes) > 1:
        suffix = suffixes[-2]
    if suffix in _EXCEL:
        raise ValueError(f"{path}: Excel files are not supported; {_SAVE_EXCEL}")
    if suffix in _OTHER_FORMATS:
        raise ValueError(f"{path}: {_OTHER_FORMATS[suffix]} files are not supported; {_SAVE_AS}")


def _refuse_by_content(path: Path, raw: bytes) -> None:
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ValueError(f"{path} is an Excel (.xls) or other Office file, which is not supported; {_SAVE_EXCEL}")
    if raw.startswith((b"ARROW1", b"FEA1")):
        raise ValueError(f"{path} is a Feather/Arrow file, which is not supported; {_SAVE_AS}")
    if raw.startswith(b"PK\x03\x04") and (b"xl/" in raw[:4096] or b"[Content_Types].xml" in raw[:4096]):
        raise ValueError(f"{path} is an Excel (.xlsx) or other Office file, which is not supported; {_SAVE_EXCEL}")


class _NeedsPackage(OSError):
    """An optional package is missing (an OSError for the command line, not a bad file)."""


def _content(source, compression: str | None):
    """A binary file object of the (decompressed) content of ``source``."""
    import bz2
    import gzip
    import lzma
    import zipfile

    if isinstance(source, io.BytesIO):
        source = io.BytesIO(source.getvalue())
    if compression is None:
        return source if isinstance(source, io.BytesIO) else open(source, "rb")
    if compression == "zip":
        archive = zipfile.ZipFile(source)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        return archive.open(names[0]) if names else io.BytesIO(b"")
    if compression == "zstd":
        try:
            import zstandard
        except ImportError:
            raise _NeedsPackage("reading a zstd-compressed table needs the zstandard package "
                                "(pip install zstandard)") from None
        return zstandard.ZstdDecompressor().stream_reader(source if isinstance(source, io.BytesIO)
                                                          else open(source, "rb"))
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[compression]
    return opener(source, "rb")


def _encoding(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without its byte-order mark), or UTF-16/32 with a byte-order mark; a
    file with NUL bytes and no mark is refused."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw:
        sample = raw[:4096]
        odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
        even = sample[0::2].count(0) / max(1, len(sample[0::2]))
        if max(odd, even) > 0.3 and min(odd, even) < 0.05:
            raise ValueError(f"{path} is not UTF-8 (it looks like UTF-16 without a byte-order mark); save it as "
                             "CSV UTF-8")
        raise ValueError(f"{path} is not a CSV text file (it holds binary data); chainrule reads CSV (UTF-8) and "
                         "Parquet")
    return "utf-8"


def _not_utf8(path: Path, data: bytes, offset: int, line_offset: int = 0) -> str:
    """The message for a byte that is not UTF-8: its line and what it is in Windows-1252."""
    line = line_offset + data.count(b"\n", 0, offset) + 1
    byte = data[offset]
    try:
        char = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        char = bytes([byte]).decode("latin-1")
    return (f"{path} is not UTF-8: line {line} has the byte 0x{byte:02x} ({char!r} in Latin-1/Windows-1252, which "
            "the file seems to use); save it as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)")


def _find_bad_utf8(layout) -> str | None:
    """Scan a whole (decompressed) file for its first byte that is not UTF-8; ``layout`` is
    ``table_file._Layout`` (its path, source and compression)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    with _content(layout.source, layout.compression) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                return None
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                return _not_utf8(layout.path, pending + chunk, exc.start, lines)
            lines += chunk.count(b"\n")
