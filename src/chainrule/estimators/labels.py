"""The classifier's labels: ``X`` and ``y`` checked together (single-label or a multilabel
indicator matrix), ``partial_fit``'s ``classes``, and multilabel probabilities."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

from .inputs import FLOAT_DTYPES, SPARSE_FORMATS, dense


def is_matrix(y) -> bool:
    """True when ``y`` has two dimensions and more than one column (multilabel, or several
    targets); a column (n, 1) is a single label, as scikit-learn takes it."""
    try:
        shape = np.shape(y)
    except (TypeError, ValueError):  # ragged lists: validate_data names the problem
        return False
    return len(shape) == 2 and shape[1] > 1


def validate_labels(estimator, X, y, reset: bool):
    """``(X, y, multilabel)``: ``X`` checked by scikit-learn (sparse made dense) and ``y``
    either 1-D labels or a 0/1 indicator matrix of shape (n_samples, n_labels).

    Raises
    ------
    TypeError
        ``y`` is sparse.
    ValueError
        A 2-D ``y`` that is not a 0/1 multilabel indicator matrix (several multi-class
        targets: ``MultiOutputClassifier``), and what ``validate_data`` refuses.
    """
    if sp.issparse(y):
        raise TypeError(f"y must be a dense array, got a sparse {type(y).__name__} (use y.toarray())")
    multilabel = is_matrix(y)
    X, y = validate_data(estimator, X, y, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, multi_output=multilabel,
                         reset=reset)
    if multilabel:
        y = indicator_matrix(y)
    return dense(X), y, multilabel


def indicator_matrix(y) -> np.ndarray:
    """A 2-D ``y`` as an int64 0/1 matrix, or ValueError saying what it holds instead."""
    kind = type_of_target(y)
    values = np.unique(y) if y.dtype != object else None
    zero_one = values is not None and y.dtype.kind in "biuf" and set(values.tolist()) <= {0, 1}
    if kind != "multilabel-indicator" or not zero_one:
        shown = values.tolist()[:5] if values is not None else sorted({str(v) for v in y.ravel()})[:5]
        raise ValueError(f"a 2-D y of shape {y.shape} must be a multilabel indicator matrix of 0/1 (or True/False) "
                         f"values, got values such as {shown} (scikit-learn's type: {kind}); for several multi-class targets use "
                         "sklearn.multioutput.MultiOutputClassifier")
    return y.astype(np.int64)


def check_classes(classes) -> np.ndarray:
    """``partial_fit``'s ``classes`` as an array, or an error naming the problem: it must be
    1-D, non-empty, distinct and without NaN, infinity or None (a model file could not
    store such labels, nor ``predict`` return them)."""
    if sp.issparse(classes) or isinstance(classes, (str, bytes)) or not hasattr(classes, "__len__"):
        raise TypeError(f"classes must be a 1-D array-like of labels, got {type(classes).__name__}")
    array = np.asarray(classes)
    if array.ndim != 1:
        raise ValueError(f"classes must be 1-D (every label there will be), got shape {array.shape}")
    if array.size == 0:
        raise ValueError("classes must not be empty")
    values = array.tolist()
    if any(v is None or (isinstance(v, numbers.Real) and not math.isfinite(v)) for v in values):
        raise ValueError(f"classes must not hold NaN, infinity or None, got {values!r}")
    try:
        distinct = np.unique(array)
    except TypeError:
        raise ValueError(f"classes must be labels of one sortable kind, got {values!r}") from None
    if len(distinct) != len(array):
        raise ValueError(f"classes must be distinct, got {values!r}")
    return array


def check_multilabel_classes(classes, n_labels: int) -> None:
    """For a multilabel ``y`` of ``n_labels`` columns, ``classes`` must be their indices,
    ``arange(n_labels)`` (what scikit-learn's MLP takes, and ``classes_`` becomes)."""
    if not np.array_equal(np.sort(np.asarray(classes)), np.arange(n_labels)):
        raise ValueError(f"a multilabel y of {n_labels} columns needs classes=range({n_labels}) (the column "
                         f"indices), got {np.asarray(classes).tolist()}")
