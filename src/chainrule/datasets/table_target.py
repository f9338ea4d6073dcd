"""The target column of a user's table: read as text, decided between numbers (regression,
or integer class labels) and text labels kept exactly as written (``NA``, ``None``, ``null``
and ``01`` included; only an empty cell is missing), and, for a model's file, compared with
the classes it was trained on as they are written in the file."""

from __future__ import annotations

import re

import numpy as np

from .table_file import NA_STRINGS, _Layout
from .tabular import HEADER_NOT_COUNTED, Table, is_numeric

_ZERO_PADDED = re.compile(r"[+-]?0\d+")


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


def target_table(column, layout: _Layout, target: str, task: str, classes, X, features, notes) -> Table:
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
        elif integral and column.nunique() > 10:  # counts or scores, perhaps, rather than labels
            note = (f"target {target!r} holds {column.nunique()} different integers: treated as that many "
                    "classes; --task regression treats them as numbers")
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
