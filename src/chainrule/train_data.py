"""What ``fit`` (and ``evaluate``, ``explain``, ``gradcheck``) check before any work: features
and targets for a network and a loss, on the CPU or where they already are on the GPU, and a
loss head that would apply the sigmoid or softmax twice."""

from __future__ import annotations

import numpy as np

from . import backend
from .losses import Loss
from .validation import check_sample_weight
from .validation import as_float_array


def prepare_data(net, X, y, loss: Loss, sample_weight=None, name: str = "X"):
    """Validate ``X``/``y`` for ``net`` and ``loss``; return arrays in the net's dtype
    (NumPy, or for a GPU network ``X`` stays on the GPU when it is given there)."""
    if net.device != "cpu" and hasattr(X, "__cuda_array_interface__"):
        X = device_features(name, X, net)
    else:
        X = as_float_array(name, X, net.dtype, ndim=(2,))
    if net.n_inputs is not None and X.shape[1] != net.n_inputs:
        raise ValueError(f"{name} has {X.shape[1]} features but the network's first layer takes {net.n_inputs}")
    yname = "y" if name == "X" else name.replace("X", "y")
    if net.device != "cpu" and hasattr(y, "__cuda_array_interface__"):
        y_arr = _device_targets(yname, y, net)
    else:
        y_arr = as_float_array(yname, y, np.float64, ndim=(1, 2))
    if y_arr.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {X.shape[0]} samples but {yname} has {y_arr.shape[0]}")
    n_outputs = net.n_outputs if net.n_outputs is not None else (1 if y_arr.ndim == 1 else y_arr.shape[1])
    targets = loss.check_targets(y_arr, n_outputs)
    if loss.squares_errors:  # before the cast, which would turn a value past float32's range into inf
        check_target_range(yname, targets, net.dtype)
    if not loss.integer_targets(targets):
        targets = targets.astype(net.dtype, copy=False)
    weights = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0]).astype(net.dtype)
    return X, targets, weights


def check_target_range(name: str, y, dtype) -> None:
    """Refuse regression targets so large that the sum of their squared errors (the loss,
    R²'s sums) overflows ``dtype`` before training can start: beyond ``sqrt(max / (4 n k))``
    for n rows of k targets."""
    limit = float(np.sqrt(np.finfo(dtype).max / (4 * y.size)))
    largest = float(backend.namespace(y).abs(y).max())
    if largest > limit:
        raise ValueError(f"{name} has a value of magnitude {largest:.3g}; beyond {limit:.3g} its squared error "
                         f"overflows {np.dtype(dtype).name} (rescale the target)")


def device_features(name, X, net):
    """Check a GPU feature matrix where it is (no copy to the host unless it is bad) and
    return it in ``net``'s dtype."""
    if X.ndim != 2:
        raise ValueError(f"{name} must have 2 dimensions, got shape {X.shape}")
    if 0 in X.shape:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got an array of dtype {X.dtype}")
    X = X.astype(net.dtype, copy=False)
    if not bool(net.xp.isfinite(X).all()):
        as_float_array(name, backend.to_numpy(X), net.dtype, ndim=(2,))  # raises, naming the entry
    return X


def _device_targets(name, y, net):
    """Check GPU targets where they are: integers stay integers, the rest become the
    network's dtype (the loss then checks their values, also on the GPU)."""
    if y.ndim not in (1, 2):
        raise ValueError(f"{name} must have 1 or 2 dimensions, got shape {y.shape}")
    if 0 in y.shape:
        raise ValueError(f"{name} is empty (shape {y.shape})")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got an array of dtype {y.dtype}")
    if y.dtype.kind in "iu":
        return y
    y = y.astype(net.dtype, copy=False)
    if not bool(net.xp.isfinite(y).all()):
        as_float_array(name, backend.to_numpy(y), net.dtype, ndim=(1, 2))  # raises, naming the entry
    return y


def check_loss_head(net, loss: Loss) -> None:
    """Refuse a final sigmoid/softmax in front of a loss that applies it itself."""
    from .layers import Sigmoid, Softmax

    last = net.layers[-1] if net.layers else None
    if loss.name == "bce" and isinstance(last, Sigmoid):
        raise ValueError(
            "BinaryCrossEntropy takes logits and applies the sigmoid itself: remove the final "
            "Sigmoid layer (predict() still returns probabilities)"
        )
    if loss.name == "cross_entropy" and isinstance(last, Softmax):
        raise ValueError(
            "CrossEntropy takes logits and applies the softmax itself: remove the final "
            "Softmax layer (predict() still returns probabilities)"
        )


__all__ = ["check_loss_head", "check_target_range", "device_features", "prepare_data"]
