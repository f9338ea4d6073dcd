"""What the estimators accept: input dtypes and sparse formats (made dense before the network
sees them), ``random_state`` and ``hidden_layer_sizes`` in their normal forms."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

FLOAT_DTYPES = [np.float64, np.float32]

#: The sparse formats ``validate_data`` passes through (others become CSR); every one is made
#: dense before the network sees it (``dense``).
SPARSE_FORMATS = ("csr", "csc", "coo")


def dense(X):
    """``X`` (validated by ``validate_data``, so finite and of a float dtype) as a dense
    array: a SciPy sparse matrix or array is expanded, which takes ``n_samples · n_features``
    values of memory; a dense array passes through."""
    return X.toarray() if sp.issparse(X) else X


def as_generator(random_state) -> np.random.Generator:
    """A fresh NumPy Generator from ``random_state`` (None, int, RandomState or Generator)."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.Generator)):
        if isinstance(random_state, bool):
            raise TypeError(f"random_state must be None, an int or a NumPy random generator, got {random_state!r}")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state!r}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise TypeError(f"random_state must be None, an int or a NumPy random generator, got {random_state!r}")


def hidden_sizes(value) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one hidden layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"hidden_layer_sizes must be a tuple of positive integers, got {value!r}")
    sizes = tuple(value)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {value!r}")
    return tuple(int(s) for s in sizes)
