"""Checks that run before any work starts; each error names the problem and the value."""

from __future__ import annotations

import numbers

import numpy as np


def check_positive(name: str, value, *, integer: bool = False, allow_zero: bool = False):
    """Raise unless ``value`` is a finite positive number (an int when ``integer``)."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if integer and not isinstance(value, numbers.Integral):
        if not float(value).is_integer():
            raise TypeError(f"{name} must be an integer, got {value!r}")
    finite = isinstance(value, numbers.Integral) or np.isfinite(value)  # (isfinite fails on ints past 1e308)
    if not finite or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    if integer:
        return int(value)
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got an integer too large for a float") from None


def check_fraction(name: str, value, *, upper_open: bool = True, lower_open: bool = False) -> float:
    """Raise unless ``value`` is a number in [0, 1) (``]`` at 1 when not ``upper_open``,
    ``(`` at 0 when ``lower_open``); a NumPy scalar counts as a number."""
    interval = f"{'(' if lower_open else '['}0, 1{')' if upper_open else ']'}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {value!r}")
    above = 0 < value if lower_open else 0 <= value
    below = value < 1 if upper_open else value <= 1
    if not (above and below):
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return float(value)


def as_float_array(name: str, data, dtype=np.float64, *, ndim: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """Convert ``data`` to a finite floating array with a checked number of dimensions."""
    if hasattr(data, "__cuda_array_interface__"):
        from .backend import to_numpy

        data = to_numpy(data)
    try:
        array = np.asarray(data)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex values")
    if array.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if 0 in array.shape:
        raise ValueError(f"{name} has a zero-length dimension (shape {array.shape})")
    with np.errstate(over="ignore"):  # a finite value beyond a narrower dtype's range: named below
        converted = array.astype(dtype, copy=False)
    try:
        check_finite(name, converted)
    except ValueError:
        if converted is array:
            raise
        check_finite(name, array)  # a NaN or infinity of the data itself is named as such
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
        remedy = "rescale it" + (", or use float64" if np.dtype(dtype).itemsize < 8 else "")
        shown = np.format_float_scientific(array[where], precision=5, trim="-")  # a long double's 1e400 too
        raise ValueError(f"{name} has {shown} at index {where if len(where) > 1 else where[0]}, beyond "
                         f"the range of {np.dtype(dtype).name} (±{np.finfo(dtype).max:.3g}): {remedy}") from None
    return converted


def check_finite(name: str, array) -> None:
    """Raise ValueError naming the first NaN or infinite entry."""
    if _finite_by_product(array):
        return
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        where = tuple(int(i) for i in bad)
        value = array[where]
        raise ValueError(f"{name} contains {value} at index {where if len(where) > 1 else where[0]}")


#: Below this many entries ``np.isfinite`` is as quick as the product.
_PRODUCT_CHECK_MIN_SIZE = 1 << 16


def _finite_by_product(array) -> bool:
    """True when every entry of a large contiguous float matrix is finite, read off the row
    sums ``A 1``: a NaN or an infinity in a row makes its sum NaN or infinite, and the
    matrix-vector product is one multithreaded BLAS pass over the data, several times quicker
    than ``np.isfinite`` (which writes a boolean array as large as the data). False means
    "not shown": a NaN or infinity, or finite entries whose sum overflows, for the exact
    check to settle."""
    if (type(array) is not np.ndarray or array.dtype not in (np.float32, np.float64) or array.ndim < 2
            or array.size < _PRODUCT_CHECK_MIN_SIZE or not array.flags.c_contiguous):
        return False
    rows = array.reshape(-1, array.shape[-1])
    if rows.shape[1] < 16 or rows.shape[0] < 8:  # a vector of ones near the data's size, or few columns: no gain
        return False
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow or inf - inf only means "not shown"
        sums = rows @ np.ones(rows.shape[1], dtype=array.dtype)
    return bool(np.isfinite(sums).all())


def check_sample_weight(sample_weight, n: int, name: str = "sample_weight", positive_sum: bool = True) -> np.ndarray:
    """Validate per-sample weights: shape (n,), finite, non-negative and, unless
    ``positive_sum`` is False, not all zero. ``name`` is the argument the messages name."""
    w = as_float_array(name, sample_weight, ndim=(1,))
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {w.shape}")
    if (w < 0).any():
        raise ValueError(f"{name} must be >= 0, got {w.min()}")
    if positive_sum and w.sum() <= 0:
        raise ValueError(f"{name} sums to zero; at least one sample needs a positive weight")
    return w
