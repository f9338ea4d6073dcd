"""The user's own tables (CSV, Parquet): numeric features and one target column.

Everything is checked before training starts, and every error names the file and the
column or value at fault.

How a CSV file is read (see docs/interfaces.md, "The command line on your own tables"):

- the encoding is UTF-8 (a UTF-8 byte-order mark is dropped); UTF-16 and UTF-32 with a
  byte-order mark are decoded; anything else (Latin-1, UTF-16 without a mark) is refused,
  naming the line and what the byte would be in Latin-1;
- gzip, bzip2, xz and zip compression are recognised by their first bytes, whatever the
  file's name; a file that starts with ``PAR1`` is read as Parquet;
- lines starting with ``#`` above the header are skipped (with a warning), and an Excel
  ``sep=;`` first line names the separator;
- otherwise the separator is the first of ``,`` ``\\t`` ``;`` ``|`` (tab first for a ``.tsv``
  or ``.tab`` file) that splits the first lines into the same number (> 1) of fields; with
  ``;``, tab or ``|`` cells like ``5,1`` are decimal commas;
- header names are stripped of surrounding spaces; duplicated names are refused;
- the target column is read as text: string labels are kept exactly as written (``NA``,
  ``None``, ``null`` and ``01`` included; only an empty cell is missing), numbers are numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shlex
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class TableWarning(UserWarning):
    """Something about a table worth a look that is not an error: comment lines skipped, a
    column that looks like a row ID, a label that reads like a missing value. The command
    line prints each as one line on standard error."""


@dataclass
class Table:
    """Features and (optionally) a target read from a file.

    Attributes
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,) or None
        Class indices for classification, floats for regression.
    feature_names : list of str
    target : str or None
    task : {"binary", "multiclass", "regression"} or None
    classes : list or None
        Original class labels; ``y`` indexes them.
    note : str or None
        How an ambiguous target was read (an integer target taken as regression), for the report.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list
    target: str | None
    task: str | None
    classes: list | None
    note: str | None = None


def is_numeric(column) -> bool:
    """True for a numeric (not boolean-as-object, not string) pandas column."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column)


#: How the errors count rows: the first row under the header is data row 1.
HEADER_NOT_COUNTED = " (header not counted)"

#: pandas' default missing-value strings. In feature columns they are missing values; a
#: target column holding text keeps them as labels ("NA" is North America), and only an empty
#: cell is missing there.
NA_STRINGS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})

_HEAD_BYTES = 1 << 20  # what the separator, encoding and header are read from
_SEPARATORS = (",", "\t", ";", "|")
_SEPARATOR_NAMES = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}
_EXCEL = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OTHER_FORMATS = {".json": "JSON", ".jsonl": "JSON lines", ".ndjson": "JSON lines", ".feather": "Feather",
                  ".arrow": "Arrow IPC", ".ipc": "Arrow IPC", ".h5": "HDF5", ".hdf5": "HDF5", ".hdf": "HDF5",
                  ".pkl": "pickle", ".pickle": "pickle", ".npy": "NumPy", ".npz": "NumPy", ".sav": "SPSS",
                  ".dta": "Stata", ".sas7bdat": "SAS"}
_SAVE_AS = "save the table as CSV (UTF-8) or Parquet (pandas: DataFrame.to_csv(path, index=False))"
_SAVE_EXCEL = "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)"
_COMPRESSION_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
                      (b"\x28\xb5\x2f\xfd", "zstd"))
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")
_DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")
_ZERO_PADDED = re.compile(r"[+-]?0\d+")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}( .*)?")


@dataclass
class _Layout:
    """How to read a file: Parquet, or CSV with these settings."""

    path: Path
    source: object  # the path, or the bytes of a pipe in a BytesIO
    parquet: bool = False
    compression: str | None = None
    encoding: str = "utf-8"
    sep: str = ","
    decimal: str = "."
    skiprows: int = 0
    names: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    comment_lines: int = 0
    header_row: bool = True  # False: the names come from a comment line, every line read is data


def first_non_number(column) -> tuple[int, object]:
    """Position and value of the first cell of a non-numeric column that is not a number
    (the first cell when every one converts, as in a boolean column)."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype

    try:
        bad = pd.to_numeric(column, errors="coerce").isna().to_numpy() & column.notna().to_numpy()
    except (TypeError, ValueError):  # dates, intervals: not numbers at all
        bad = column.notna().to_numpy()
    row = int(np.flatnonzero(bad)[0]) if bad.any() and not is_bool_dtype(column) else 0
    value = column.iloc[row]
    return row, value.item() if isinstance(value, np.generic) else value


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise OSError("reading tables needs pandas (pip install pandas)") from None
    return pd


def _open(path: Path):
    """The file's source for pandas and its first bytes. A pipe or device (``<(zcat f.gz)``,
    /dev/stdin) is read once, into memory, since it cannot be read twice."""
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a data file")
    with open(path, "rb") as handle:
        if path.is_file():
            return path, handle.read(_HEAD_BYTES)
        data = handle.read()
    return io.BytesIO(data), data[:_HEAD_BYTES]


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


def _find_bad_utf8(layout: _Layout) -> str | None:
    """Scan a whole (decompressed) file for its first byte that is not UTF-8."""
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


def _is_comment(line: str) -> bool:
    """A line starting with '#', except one whose first field is '#' (a column named '#')."""
    stripped = line.strip()
    return stripped.startswith("#") and not (len(stripped) > 1 and stripped[1] in _SEPARATORS)


def _preamble(lines: list[str]) -> tuple[int, list[int], str | None]:
    """Index of the first line after the comments (the header), the indices of the comment
    lines above it, and the separator an Excel "sep=;" line names (that line is skipped)."""
    comments, sep = [], None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _is_comment(line):
            comments.append(i)
            continue
        hint = re.fullmatch(r'"?sep=(.)"?', line.strip())
        if hint and sep is None:
            sep = hint.group(1)
            continue
        return i, comments, sep
    return len(lines), comments, sep


def _commented_header(lines: list[str], comments: list[int], first: int, sep: str) -> list[str] | None:
    """The names of a header written as the last comment line (numpy.savetxt's "# a,b,y")
    when the line under it is all numbers and has as many fields."""
    if not comments or comments[-1] != max(i for i in range(first) if lines[i].strip()):
        return None
    names = _rows([lines[comments[-1]].strip()[1:].lstrip()], sep)
    data = _rows(lines[first:first + 1], sep)
    if not names or not data or len(names[0]) < 2 or len(names[0]) != len(data[0]):
        return None
    try:
        [float(cell) for cell in data[0]]
    except ValueError:
        return None
    if all(_is_number(name) for name in names[0]):
        return None
    return names[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _rows(lines: list[str], sep: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(lines, delimiter=sep, skipinitialspace=True) if row]
    except csv.Error:
        return []


def _sniff(lines: list[str], prefer_tab: bool) -> tuple[str, list[list[str]]]:
    """The separator that splits the header and the lines under it into the same number of
    fields (more than one), in order of preference; else the first that splits the header."""
    order = ("\t", ",", ";", "|") if prefer_tab else _SEPARATORS
    parsed = {sep: _rows(lines, sep) for sep in order}
    for sep in order:
        rows = parsed[sep]
        if rows and len(rows[0]) > 1 and all(len(row) == len(rows[0]) for row in rows[1:]):
            return sep, rows
    for sep in order:
        if parsed[sep] and len(parsed[sep][0]) > 1:
            return sep, parsed[sep]
    return order[0], parsed[order[0]]


def _decimal(rows: list[list[str]], sep: str) -> str:
    """',' when a file separated by ';', tab or '|' writes numbers like 5,1 and none like 5.1."""
    if sep == ",":
        return "."
    cells = [cell.strip() for row in rows[1:] for cell in row]
    if any(_DECIMAL_COMMA.fullmatch(c) for c in cells) and not any(_DECIMAL_POINT.fullmatch(c) for c in cells):
        return ","
    return "."


def _duplicates(path: Path, raw_names: list) -> None:
    """Refuse a header that names a column twice (pandas would rename one 'a.1')."""
    stripped = [str(n).strip() for n in raw_names]
    seen: dict = {}
    for i, name in enumerate(stripped):
        if name:
            seen.setdefault(name, []).append(i)
    for name, positions in seen.items():
        if len(positions) > 1:
            where = ", ".join(str(i + 1) for i in positions)
            spaces = " once its surrounding spaces are stripped" if len({raw_names[i] for i in positions}) > 1 else ""
            raise ValueError(f"{path}: the header names column {name!r} {len(positions)} times{spaces} (columns "
                             f"{where}); rename them so that each column has its own name")


def _inspect(path) -> _Layout:
    """Find out how to read ``path``: its format, compression, encoding, separator, decimal
    mark, the lines above its header and its column names. Parquet files are read here."""
    path = Path(path)
    _refuse_by_name(path)
    source, raw = _open(path)
    layout = _Layout(path, source)
    if raw.startswith(b"PAR1") or path.suffix.lower() in (".parquet", ".pq"):
        layout.parquet = True
        return layout
    _refuse_by_content(path, raw)
    complete = len(raw) < _HEAD_BYTES
    for magic, name in _COMPRESSION_MAGIC:
        if raw.startswith(magic) and (name != "bz2" or raw[4:10] in (b"1AY&SY", b"\x17rE8P\x90")):
            layout.compression = name
            try:
                with _content(source, name) as handle:
                    raw = handle.read(_HEAD_BYTES)
            except _NeedsPackage:
                raise
            except Exception as exc:
                raise ValueError(f"{path} could not be decompressed ({name}): {str(exc).splitlines()[0]}") from None
            complete = len(raw) < _HEAD_BYTES
            _refuse_by_content(path, raw)
            break
    layout.encoding = _encoding(path, raw)
    try:
        text = codecs.getincrementaldecoder(layout.encoding)().decode(raw, final=complete)
    except UnicodeDecodeError as exc:
        if layout.encoding == "utf-8":
            raise ValueError(_not_utf8(path, raw, exc.start)) from None
        raise ValueError(f"{path} is not valid {layout.encoding.upper()} ({exc.reason} at byte {exc.start})") from None
    lines = io.StringIO(text, newline="").readlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    header, comments, hinted = _preamble(lines)
    layout.comment_lines = len(comments)
    if header == len(lines):
        raise ValueError(f"{path} is empty" + (" (only comment lines)" if comments else ""))
    window = lines[header:header + 50]
    if hinted:
        layout.sep, rows = hinted, _rows(window, hinted)
    else:
        layout.sep, rows = _sniff(window, path.suffix.lower() in (".tsv", ".tab"))
    raw_names = rows[0] if rows else []
    layout.skiprows = header
    commented = _commented_header(lines, comments, header, layout.sep)
    if commented:
        raw_names, layout.header_row = commented, False
        rows = [raw_names, *rows]
        layout.comment_lines -= 1
        layout.notes.append(f"{path}: the header is the comment line {comments[-1] + 1} (as numpy.savetxt writes "
                            "it)" + (f"; skipped {layout.comment_lines} other line(s) starting with '#'"
                                     if layout.comment_lines else ""))
    elif comments:
        layout.notes.append(f"{path}: skipped {len(comments)} line(s) starting with '#' above the header "
                            f"(line {header + 1})")
    layout.decimal = _decimal(rows, layout.sep)
    _duplicates(path, raw_names)
    layout.names = [name.strip() or f"Unnamed: {i}" for i, name in enumerate(raw_names)]
    return layout


def _read(layout: _Layout, text_columns=()):
    """The DataFrame of a file ``_inspect`` has looked at; ``text_columns`` are read as text
    with only empty cells missing."""
    pd = _pandas()
    path = layout.path
    try:
        if layout.parquet:
            frame = pd.read_parquet(layout.source)
        else:
            na_values = {name: ([""] if name in text_columns else sorted(NA_STRINGS | {""})) for name in layout.names}
            frame = pd.read_csv(layout.source, sep=layout.sep, decimal=layout.decimal, encoding=layout.encoding,
                                compression=layout.compression, skiprows=layout.skiprows,
                                header=0 if layout.header_row else None,
                                names=layout.names or None, skipinitialspace=True, keep_default_na=False,
                                na_values=na_values, dtype={name: str for name in text_columns})
    except ImportError as exc:
        raise OSError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except UnicodeDecodeError:
        message = _find_bad_utf8(layout) if layout.encoding == "utf-8" else None
        raise ValueError(message or f"{path} is not valid {layout.encoding.upper()} text") from None
    except Exception as exc:  # pandas raises many parser error types
        raise ValueError(f"{path} could not be read as a table: {str(exc).splitlines()[0]}") from None
    if isinstance(layout.source, io.BytesIO):
        layout.source.seek(0)
    if layout.parquet:
        _duplicates(path, [str(c) for c in frame.columns])
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _emit(notes) -> None:
    for note in notes:
        warnings.warn(TableWarning(note), stacklevel=3)


def read_frame(path):
    """A pandas DataFrame from a CSV or Parquet file, read as ``load_table`` reads it (every
    column typed by pandas)."""
    layout = _inspect(path)
    frame = _read(layout)
    _emit(layout.notes)
    return frame


def _listing(names) -> str:
    """Column names as Python writes them ('a ', 'b'); of many, the first 20 and the last 5."""
    names = list(names)
    if len(names) <= 30:
        return ", ".join(map(repr, names))
    return (", ".join(map(repr, names[:20])) + ", ..., " + ", ".join(map(repr, names[-5:]))
            + f" ({len(names)} in all)")


def _no_column(layout: _Layout, names, name: str, role: str) -> ValueError:
    """'has no target column' with the columns found (repr) and what may have gone wrong."""
    hints = []
    close = [n for n in names if str(n).casefold() == name.casefold()]
    if close:
        hints.append(f"did you mean {close[0]!r}?")
    if len(names) == 1:
        seps = [_SEPARATOR_NAMES[s] for s in (";", "\t", "|", ",") if s in str(names[0])]
        hints.append("only one column found" + (f"; the file seems to use {seps[0]} as its separator" if seps else ""))
    if layout.comment_lines:
        hints.append(f"{layout.comment_lines} line(s) starting with '#' above the header were skipped")
    hint = f"; {'; '.join(hints)}" if hints else ""
    what = f"{role} {name!r}" if role == "target column" else f"column {name!r} to drop"
    return ValueError(f"{layout.path} has no {what} (columns: {_listing(names)}){hint}")


def _resolve_drop(layout: _Layout, names, drop, target) -> list:
    """Column names from ``drop`` entries: a whole entry that names a column, or its
    comma-separated parts."""
    out = []
    for entry in drop:
        entry = str(entry)
        parts = [entry.strip()] if entry.strip() in names else [p.strip() for p in entry.split(",") if p.strip()]
        for part in parts:
            if part not in names:
                raise _no_column(layout, names, part, "column to drop")
            if part == target:
                raise ValueError(f"{layout.path}: {part!r} is the target column; it cannot also be dropped")
            out.append(part)
    return out


def _feature_values(column):
    """A feature column as floats (booleans as 0/1; missing cells NaN), or None when it is
    not numeric."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype, is_object_dtype

    if is_bool_dtype(column):
        return column.to_numpy(dtype=np.float64)
    if is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    if is_object_dtype(column):
        present = column.dropna()
        if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present.tolist()):
            return pd.to_numeric(column.map({True: 1.0, False: 0.0}), errors="coerce").to_numpy(dtype=np.float64)
    return None


def _encoding_advice(column, name: str, drop_option: str | None) -> str:
    """How to make a text, yes/no or date column numeric; empty for a numeric column with a
    stray cell (that is a cell to fix)."""
    import pandas as pd
    from pandas.api.types import is_datetime64_any_dtype

    present = column.dropna()
    text = present.astype(str).str.strip()
    if len(text) and text.str.fullmatch(_DECIMAL_COMMA).mean() > 0.5:
        return ("; it looks like numbers with decimal commas, which are read only in files separated by ';', tab "
                "or '|' whose numbers all use them: write every number with the same decimal mark")
    if is_datetime64_any_dtype(column) or (len(text) and text.str.fullmatch(_DATE).mean() > 0.5):
        how = "a date as a number, e.g. days since the first date"
    elif len(text) and set(text.str.lower().unique()) <= {"yes", "no", "y", "n"}:
        how = "yes/no as 1/0"
    else:
        try:
            numbers = pd.to_numeric(present, errors="coerce")
        except (TypeError, ValueError):
            numbers = pd.Series(np.nan, index=present.index)
        if numbers.notna().mean() >= 0.5:
            return ""
        categories = text.unique().tolist()
        examples = ", ".join(f"{name}_{c}" for c in categories[:2]) + (", ..." if len(categories) > 2 else "")
        how = f"one 0/1 column per category: {len(categories)} categories, columns {examples}"
    drop = f" or leave it out with {drop_option} {shlex.quote(name)}" if drop_option else " or leave it out"
    return f"; encode it as numbers ({how}){drop}"


def _looks_like_id(values: np.ndarray) -> str | None:
    """How an integer column with a different value in every row is ordered: 'in increasing
    order', 'in decreasing order', 'every integer from a to b', or None."""
    n = values.shape[0]
    if n < 10 or not np.all(np.mod(values, 1) == 0) or np.unique(values).size != n:
        return None
    steps = np.diff(values)
    if np.all(steps > 0):
        return "in increasing order"
    if np.all(steps < 0):
        return "in decreasing order"
    if values.max() - values.min() == n - 1:
        return f"every integer from {values.min():.0f} to {values.max():.0f}"
    return None


def load_table(path, target: str | None, task: str = "auto", features=None, classes=None, ignore=(), drop=(),
               drop_option: str | None = None) -> Table:
    """Read ``path`` and split it into numeric features and the ``target`` column.

    Parameters
    ----------
    target : str or None
        Target column (None: the file holds features only, for prediction).
    task : {"auto", "classification", "regression"}
        "auto": a non-numeric target, or an integer one with at most 20 distinct values,
        is classification. Integers written with leading zeros (codes like 01) are labels.
    features : list of str, optional
        Required feature columns, in order (a model's); by default every other column.
    classes : list, optional
        Known class labels (a model's), to index the target with. When they are strings, the
        target column is compared as the text in the file ("01" stays "01", "NA" is a label).
    ignore : sequence of str
        Columns that are never features when ``features`` is not given (e.g. a model's
        recorded target in a file given for prediction).
    drop : sequence of str
        Columns the user leaves out of the features (each entry a column name, or
        comma-separated names); an unknown name is an error.
    drop_option : str, optional
        The command-line option that drops a column (``"--drop"``), named in the advice
        for a column that is not numeric.

    Warns
    -----
    TableWarning
        Comment lines skipped above the header, an integer feature column with a different
        value in every row in order (a row ID?), a text label that pandas would read as
        missing ("NA"). Only after the table has passed every check.
    """
    layout = _inspect(path)
    path = layout.path
    if target is not None:
        target = str(target).strip()
    names = layout.names
    if names and target is not None and target not in names:
        raise _no_column(layout, names, target, "target column")
    frame = _read(layout, text_columns=(target,) if target is not None and not layout.parquet else ())
    names = list(frame.columns)
    if target is not None and target not in names:
        raise _no_column(layout, names, target, "target column")
    if frame.shape[0] == 0:
        raise ValueError(f"{path} has no rows")
    notes = list(layout.notes)
    dropped = _resolve_drop(layout, names, drop, target)
    if features is None:
        features = [c for c in names if c != target and c not in ignore and c not in dropped]
        unnamed = [i for i, c in enumerate(names) if str(c).startswith("Unnamed: ") and c in features]
        if unnamed:
            i = unnamed[0]
            raise ValueError(f"{path}: column {i + 1} has no name in the header (pandas calls it "
                             f"{names[i]!r}); a saved index (DataFrame.to_csv without index=False) or a "
                             "trailing comma would silently become a feature: "
                             + (f"drop the column ({drop_option} {shlex.quote(names[i])}) or name it" if drop_option
                                else "drop the column or name it"))
        choose = target is not None
    else:
        choose = False
    missing = [c for c in features if c not in names]
    if missing:
        raise ValueError(f"{path} lacks the feature column(s) {', '.join(map(repr, missing))} the model needs "
                         f"(columns: {_listing(names)})")
    if not features:
        raise ValueError(f"{path} has no feature columns besides the target"
                         + (" and the dropped ones" if dropped else ""))
    columns = []
    for column in features:
        values = _feature_values(frame[column])
        if values is None:
            row, value = first_non_number(frame[column])
            raise ValueError(f"{path}: feature column {column!r} is not numeric: data row {row + 1} holds "
                             f"{value!r}{HEADER_NOT_COUNTED}{_encoding_advice(frame[column], column, drop_option)}")
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise ValueError(f"{path}: feature column {column!r} has a missing value in data row {row + 1}"
                             f"{HEADER_NOT_COUNTED}")
        columns.append(values)
    X = np.column_stack(columns) if columns else np.empty((frame.shape[0], 0))
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{path}: feature column {features[col]!r} has {X[row, col]} in data row {row + 1}"
                         f"{HEADER_NOT_COUNTED}")
    if choose:
        for j, column in enumerate(features):
            order = _looks_like_id(X[:, j])
            if order:
                drop_hint = f"{drop_option} {shlex.quote(column)}" if drop_option else "drop it"
                notes.append(f"{path}: feature column {column!r} holds a different integer in every row, {order}: "
                             f"it looks like a row ID, which a network can learn the row order from; {drop_hint} "
                             "if so")
    if target is None:
        _emit(notes)
        return Table(X, None, list(features), None, None, classes)
    table = _target_table(frame[target], layout, target, task, classes, X, list(features), notes)
    _emit(notes)
    return table


def _missing(path, target, row, value=None) -> ValueError:
    shown = "" if value is None else f" ({value!r})"
    return ValueError(f"{path}: target column {target!r} has a missing value in data row {row + 1}"
                      f"{HEADER_NOT_COUNTED}{shown}")


def _class_kind(classes) -> str:
    if all(isinstance(c, str) for c in classes):
        return "text"
    if all(isinstance(c, (bool, np.bool_)) for c in classes):
        return "bool"
    if all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, (bool, np.bool_))
           for c in classes):
        return "number"
    return "mixed"


def _target_table(column, layout: _Layout, target: str, task: str, classes, X, features, notes) -> Table:
    """The target column as class indices or values; ``column`` is text for a CSV file,
    typed for Parquet."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    path = layout.path
    from_text = not layout.parquet
    if column.isna().any():
        raise _missing(path, target, int(np.flatnonzero(column.isna().to_numpy())[0]))
    numbers = None  # the column as numbers, where it is numeric
    if from_text:
        text = column.astype(str).str.strip()
        if (text == "").any():
            raise _missing(path, target, int(np.flatnonzero((text == "").to_numpy())[0]))
        parsed = pd.to_numeric(text.str.replace(",", ".", regex=False) if layout.decimal == "," else text,
                               errors="coerce")
        na_like = text.isin(NA_STRINGS).to_numpy()
        is_number = parsed.notna().to_numpy() & ~na_like
        numeric = bool(is_number.any()) and bool((is_number | na_like).all())
        kind = _class_kind(classes) if classes is not None else None
        if kind == "text" or (kind is None and task != "regression" and numeric
                              and text[is_number].str.fullmatch(_ZERO_PADDED).any()
                              and np.all(np.mod(parsed[is_number].to_numpy(dtype=float), 1) == 0)):
            numeric = False  # labels as written: codes like 01 stay "01"
        if numeric or task == "regression" or kind in ("number", "bool"):
            if kind == "bool":
                lowered = text.str.lower()
                values = lowered.map({"true": True, "false": False, "1": True, "0": False})
                if values.isna().any():
                    row = int(np.flatnonzero(values.isna().to_numpy())[0])
                    raise ValueError(f"{path}: target column {target!r} has label {text.iloc[row]!r} in data row "
                                     f"{row + 1}{HEADER_NOT_COUNTED}, unknown to the model ({classes})")
                column = values.astype(bool)
            else:
                if na_like.any() and (is_number | na_like).all():
                    row = int(np.flatnonzero(na_like)[0])
                    raise _missing(path, target, row, text.iloc[row])
                if not is_number.all():
                    row = int(np.flatnonzero(~is_number)[0])
                    if kind == "number":
                        raise ValueError(f"{path}: target column {target!r} has label {text.iloc[row]!r} in data row "
                                         f"{row + 1}{HEADER_NOT_COUNTED}, unknown to the model ({classes})")
                    raise ValueError(f"{path}: target column {target!r} is not numeric (data row {row + 1} holds "
                                     f"{text.iloc[row]!r}{HEADER_NOT_COUNTED}), so it cannot be regressed")
                column = parsed
                numbers = parsed
        else:
            column = text
            if classes is None:
                labels = sorted(set(text[na_like].tolist()))
                if labels:
                    row = int(np.flatnonzero(na_like)[0])
                    notes.append(f"{path}: target column {target!r} holds {', '.join(map(repr, labels))}, read as "
                                 "class label(s), not as missing values (only empty cells are missing); first in data "
                                 f"row {row + 1}{HEADER_NOT_COUNTED}")
    elif classes is not None and _class_kind(classes) == "text" and not (
            column.dtype == object or str(column.dtype) in ("str", "string", "category")):
        column = column.astype(str)
    elif classes is not None and _class_kind(classes) == "number" and not is_numeric_dtype(column):
        converted = pd.to_numeric(column.astype(str), errors="coerce")
        if converted.notna().all():
            column = converted
    if numbers is None and is_numeric(column):
        numbers = column
    if numbers is not None:
        values = numbers.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(f"{path}: target column {target!r} has {values[row]} in data row {row + 1}"
                             f"{HEADER_NOT_COUNTED}")
    numeric = numbers is not None and not is_bool_dtype(column)
    note = None
    if task == "auto":
        integral = numeric and np.all(np.mod(column.to_numpy(dtype=float), 1) == 0)
        task = "classification" if (not numeric or (integral and column.nunique() <= 20)) else "regression"
        if integral and task == "regression":
            note = (f"target {target!r} holds {column.nunique()} different integers (over 20): treated as "
                    "regression; --task classification treats them as classes")
    if task == "regression":
        if not numeric:
            raise ValueError(f"{path}: target column {target!r} is not numeric, so it cannot be regressed")
        return Table(X, column.to_numpy(dtype=np.float64), features, target, "regression", None, note)
    if task != "classification":
        raise ValueError(f"task must be auto, classification or regression, got {task!r}")
    labels = column.to_numpy()
    if classes is None:
        classes = sorted(np.unique(labels).tolist(), key=lambda v: (str(type(v)), v))
        if len(classes) < 2:
            raise ValueError(f"{path}: target column {target!r} has a single class ({classes[0]!r}); need at least 2")
    lookup = {c: i for i, c in enumerate(classes)}
    if from_text and _class_kind(classes) == "mixed":  # compare as the text in the file
        lookup = {str(c): i for i, c in enumerate(classes)}
    unknown = [v for v in pd.unique(labels).tolist() if v not in lookup]
    if unknown:
        value = unknown[0]
        row = int(np.flatnonzero(np.asarray([v == value for v in labels.tolist()]))[0])
        ambiguous = (f"; if {value!r} marks a missing value, remove the row" if isinstance(value, str)
                     and value in NA_STRINGS else "")
        raise ValueError(f"{path}: target column {target!r} has label {value!r} in data row {row + 1}"
                         f"{HEADER_NOT_COUNTED}, unknown to the model ({classes}){ambiguous}")
    y = np.array([lookup[v] for v in labels.tolist()], dtype=np.int64)
    return Table(X, y, features, target, "binary" if len(classes) == 2 else "multiclass", list(classes), note)
