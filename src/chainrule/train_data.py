"""What ``fit`` (and ``evaluate``, ``explain``, ``gradcheck``) check before any work: features
and targets for a network and a loss, on the CPU or where they already are on the GPU, and a
loss head that would apply the sigmoid or softmax twice."""

from __future__ import annotations

import math

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
    weights = None if sample_weight is None else weights_for(check_sample_weight(sample_weight, X.shape[0]),
                                                             loss, net.dtype)
    return X, targets, weights


def weights_for(w, loss: Loss, dtype, name: str = "sample_weight") -> np.ndarray:
    """Checked float64 sample weights in ``dtype`` for ``loss``.

    For a mean-reduced loss the weights are first divided by their largest value, in
    float64: each batch's ``Σ w·l / Σ w`` and the epoch's weighted mean do not change
    when every weight is multiplied by one number, and so rescaled the weights and their
    sums stay inside float32's range (weights of 1e39 or 1e-46 train as weights of 1). A
    sum-reduced loss multiplies each sample's loss by its weight as given: nothing is
    rescaled.

    Parameters
    ----------
    w : ndarray, shape (n,)
        Non-negative finite weights (float64), as ``check_sample_weight`` returns them.
    loss : Loss
    dtype : numpy dtype
        The network's.
    name : str
        How error messages call the weights.

    Returns
    -------
    ndarray, shape (n,), of ``dtype``

    Raises
    ------
    ValueError
        When a weight does not fit ``dtype``: one beyond its range (a sum-reduced loss), or a
        positive one that would become 0 (its ratio to the largest is below the smallest
        number ``dtype`` holds).
    """
    top = float(w.max())
    if loss.reduction == "mean" and top > 0:
        w = w / top
    with np.errstate(over="ignore", under="ignore"):
        cast = w.astype(dtype)
    kind = np.dtype(dtype).name
    if not np.isfinite(cast).all():
        raise ValueError(f"{name} has a value of {top:.3g}, beyond {kind}'s range (the {loss.name} loss sums "
                         "each sample's loss times its weight): rescale the weights")
    lost = (w > 0) & (cast == 0)
    if lost.any():
        i = int(np.flatnonzero(lost)[0])
        what = (f"{w[i] * top:.3g}, {w[i]:.3g} times the largest weight ({top:.3g}),"
                if loss.reduction == "mean" else f"{w[i]:.3g}")
        raise ValueError(f"{name}[{i}] = {what} is positive but below {kind}'s smallest number: "
                         f"set it to 0 or train in float64")
    return cast


def split_validation(net, X, y, weights, fraction: float, rng):
    """Hold out ``ceil(fraction · n)`` of the ``n`` rows (as scikit-learn's ``test_size`` and
    chainrule's estimators count), chosen with ``rng``, for validation.

    Parameters
    ----------
    net : Sequential
    X : ndarray, shape (n, n_features)
        Prepared features (NumPy, or on the network's GPU).
    y : ndarray, shape (n,) or (n, k)
        Prepared targets.
    weights : ndarray, shape (n,), or None
        Prepared sample weights (NumPy); the held-out rows keep theirs.
    fraction : float
        In (0, 1).
    rng : numpy.random.Generator

    Returns
    -------
    (X, y, weights), (X_val, y_val, weights_val)
        The training part and the held-out part.

    Raises
    ------
    ValueError
        When either part would be empty.
    """
    n = X.shape[0]
    n_val = math.ceil(fraction * n)
    if n_val >= n:
        raise ValueError(f"validation_split={fraction} leaves {n_val} validation and {n - n_val} training "
                         "samples; both need at least one")
    order = rng.permutation(n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if type(X) is not np.ndarray:  # features already on the GPU: index them there
        val_idx, train_idx = net.xp.asarray(val_idx), net.xp.asarray(train_idx)
    if type(y) is np.ndarray:
        val_y, train_y = backend.to_numpy(val_idx), backend.to_numpy(train_idx)
    else:
        val_y, train_y = net.xp.asarray(val_idx), net.xp.asarray(train_idx)
    if weights is None:
        val_w = train_w = None
    else:
        val_w, train_w = weights[backend.to_numpy(val_idx)], weights[backend.to_numpy(train_idx)]
    return (X[train_idx], y[train_y], train_w), (X[val_idx], y[val_y], val_w)


def prepare_validation(net, validation_data, loss: Loss):
    """Check ``validation_data``, ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``,
    as ``prepare_data`` checks the training data; returns ``(X_val, y_val, weights or None)``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise TypeError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)")
    X, y, _ = prepare_data(net, validation_data[0], validation_data[1], loss, name="X_val")
    if len(validation_data) == 2 or validation_data[2] is None:
        return X, y, None
    name = "sample_weight_val"
    weights = weights_for(check_sample_weight(validation_data[2], X.shape[0], name, positive_sum=False), loss, net.dtype, name=name)
    return X, y, weights


def check_weight_totals(weights, val_weights, split: bool) -> None:
    """Refuse, before any work, training weights that are all 0 (no batch would have a loss
    to descend) and validation weights that are all 0 (no validation loss);
    ``split`` says whether ``validation_split`` chose the parts."""
    how = " (validation_split held out every sample with a positive weight: change rng or the split)"
    if weights is not None and not weights.any():
        raise ValueError("every training sample has sample_weight 0" + (how if split else ""))
    if val_weights is not None and not val_weights.any():
        source = "the samples validation_split held out" if split else "sample_weight_val"
        raise ValueError(f"every validation sample has weight 0 ({source}): the validation loss "
                         "would be undefined")


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


__all__ = ["check_loss_head", "check_target_range", "check_weight_totals", "device_features",
           "prepare_data", "prepare_validation", "split_validation", "weights_for"]
