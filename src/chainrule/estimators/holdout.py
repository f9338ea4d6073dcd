"""Early stopping's held-out validation part, as scikit-learn's MLP makes it: its size
(``ceil(validation_fraction · n)``, at least 2) and the split (stratified by class where every
class fits in both parts, sample weights split with their rows and weighting the validation
loss and score)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.model_selection import train_test_split


def holdout_size(fraction: float, n_samples: int, min_train: int = 1) -> int:
    """How many of ``n_samples`` early stopping holds out: ``ceil(fraction · n_samples)``,
    scikit-learn's count, at least 2 (as scikit-learn requires), leaving ``min_train``."""
    n_val = math.ceil(float(fraction) * n_samples)
    if n_val < 2 or n_samples - n_val < min_train:
        raise ValueError(f"early_stopping holds out validation_fraction={fraction} of "
                         f"n_samples={n_samples}, i.e. {n_val} validation and {n_samples - n_val} training "
                         f"samples; it needs at least 2 validation samples and {min_train} to train on "
                         "(change validation_fraction or give more data)")
    return n_val


def holdout_split(X, targets, sample_weight, n_val: int, classes, seed: int):
    """``((X, targets, sample_weight), (X_val, targets_val[, sample_weight_val]))``: ``n_val``
    rows held out, stratified by ``classes`` (each row's class index, or None) where every
    class can be in both parts, sample weights split with their rows: the held-out rows' weights
    weight the validation loss and score (``fit``'s ``validation_data`` takes them third).
    """
    stratify = classes if _can_stratify(classes, n_val, X.shape[0] - n_val) else None
    arrays = [X, targets] if sample_weight is None else [X, targets, sample_weight]
    parts = train_test_split(*arrays, test_size=n_val, stratify=stratify, random_state=seed)
    train, val = parts[0::2], parts[1::2]
    if sample_weight is None:
        return (train[0], train[1], None), (val[0], val[1])
    return (train[0], train[1], train[2]), (val[0], val[1], val[2])


def _can_stratify(classes, n_val: int, n_train: int) -> bool:
    """True when every class has 2 or more rows and both parts of the split can hold every
    class (else ``train_test_split(stratify=...)`` raises)."""
    if classes is None:
        return False
    counts = np.unique(classes, return_counts=True)[1]
    return counts.min() >= 2 and min(n_val, n_train) >= len(counts)
