"""Gradient check: every analytic gradient against central differences, in float64.

For each parameter (``W``, ``b``, ``gamma``, ...) and, by default, for the input of every
layer, the gradient written by the layers' ``backward`` is compared element by element with
``(L(θ + ε) − L(θ − ε)) / 2ε``. The input check is what tests an activation's derivative
``g'``: a ``CustomActivation`` with a wrong derivative fails there, reported by its label.

An element passes when ``|a − n| ≤ tol · max(1, |a|, |n|)`` (absolute below magnitude 1,
relative above); the report also gives the largest absolute error and the norm-relative
error ``‖a − n‖ / (‖a‖ + ‖n‖)`` of each tensor. A tensor that passes with a norm-relative
error above 1% (through the absolute tolerance on small entries) is *unresolved*: the check cannot
tell a right derivative from a wrong one there (a factor of 2 gives exactly 1/3), and the
report says so in its table, its summary and ``str(report)``.
"""

from __future__ import annotations

import copy
import numbers
import numpy as np

from ..backend import to_numpy
from ..layers import Activation, Dense, Dropout, Layer
from ..network import Sequential
from .gradcheck_report import GradcheckEntry, GradcheckReport, _compare


def gradcheck(net_or_layer, X, y=None, loss=None, eps: float = 1e-6, tol: float = 1e-7,
              inputs: bool = True, seed: int = 0) -> GradcheckReport:
    """Compare every analytic gradient of a network or layer with central differences.

    Parameters
    ----------
    net_or_layer : Sequential or Layer
        Checked on a float64 CPU copy; the original is not modified.
    X : array-like, shape (n, n_inputs)
    y : array-like, optional
        Targets for ``loss``. Without them the objective is ``L = Σ R ⊙ out`` with a fixed
        random ``R`` (seeded by ``seed``), which exercises every output.
    loss : str or Loss, optional
        Default ``"mse"`` when ``y`` is given.
    eps : float
        Central-difference step (> 0).
    tol : float
        Pass threshold on ``|a − n| / max(1, |a|, |n|)`` (> 0).
    inputs : bool
        Also check ``∂L/∂(input)`` of every layer (tests activation derivatives directly).
    seed : int
        Seed of ``R`` when ``y`` is None.

    Returns
    -------
    GradcheckReport
    """
    from ..losses import get_loss

    for name, value in (("eps", eps), ("tol", tol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    layers, net = _float64_copy(net_or_layer)
    X = np.array(to_numpy(X) if hasattr(X, "__cuda_array_interface__") else X, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.size == 0 or not np.isfinite(X).all():
        raise ValueError(f"X must be a finite, non-empty 2-D array (n, features), got shape {X.shape}")
    if net.n_inputs is not None and X.shape[1] != net.n_inputs:
        raise ValueError(f"X has {X.shape[1]} features but the network takes {net.n_inputs}")
    if y is None and loss is not None:
        raise ValueError("gradcheck: a loss needs targets y")
    if y is not None:
        from ..train_data import prepare_data

        loss_obj = copy.deepcopy(get_loss(loss if loss is not None else "mse"))
        _, targets, _ = prepare_data(net, X, y, loss_obj)
        objective = _LossObjective(loss_obj, targets)
    else:
        objective = _ProjectionObjective(seed)

    # analytic: one forward, the objective's gradient, each layer's backward in turn
    activations = [X]
    a = X
    for layer in layers:
        a = layer.forward(a, training=True)
        activations.append(a)
    # each evaluation of L is rounded to about machine precision × |L|; a difference over 2 eps
    # inherits that error divided by eps, which a large loss can push past tol on its own
    rounding = float(np.finfo(np.float64).eps * abs(objective.value(a)) / eps)
    d = objective.gradient()
    input_grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        d = layers[i].backward(d)
        input_grads[i] = np.array(d, dtype=np.float64)
    param_grads = {id(p): np.array(p.grad, dtype=np.float64) for p in net.parameters()}

    def loss_from(start: int, a):
        for layer in layers[start:]:
            a = layer.forward(a, training=True)
        return objective.value(a)

    entries = []
    dense_count = 0
    for position, layer in enumerate(layers, start=1):
        label = _label(layer)
        for path, owner, owned in _owners(layer, str(position)):
            if isinstance(owner, Dense):
                dense_count += 1  # in network order, a block's own included (as GradientFlow counts)
            for p in owned:
                numeric = _central_differences(lambda: loss_from(0, X), p.value, eps)
                name = f"{p.name}[{dense_count}]" if isinstance(owner, Dense) else f"{p.name} (layer {path})"
                entries.append(_compare(name, _label(owner), position, "parameter", param_grads[id(p)], numeric,
                                        tol))
        if inputs:
            start = position - 1
            x_in = np.array(activations[start], dtype=np.float64)
            numeric = _central_differences(lambda start=start, x_in=x_in: loss_from(start, x_in), x_in, eps)
            entries.append(_compare(_input_name(layers, position, dense_count), label, position, "input",
                                    input_grads[start], numeric, tol))
    notes, kinks = _kink_notes(layers, activations, eps)
    if rounding > tol / 10:
        notes.append(f"rounding: the objective is large, so each central difference carries a rounding error "
                     f"of about {rounding:.1g} (machine precision × |L| / eps), over a tenth of tol {tol:g}: a "
                     "larger eps (a quadratic loss has no truncation error at any eps) or smaller data make the "
                     "check sharper")
    return GradcheckReport(entries=entries, eps=float(eps), tol=float(tol), objective=objective.description,
                           n_samples=int(X.shape[0]), notes=notes, kinks=kinks, rounding_error=rounding)


class _LossObjective:
    def __init__(self, loss, targets):
        self.loss, self.targets = loss, targets
        self.description = f"{loss.name or type(loss).__name__}: {loss.convention or loss.formula}"

    def value(self, out) -> float:
        return self.loss.forward(out, self.targets)

    def gradient(self):
        return self.loss.backward()


class _ProjectionObjective:
    """``L = Σ R ⊙ out`` with a fixed random ``R``: dL/dout = R."""

    def __init__(self, seed: int):
        self.rng_seed = seed
        self.R = None
        self.description = f"L = Σ R ⊙ output with R ~ N(0, 1) (seed {seed})"

    def value(self, out) -> float:
        if self.R is None or self.R.shape != out.shape:
            self.R = np.random.default_rng(self.rng_seed).normal(size=out.shape)
        return float((self.R * out).sum())

    def gradient(self):
        return self.R.copy()


def _input_name(layers, position: int, dense_count: int) -> str:
    """The gradient of a layer's input in the lecture's notation where it has one: ``dA[l-1]``
    for Dense layer l (``dA[0]`` = ∂L/∂X), ``dZ[l]`` for the activation right after it;
    ``input of layer N`` (1-based position in the network) otherwise."""
    layer, previous = layers[position - 1], layers[position - 2] if position > 1 else None
    if isinstance(layer, Dense) and (previous is None or isinstance(previous, (Activation, Dense))):
        return f"dA[{dense_count - 1}]"
    if isinstance(layer, Activation) and isinstance(previous, Dense):
        return f"dZ[{dense_count}]"
    return f"input of layer {position}"


def _float64_copy(net_or_layer):
    """``(layers, Sequential)``: a float64 NumPy copy (of a CPU or GPU network), whose
    dropout layers draw one mask afresh on the host and keep it."""
    if isinstance(net_or_layer, Sequential):
        layers = copy.deepcopy(net_or_layer.layers)
    elif isinstance(net_or_layer, Layer):
        layers = [copy.deepcopy(net_or_layer)]
    else:
        raise TypeError(f"gradcheck needs a chainrule Sequential or Layer, got {type(net_or_layer).__name__}")
    for layer in _all_layers(layers):
        if isinstance(layer, Dropout):
            layer.fixed_mask = True  # the same mask in every forward, so the loss is a function
            layer._kept = layer._mask = None  # a cached mask may be on the GPU: draw one here
    return layers, Sequential(layers, dtype="float64", device="cpu")  # casts parameters and buffers


def _owners(layer, path: str):
    """``(path, layer, parameters)`` for ``layer`` and every layer nested in it, in network
    order, with the parameters each holds itself (not through a nested layer; possibly none).
    A nested layer's path adds its 1-based place in the block (``"2.1"``: the first layer of
    the block at position 2; a residual block's projection comes last)."""
    subs = layer.sublayers()
    nested = {id(p) for sub in subs for p in sub.parameters()}
    yield path, layer, [p for p in layer.parameters() if id(p) not in nested]
    for index, sub in enumerate(subs, start=1):
        yield from _owners(sub, f"{path}.{index}")


def _is_kinked(layer) -> bool:
    return type(layer).__name__ == "ReLU" or getattr(layer, "name", None) in ("relu", "leaky_relu")


def _kink_notes(layers, activations, eps: float) -> tuple[list, list]:
    """Notes on ReLU-type kinks, and the positions of the layers they name: the inputs of
    such a layer that lie within ``10·eps`` of 0 (where central differences straddle the
    kink, so a correct derivative can fail); inside a block, whose inputs are not kept,
    only that kinks may matter."""
    notes, kinks = [], []
    for position, layer in enumerate(layers, start=1):
        if not _is_kinked(layer):
            continue
        near = np.argwhere(np.abs(activations[position - 1]) < 10 * eps)
        if len(near):
            kinks.append(position)
            shown = ", ".join(str(tuple(int(i) for i in index)) for index in near[:4])
            more = f" and {len(near) - 4} more" if len(near) > 4 else ""
            count = "1 input" if len(near) == 1 else f"{len(near)} inputs"
            notes.append(f"ReLU-type kink: {count} of {_label(layer)} (layer {position}) within "
                         f"10·eps of 0, at {shown}{more}: there the central difference straddles the kink, so a "
                         "correct derivative can look wrong; move those inputs away from 0")
    if any(_is_kinked(inner) for layer in layers for inner in _all_layers(layer.sublayers())):
        notes.append("ReLU-type kinks inside a block: an input within eps of 0 can make a correct gradient look wrong")
    return notes, kinks


def _all_layers(layers):
    for layer in layers:
        yield layer
        yield from _all_layers(layer.sublayers())


def _label(layer) -> str:
    if isinstance(layer, Dense):
        return f"Dense({layer.n_in}→{layer.n_out}{'' if layer.b is not None else ', no bias'})"
    return repr(layer)


def _central_differences(f, array: np.ndarray, eps: float) -> np.ndarray:
    """(f(θ + ε eᵢ) − f(θ − ε eᵢ)) / 2ε for every element i of ``array`` (restored after)."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        out[i] = (up - down) / (2.0 * eps)
    return grad


__all__ = ["GradcheckEntry", "GradcheckReport", "gradcheck"]
