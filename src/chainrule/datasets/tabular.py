"""The user's own tables (CSV, Parquet): numeric features and one target column.

``load_table`` turns a file, read by ``chainrule.datasets.table_file``, into a ``Table``; its
target column is decoded by ``chainrule.datasets.table_target``.
Everything is checked before training starts, and every error names the file and the
column or value at fault.

- feature columns must be numeric (True/False count as 0/1) with no missing or infinite
  value; whole numbers of any size are read as floats (past 2**64 too); a text, yes/no or
  date column gets advice on encoding it as numbers;
- the target column is read as text: string labels are kept exactly as written (``NA``,
  ``None``, ``null`` and ``01`` included; only an empty cell is missing), numbers are numbers;
- what is worth a look but not an error (comment lines skipped, a column that looks like a
  row ID, a label that reads like a missing value) is a ``TableWarning``.
"""

from __future__ import annotations

import re
import shlex
import warnings
from dataclasses import dataclass, field

import numpy as np

from .table_file import _DECIMAL_COMMA, _Layout, _inspect, _is_data_line, _read
from .table_rows import HEADER_NOT_COUNTED, refuse_short_row


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
    warnings : list of str
        What ``load_table`` found worth a look (the ``TableWarning`` messages).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list
    target: str | None
    task: str | None
    classes: list | None
    note: str | None = None
    warnings: list = field(default_factory=list)


def is_numeric(column) -> bool:
    """True for a numeric (not boolean-as-object, not string) pandas column."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(column) and not is_bool_dtype(column)


_SEPARATOR_NAMES = {",": "','", "\t": "tab", ";": "';'", "|": "'|'"}
# 1,234 / 1,234.5 / 1.234,5 / 1 234 / 1'234: digits in groups of three (the grouping mark
# is the first character after the leading digits)
_GROUPED = re.compile(r"[+-]?\d{1,3}(?P<mark>[,.' \u00a0\u202f])\d{3}((?P=mark)\d{3})*((?P<decimal>[.,])\d+)?")
_PLAIN = re.compile(r"[+-]?\d+([.,]\d+)?")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}( .*)?")


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
        present = column.dropna().tolist()
        if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
            return pd.to_numeric(column.map({True: 1.0, False: 0.0}), errors="coerce").to_numpy(dtype=np.float64)
        if len(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            # whole numbers past 2**64, which pandas keeps as Python ints: floats, as every feature is
            # (one past 1.8e308 is infinite, and named as such by the check for infinite values)
            return np.array([_as_float(v) for v in column.tolist()], dtype=np.float64)
    return None


def _as_float(value) -> float:
    """A cell as a float: NaN for a missing one, an infinity for an integer too large for one."""
    if value is None:
        return np.nan
    try:
        return float(value)
    except OverflowError:
        return np.inf if value > 0 else -np.inf


def _shown(text: str) -> str:
    """``text`` as it is, or as Python writes it when it holds a newline or another character
    that does not print (a message is one line)."""
    return text if text.isprintable() else repr(text)


def _shell(name: str) -> str:
    """A column name to type after an option: quoted for the shell, or as Python writes it
    when it does not print (no shell quoting keeps a newline on one line)."""
    return shlex.quote(name) if name.isprintable() else repr(name)


def _encoding_advice(column, name: str, drop_option: str | None) -> str:
    """How to make a text, yes/no or date column numeric; empty for a numeric column with a
    stray cell (that is a cell to fix)."""
    import pandas as pd
    from pandas.api.types import is_datetime64_any_dtype

    present = column.dropna()
    text = present.astype(str).str.strip()
    drop = f" or leave it out with {drop_option} {_shell(name)}" if drop_option else " or leave it out"
    grouping = _grouping_advice(text)
    if grouping:
        return f"{grouping},{drop}"
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
        examples = ", ".join(_shown(f"{name}_{c}") for c in categories[:2]) + (", ..." if len(categories) > 2 else "")
        count = f"{len(categories)} categor{'y' if len(categories) == 1 else 'ies'}"
        how = f"one 0/1 column per category: {count}, columns {examples}"
    return f"; encode it as numbers ({how}){drop}"


def _grouping_advice(text) -> str:
    """What to do with a column of numbers written with thousands separators (at least one
    cell grouped, 90% grouped or plain numbers); '' for any other column, and for one whose
    comma numbers are mostly decimal commas (``_encoding_advice`` names those)."""
    if not len(text):
        return ""
    grouped = text.map(_is_grouped)
    if not grouped.any() or (grouped | text.str.fullmatch(_PLAIN)).mean() < 0.9:
        return ""
    example = text[grouped].iloc[0]
    if text[grouped].str.fullmatch(_DECIMAL_COMMA).all():  # 1,234 only: a thousands or a decimal comma
        if text.str.fullmatch(_DECIMAL_COMMA).sum() > grouped.sum():  # 0,5 and 2,125: decimal commas
            return ""
        return (f"; it looks like numbers with thousands separators or decimal commas ({example!r}): write "
                f"every number without thousands separators and {_DECIMAL_MARKS}")
    return (f"; it looks like numbers with thousands separators ({example!r}): write every number without "
            f"them and {_DECIMAL_MARKS}")


#: Which decimal mark a table's numbers may use (``table_file``'s rule).
_DECIMAL_MARKS = "with a decimal point (or, in a file separated by ';', tab or '|', a decimal comma in every number)"


def _is_grouped(cell: str) -> bool:
    """``1,234.5``, ``1.234,5``, ``1 234``: digits in groups of three, and a decimal part, if
    any, after the other mark (``1.100.2`` is not a number)."""
    match = _GROUPED.fullmatch(cell)
    return match is not None and match.group("decimal") != match.group("mark")


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
               drop_option: str | None = None, warn: bool = True) -> Table:
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
    warn : bool
        Issue the table's warnings as ``TableWarning`` (they are in ``Table.warnings``
        either way; the command line prints them itself once its own checks have passed).

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
    if (layout.header_row and not layout.parquet and _is_data_line(names)
            and (target is None or target not in names) and (features is None or not set(features) <= set(names))):
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise ValueError(f"{path}: the first line ({shown}) is all numbers: the file seems to have no header, and "
                         "that row would be taken for one; add a header line naming the columns")
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
                             + (f"drop the column ({drop_option} {_shell(names[i])}) or name it" if drop_option
                                else "drop the column or name it"))
        choose = target is not None
    else:
        choose = False
        if target is not None and target in features:
            raise ValueError(f"{path}: column {target!r} is both the target and one of the feature columns")
    present = set(names)  # (a set: a table may have 100,000 columns)
    missing = [c for c in features if c not in present]
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
            refuse_short_row(layout, row, len(names))
            raise ValueError(f"{path}: feature column {column!r} is not numeric: data row {row + 1} holds "
                             f"{value!r}{HEADER_NOT_COUNTED}{_encoding_advice(frame[column], column, drop_option)}")
        if np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            refuse_short_row(layout, row, len(names))
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
                drop_hint = f"{drop_option} {_shell(column)}" if drop_option else "drop it"
                notes.append(f"{path}: feature column {column!r} holds a different integer in every row, {order}: "
                             f"it looks like a row ID, which a network can learn the row order from; {drop_hint} "
                             "if so")
    if target is None:
        table = Table(X, None, list(features), None, None, classes)
    else:
        from .table_target import target_table  # it builds a Table: imported here, not in a cycle

        table = target_table(frame[target], layout, target, task, classes, X, list(features), notes)
    table.warnings = notes
    if warn:
        for note in notes:
            warnings.warn(TableWarning(note), stacklevel=2)
    return table
