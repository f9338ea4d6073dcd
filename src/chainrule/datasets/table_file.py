"""Reading a table file (CSV, Parquet) into a pandas DataFrame.

``_inspect`` finds out how a file is laid out before pandas reads it (format, compression,
encoding, separator, decimal mark, the lines above the header, the column names) and refuses
what is not a table it can read (the byte-level part, opening, formats, compression and
encoding, is ``table_bytes``); ``_read`` then reads it. Every error names the file, and the
line or byte at fault. ``chainrule.datasets.tabular`` turns the frame into features and a
target.

How a CSV file is read (see docs/interfaces.md, "The command line on your own tables"):

- the encoding is UTF-8 (a UTF-8 byte-order mark is dropped); UTF-16 and UTF-32 with a
  byte-order mark are decoded; anything else (Latin-1, UTF-16 without a mark) is refused,
  naming the line and what the byte would be in Latin-1;
- gzip, bzip2, xz and zip compression are recognised by their first bytes, whatever the
  file's name; a file that starts with ``PAR1`` is read as Parquet;
- lines starting with ``#`` above the header are skipped (a note in ``_Layout.notes``, which
  ``tabular`` gives as a warning), and an Excel ``sep=;`` first line names the separator;
  the last of them is the header, without its ``#``, when the line under it is data with as
  many fields: all numbers (numpy.savetxt's ``# a,b,y``), or the same kinds of cell as the
  line under that (``#id,a,b,y`` over rows with a text column); when neither reading can be
  ruled out the file is refused, naming the line (``_commented_header``);
- otherwise the separator is the first of ``,`` ``\\t`` ``;`` ``|`` (tab first for a ``.tsv``
  or ``.tab`` file) that splits the first lines into the same number (> 1) of fields; with
  ``;``, tab or ``|`` cells like ``5,1`` are decimal commas;
- the layout is found from the first MiB, read on (up to 64 MiB) until the header line and
  the line under it are complete, so a very wide header is never cut; a longer one is refused;
- header names are stripped of surrounding spaces; duplicated names are refused;
- the columns named as text columns (``load_table``'s target) are read as text, with only an
  empty cell missing; in the others pandas' missing-value strings (``NA_STRINGS``) are missing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .table_bytes import (_COMPRESSION_MAGIC, _HEAD_BYTES, _MAX_HEAD_BYTES, _content, _encoding, _find_bad_utf8,
                          _head, _NeedsPackage, _not_utf8, _open, _refuse_by_content, _refuse_by_name)

#: pandas' default missing-value strings. In feature columns they are missing values; a
#: target column holding text keeps them as labels ("NA" is North America), and only an empty
#: cell is missing there.
NA_STRINGS = frozenset({"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})

_SEPARATORS = (",", "\t", ";", "|")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+([eE][+-]?\d+)?")
_DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d+([eE][+-]?\d+)?")
_PANDAS_LONG_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


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


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise OSError("reading tables needs pandas (pip install pandas)") from None
    return pd


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


def _commented_header(path: Path, lines: list[str], comments: list[int], first: int, sep: str) -> list[str] | None:
    """The names of a header written as the last comment line, or None when that line is a
    comment above the header (line ``first``).

    The last line starting with '#' right above line ``first`` is the header when it splits
    into as many fields (> 1) as ``first`` and the line under it, and not all of them numbers,
    and ``first`` is a data row: all numbers (numpy.savetxt's "# a,b,y" over its data), or the
    same kinds of cell, number or text, as the line under it (a header "#id,a,b,y" whose first
    name starts with '#', over data with a text column). The '#' and the spaces after it are
    not part of the first name. When ``first`` is neither a data row by that rule nor all text
    (a header under a comment line), the file is refused: either reading could be wrong.
    """
    if not comments or comments[-1] != max(i for i in range(first) if lines[i].strip()):
        return None
    names = _rows([lines[comments[-1]].strip()[1:].lstrip()], sep)
    rows = _rows(lines[first:first + 2], sep)
    if not names or not rows or len(names[0]) < 2 or len(names[0]) != len(rows[0]):
        return None
    if all(_is_number(name) for name in names[0]):
        return None
    kinds = [_cell_kinds(row) for row in rows if len(row) == len(rows[0])]
    if all(kind != "text" for kind in kinds[0]):  # all numbers (or missing): a data row
        return names[0]
    if all(kind != "number" for kind in kinds[0]):  # all text: the header, under a comment line
        return None
    if len(kinds) == 2 and all(a == b or "missing" in (a, b) for a, b in zip(*kinds)):
        return names[0]
    raise ValueError(f"{path}: line {comments[-1] + 1} starts with '#' and has as many fields ({len(names[0])}) as "
                     f"line {first + 1} under it: it is either the header, its first column named "
                     f"{lines[comments[-1]].strip().split(sep)[0]!r}, or a comment above the header (line "
                     f"{first + 1}), and the lines under it do not tell which; rename that column so that it does "
                     "not start with '#', or reword the comment")


def _cell_kinds(row: list[str]) -> list[str]:
    """"number", "text" or "missing" (empty, or a missing-value string) for each cell."""
    return ["missing" if not c.strip() or c.strip() in NA_STRINGS else "number" if _is_number(c) else "text"
            for c in row]


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


def _refuse_long_rows(path: Path, rows: list[list[str]], sep: str) -> None:
    """Refuse a data row (``rows[1:]``, under the header ``rows[0]``) with more fields than the
    header: pandas would take the extra first field as the row index (every value moving one
    column to the right) or stop with a parser error."""
    n = len(rows[0]) if rows else 0
    long = [i for i, row in enumerate(rows[1:], start=1) if len(row) > n]
    if n < 2 or not long:
        return
    at = long[0]
    fields = len(rows[at])
    start = f"{path}: data row {at} (header not counted) has {fields} fields, the header names {n}"
    if all(not "".join(rows[i][n:]).strip() for i in long):
        which = f"all {len(long)} lines read after the header end" if len(long) == len(rows) - 1 else "the line ends"
        raise ValueError(f"{start}: {which} with a separator ({sep!r}), which would be read as an extra, "
                         "unnamed column; remove the trailing separators")
    raise ValueError(f"{start}: a value too many (a separator inside an unquoted value?) would move values into "
                     "the wrong columns; fix the row, or name every column in the header")


def _is_data_line(cells) -> bool:
    """Whether a header line is all numbers (a file without a header: its first row of data),
    other than pandas' default column names 0, 1, 2, ... (``DataFrame(X).to_csv``)."""
    cells = [str(c).strip() for c in cells]
    return bool(cells) and all(_is_number(c) for c in cells) and cells != [str(i) for i in range(len(cells))]


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
            raw = _decompressed_head(layout, _HEAD_BYTES)
            complete = len(raw) < _HEAD_BYTES
            _refuse_by_content(path, raw)
            break
    layout.encoding = _encoding(path, raw)
    while True:
        lines = _lines(layout, raw, complete)
        header, comments, hinted = _preamble(lines)
        if complete or header + 1 < len(lines):  # the header and a line under it are whole
            break
        if len(raw) >= _MAX_HEAD_BYTES:
            raise ValueError(f"{path}: the header (line {header + 1}) and the line under it do not end within the "
                             f"first {_MAX_HEAD_BYTES >> 20} MiB; chainrule reads tables whose header line is "
                             "shorter (is the file a table, with line breaks between rows?)")
        size = min(4 * len(raw), _MAX_HEAD_BYTES)  # a very wide header: read on until it ends
        raw = _decompressed_head(layout, size) if layout.compression else _head(source, size)
        complete = len(raw) < size
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
    commented = _commented_header(path, lines, comments, header, layout.sep)
    if commented:
        raw_names, layout.header_row = commented, False
        rows = [raw_names, *rows]
        layout.comment_lines -= 1
        layout.notes.append(f"{path}: the header is the comment line {comments[-1] + 1} (as numpy.savetxt writes "
                            f"it), read without its '#': the first column is {raw_names[0].strip()!r}"
                            + (f"; skipped {layout.comment_lines} other line(s) starting with '#'"
                               if layout.comment_lines else ""))
    elif comments:
        layout.notes.append(f"{path}: skipped {len(comments)} line(s) starting with '#' above the header "
                            f"(line {header + 1})")
    layout.decimal = _decimal(rows, layout.sep)
    _duplicates(path, raw_names)
    _refuse_long_rows(path, rows, layout.sep)
    layout.names = [name.strip() or f"Unnamed: {i}" for i, name in enumerate(raw_names)]
    return layout


def _decompressed_head(layout: _Layout, size: int) -> bytes:
    """The first ``size`` bytes of a compressed file's content; a ValueError naming the file
    when it cannot be decompressed."""
    try:
        with _content(layout.source, layout.compression) as handle:
            return handle.read(size)
    except _NeedsPackage:
        raise
    except Exception as exc:
        raise ValueError(f"{layout.path} could not be decompressed ({layout.compression}): "
                         f"{str(exc).splitlines()[0]}") from None


def _lines(layout: _Layout, raw: bytes, complete: bool) -> list[str]:
    """The text lines of a file's first bytes ``raw`` (all of it when ``complete``), the last
    one dropped when it may be cut off."""
    path = layout.path
    try:
        text = codecs.getincrementaldecoder(layout.encoding)().decode(raw, final=complete)
    except UnicodeDecodeError as exc:
        if layout.encoding == "utf-8":
            raise ValueError(_not_utf8(path, raw, exc.start)) from None
        raise ValueError(f"{path} is not valid {layout.encoding.upper()} ({exc.reason} at byte {exc.start})") from None
    lines = io.StringIO(text, newline="").readlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return lines


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
        long = _PANDAS_LONG_ROW.search(str(exc))
        if long:
            header, line, fields = long.groups()
            raise ValueError(f"{path}: line {line} has {fields} fields, the header names {header}: a value too many "
                             "would move values into the wrong columns; fix the line") from None
        raise ValueError(f"{path} could not be read as a table: {str(exc).splitlines()[0]}") from None
    if isinstance(layout.source, io.BytesIO):
        layout.source.seek(0)
    if layout.parquet:
        return _parquet_columns(path, frame)
    if not isinstance(frame.index, pd.RangeIndex):  # rows longer than the header: the extra field became an index
        raise ValueError(f"{path}: the data rows have more fields than the header names ({len(frame.columns)}); "
                         "name every column in the header")
    return frame


def _parquet_columns(path: Path, frame):
    """A Parquet frame with string column names, its named index a column (pandas stores
    ``set_index("x")`` as an index, which is data) and an unnamed one (row labels left by a
    filter) dropped."""
    pd = _pandas()
    named = [str(n) for n in frame.index.names if n is not None]
    _duplicates(path, named + [str(c) for c in frame.columns])
    if named:
        frame = frame.reset_index()
    elif not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
