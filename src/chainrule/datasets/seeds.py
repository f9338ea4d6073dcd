"""The seeds' datasets, generated exactly as the lecture notebooks generate them."""

from __future__ import annotations

import numpy as np

from ..validation import check_fraction, check_positive


def lecture_linear(n_samples: int = 500, seed: int = 42):
    """Seed 000: ``np.random.seed(42); data = randn(500, 2); labels = x0 + x1 > 0``.

    Returns
    -------
    X : ndarray, shape (n_samples, 2)
    y : ndarray of int, shape (n_samples,)
    rng : numpy.random.RandomState
        The legacy stream *after* drawing the data, so the seed's following
        ``randn`` calls (its initial weights) can be reproduced.
    """
    n_samples = check_positive("n_samples", n_samples, integer=True)
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, 2)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y, rng


def truth_table():
    """Seed 001's four rows ``[0,0,1], [1,1,1], [1,0,1], [0,1,1]`` with labels ``0 1 1 0``
    (the label is the first input; the third input is a constant bias input)."""
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.float64)
    return X, y


def moons(n_samples: int = 200, noise: float = 0.2, test_size: float = 0.3, random_state: int = 42):
    """Seed 002: ``make_moons(200, noise=0.2, random_state=42)`` split 70/30 with
    ``train_test_split(..., random_state=42)``.

    Returns
    -------
    X_train, X_test : ndarray, shape (n, 2)
    y_train, y_test : ndarray of int, shape (n,)
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    n_samples = check_positive("n_samples", n_samples, integer=True)
    noise = check_positive("noise", noise, allow_zero=True)
    test_size = check_fraction("test_size", test_size)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return train_test_split(X, y, test_size=test_size, random_state=random_state)


def sine(n_samples: int = 100):
    """Seed 002, Exercise 4: ``X = linspace(-π, π, n)``, ``y = sin(X)``, as columns."""
    n_samples = check_positive("n_samples", n_samples, integer=True)
    X = np.linspace(-np.pi, np.pi, n_samples).reshape(-1, 1)
    return X, np.sin(X)
