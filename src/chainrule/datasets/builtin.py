"""Named built-in datasets for the command line and examples.

Each loader returns ``(X, y, task)`` with ``X`` of shape (n, d), ``y`` of shape (n,) (or
(n, k) for multi-output regression) and ``task`` one of "binary", "multiclass",
"regression".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .seeds import lecture_linear, sine


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    task: str
    description: str
    loader: Callable[[int], tuple]

    def load(self, seed: int = 0):
        """Return ``(X, y)``."""
        return self.loader(seed)


def _moons(seed):
    """Seed 002's 200 points in make_moons' order, so that the CLI's ``--no-stratify --seed 42``
    (``train_test_split(..., test_size=0.3, random_state=42)``) is the seed's own split."""
    from sklearn.datasets import make_moons

    return make_moons(n_samples=200, noise=0.2, random_state=42)


def _lecture(seed):
    X, y, _ = lecture_linear()
    return X, y


def _circles(seed):
    from sklearn.datasets import make_circles

    return make_circles(n_samples=400, noise=0.08, factor=0.5, random_state=seed)


def _xor(seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(400, 2))
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)


def _sine(seed):
    X, y = sine(200)
    return X, y[:, 0]


def _sklearn(name):
    def load(seed):
        import sklearn.datasets as skd

        data = getattr(skd, f"load_{name}")()
        return data.data.astype(np.float64), data.target

    return load


BUILTIN_DATASETS = {
    d.name: d
    for d in [
        BuiltinDataset("moons", "binary", "seed 002: make_moons(200, noise=0.2, random_state=42); its split: "
                       "--no-stratify --seed 42", _moons),
        BuiltinDataset("lecture", "binary", "seed 000: 500 N(0,1) points labelled x0 + x1 > 0", _lecture),
        BuiltinDataset("circles", "binary", "two noisy concentric circles, 400 points", _circles),
        BuiltinDataset("xor", "binary", "400 uniform points labelled by the sign of x0·x1", _xor),
        BuiltinDataset("sine", "regression",
                       "y = sin(x) on [-π, π], 200 points (seed 002 final exercise 4, which suggests 100)", _sine),
        BuiltinDataset("iris", "multiclass", "scikit-learn iris: 150 flowers, 4 features, 3 classes", _sklearn("iris")),
        BuiltinDataset("wine", "multiclass", "scikit-learn wine: 178 wines, 13 features, 3 classes", _sklearn("wine")),
        BuiltinDataset("digits", "multiclass", "scikit-learn digits: 1797 8×8 images, 10 classes", _sklearn("digits")),
        BuiltinDataset("breast_cancer", "binary", "scikit-learn breast cancer: 569 tumours, 30 features", _sklearn("breast_cancer")),
        BuiltinDataset("diabetes", "regression", "scikit-learn diabetes: 442 patients, 10 features", _sklearn("diabetes")),
    ]
}


def load_builtin(name: str, seed: int = 0):
    """``(X, y, task)`` of a built-in dataset by name."""
    key = name.lower().replace("-", "_")
    if key not in BUILTIN_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(BUILTIN_DATASETS)}")
    dataset = BUILTIN_DATASETS[key]
    X, y = dataset.load(seed)
    return X, y, dataset.task
