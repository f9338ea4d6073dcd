"""A CSV row with fewer fields than the header: pandas pads it with missing values, so its
last values land in other columns and an error about them would name the wrong column.
Looked for only when a value is missing or not a number, to say what is really wrong."""

from __future__ import annotations

import io

import numpy as np

from .table_file import _Layout, _pandas

#: How the errors count rows: the first row under the header is data row 1.
HEADER_NOT_COUNTED = " (header not counted)"


def refuse_short_row(layout: _Layout, row: int, n_columns: int) -> None:
    """Raise for a row before or at ``row`` that has fewer fields than the header: the real
    cause of a value that is not a number, or missing, there (pandas shifts nothing but pads
    the row, so the error would name a column the value does not belong to)."""
    short = short_row(layout, row)
    if short is not None:
        at, fields = short
        raise ValueError(f"{layout.path}: data row {at + 1}{HEADER_NOT_COUNTED} has {fields} field"
                         f"{'s' if fields != 1 else ''}, the header {n_columns}: a value is missing from the row, "
                         "which would move its last values into the wrong columns")


def short_row(layout: _Layout, upto: int):
    """The first data row, at most ``upto`` (0-based, as pandas numbers them), that has fewer
    fields than the header, with its field count; None when there is none (or for Parquet).

    pandas pads a short row with missing values, so its last values land in the wrong columns
    and the error about them would mislead; its Python parser tells a field that is absent
    (NaN) from one that is empty (""). Read again, up to that row, only when reporting an error.
    """
    if layout.parquet:
        return None
    pd = _pandas()
    try:
        frame = pd.read_csv(layout.source, sep=layout.sep, encoding=layout.encoding, compression=layout.compression,
                            skiprows=layout.skiprows, header=0 if layout.header_row else None,
                            names=layout.names or None, skipinitialspace=True, keep_default_na=False,
                            na_values={name: [] for name in layout.names}, dtype=str, engine="python",
                            nrows=upto + 1)
    except Exception:  # the file read once already: no better message than the first one
        return None
    finally:
        if isinstance(layout.source, io.BytesIO):
            layout.source.seek(0)
    absent = frame.isna().to_numpy()
    for row in np.flatnonzero(absent.any(axis=1)):
        fields = int(np.argmax(absent[row]))
        if absent[row, fields:].all():  # a trailing run of absent fields
            return int(row), fields
    return None
