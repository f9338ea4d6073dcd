"""The user's own tables (CSV, Parquet): numeric features and one target column.

Everything is checked before training starts, and every error names the file and the
column or value at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


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


def first_non_number(column) -> tuple[int, object]:
    """Position and value of the first cell of a non-numeric column that is not a number
    (the first cell when every one converts, as in a boolean column)."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype

    bad = pd.to_numeric(column, errors="coerce").isna().to_numpy() & column.notna().to_numpy()
    row = int(np.flatnonzero(bad)[0]) if bad.any() and not is_bool_dtype(column) else 0
    value = column.iloc[row]
    return row, value.item() if isinstance(value, np.generic) else value


def read_frame(path):
    """A pandas DataFrame from a CSV or Parquet file."""
    try:
        import pandas as pd
    except ImportError:
        raise OSError("reading tables needs pandas (pip install pandas)") from None
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as exc:
        raise OSError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except Exception as exc:  # pandas raises many parser error types
        raise ValueError(f"{path} could not be read as a table: {str(exc).splitlines()[0]}") from None


def load_table(path, target: str | None, task: str = "auto", features=None, classes=None, ignore=()) -> Table:
    """Read ``path`` and split it into numeric features and the ``target`` column.

    Parameters
    ----------
    target : str or None
        Target column (None: the file holds features only, for prediction).
    task : {"auto", "classification", "regression"}
        "auto": a non-numeric target, or an integer one with at most 20 distinct values,
        is classification.
    features : list of str, optional
        Required feature columns, in order (a model's); by default every other column.
    classes : list, optional
        Known class labels (a model's), to index the target with.
    ignore : sequence of str
        Columns that are never features when ``features`` is not given (e.g. a model's
        recorded target in a file given for prediction).
    """
    frame = read_frame(path)
    if frame.shape[0] == 0:
        raise ValueError(f"{path} has no rows")
    if target is not None and target not in frame.columns:
        raise ValueError(f"{path} has no target column {target!r} (columns: {', '.join(map(str, frame.columns))})")
    if features is None:
        features = [c for c in frame.columns if c != target and c not in ignore]
        unnamed = [i for i, c in enumerate(frame.columns) if str(c).startswith("Unnamed: ") and c in features]
        if unnamed:
            i = unnamed[0]
            raise ValueError(f"{path}: column {i + 1} has no name in the header (pandas calls it "
                             f"{frame.columns[i]!r}); a saved index (DataFrame.to_csv without index=False) or a "
                             "trailing comma would silently become a feature: drop the column or name it")
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the feature column(s) {', '.join(map(repr, missing))} the model needs")
    if not features:
        raise ValueError(f"{path} has no feature columns besides the target")
    for column in features:
        if not is_numeric(frame[column]):
            row, value = first_non_number(frame[column])
            raise ValueError(f"{path}: feature column {column!r} is not numeric: data row {row + 1} holds "
                             f"{value!r}{HEADER_NOT_COUNTED}")
        if frame[column].isna().any():
            row = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
            raise ValueError(f"{path}: feature column {column!r} has a missing value in data row {row + 1}"
                             f"{HEADER_NOT_COUNTED}")
    X = frame[features].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{path}: feature column {features[col]!r} has {X[row, col]} in data row {row + 1}"
                         f"{HEADER_NOT_COUNTED}")
    if target is None:
        return Table(X, None, list(features), None, None, classes)
    column = frame[target]
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise ValueError(f"{path}: target column {target!r} has a missing value in data row {row + 1}"
                         f"{HEADER_NOT_COUNTED}")
    numeric = is_numeric(column)
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
        return Table(X, column.to_numpy(dtype=np.float64), list(features), target, "regression", None, note)
    if task != "classification":
        raise ValueError(f"task must be auto, classification or regression, got {task!r}")
    labels = column.to_numpy()
    if classes is None:
        classes = sorted(np.unique(labels).tolist(), key=lambda v: (str(type(v)), v))
        if len(classes) < 2:
            raise ValueError(f"{path}: target column {target!r} has a single class ({classes[0]!r}); need at least 2")
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = [v for v in np.unique(labels).tolist() if v not in lookup]
    if unknown:
        raise ValueError(f"{path}: target column {target!r} has label {unknown[0]!r}, unknown to the model ({classes})")
    y = np.array([lookup[v] for v in labels.tolist()], dtype=np.int64)
    return Table(X, y, list(features), target, "binary" if len(classes) == 2 else "multiclass", list(classes))
