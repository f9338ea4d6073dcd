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
from .gradcheck_diagnose import (activation_kinks, one_sided_jump, derivative_of_output_note, entry_kinks, refuse_non_finite_backward,
                                refuse_non_finite_forward)
from .gradcheck_report import NOISE_FACTOR, REL_TOL, GradcheckEntry, GradcheckReport, _compare


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
        Pass threshold on ``|a − n| / max(1, |a|, |n|)``, in (0, 0.1).
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
    if tol >= MAX_TOL:
        raise ValueError(f"tol must be below {MAX_TOL:g} (tol {tol:g} would pass gradients that are wrong by "
                         f"{tol:.0%} or more), got {tol!r}")
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
    labels = [_label(layer) for layer in layers]
    activations = [X]
    a = X
    with np.errstate(all="ignore"):  # non-finite values are refused below, naming the layer
        for layer in layers:
            a = layer.forward(a, training=True)
            activations.append(a)
        base = objective.value(a)
    refuse_non_finite_forward(layers, activations, labels, base)
    # each evaluation of L is rounded to about machine precision × |L|; a difference over 2 eps
    # inherits that error divided by eps, which a large loss can push past tol on its own
    rounding = float(np.finfo(np.float64).eps * abs(base) / eps)
    d = objective.gradient()
    input_grads = [None] * len(layers)
    with np.errstate(all="ignore"):
        for i in range(len(layers) - 1, -1, -1):
            d = layers[i].backward(d)
            input_grads[i] = np.array(d, dtype=np.float64)
    param_grads = {id(p): np.array(p.grad, dtype=np.float64) for p in net.parameters()}
    refuse_non_finite_backward(layers, input_grads, param_grads, labels)

    def loss_from(start: int, a):
        for layer in layers[start:]:
            a = layer.forward(a, training=True)
        return objective.value(a)

    check = _Checker(eps, tol, rounding)
    entries = []
    dense_count = 0
    for position, layer in enumerate(layers, start=1):
        for path, owner, owned in _owners(layer, str(position)):
            if isinstance(owner, Dense):
                dense_count += 1  # in network order, a block's own included (as GradientFlow counts)
            for p in owned:
                name = f"{p.name}[{dense_count}]" if isinstance(owner, Dense) else f"{p.name} (layer {path})"
                entries.append(check(name, _label(owner), position, "parameter", param_grads[id(p)],
                                     lambda: loss_from(0, X), p.value))
        if inputs:
            start = position - 1
            x_in = np.array(activations[start], dtype=np.float64)
            entries.append(check(_input_name(layers, position, dense_count), labels[start], position, "input",
                                 input_grads[start], lambda start=start, x_in=x_in: loss_from(start, x_in), x_in))
    notes, kinks = _kink_notes(layers, activations, eps)
    notes += _entry_notes(entries, layers, activations, eps)
    if rounding > tol / 10:
        notes.append(_rounding_note(rounding, eps, tol))
    return GradcheckReport(entries=entries, eps=float(eps), tol=float(tol), objective=objective.description,
                           n_samples=int(X.shape[0]), notes=notes, kinks=kinks, rounding_error=rounding)


#: The largest tolerance: a relative error of 10% is a wrong gradient, not a rounding error.
MAX_TOL = 0.1

#: Below this step, rounding (machine precision / eps relative) dominates a central difference.
SMALL_EPS = 1e-9


def _rounding_note(rounding: float, eps: float, tol: float) -> str:
    """The note for central differences whose rounding error passes a tenth of ``tol``,
    naming the cause: a tiny ``eps`` or a large objective."""
    if eps < SMALL_EPS:
        return (f"rounding: the step eps = {eps:g} is tiny, so each central difference carries a rounding error "
                f"of about {rounding:.1g} (machine precision × |L| / eps), over a tenth of tol {tol:g}: use an eps "
                "near 1e-6, which balances rounding against the truncation error of the difference")
    return (f"rounding: the objective is large, so each central difference carries a rounding error "
            f"of about {rounding:.1g} (machine precision × |L| / eps), over a tenth of tol {tol:g}: a "
            "larger eps (a quadratic loss has no truncation error at any eps) or smaller data make the "
            "check sharper")


class _Checker:
    """Compares one tensor's analytic gradient with central differences; a tensor whose
    relative error is suspicious is differenced again at ``2·eps`` to measure the numeric
    error, and a failing one is examined for kinks (see ``gradcheck_report``)."""

    def __init__(self, eps: float, tol: float, rounding: float):
        self.eps, self.tol, self.rounding = eps, tol, rounding

    def __call__(self, name, label, position, kind, analytic, f, array) -> GradcheckEntry:
        numeric, jump, base = _central_differences(f, array, self.eps)
        entry = _compare(name, label, position, kind, analytic, numeric, self.tol)
        if entry.passed and entry.rel_error > REL_TOL:
            wider, _, _ = _central_differences(f, array, 2 * self.eps)
            noise = max(float(np.abs(wider - numeric).max()), self.rounding)
            entry = _compare(name, label, position, kind, analytic, numeric, self.tol, noise=noise)
        if not entry.passed:
            failing = _failing_elements(analytic, numeric, self.tol, entry.noise)
            entry.kink_elements = entry_kinks(f, array, failing, self.eps, jump.reshape(-1), base)
            entry.failing_elements = len(failing)
        return entry


def _failing_elements(analytic, numeric, tol: float, noise) -> np.ndarray:
    """Flat indices of the elements that fail: over ``tol`` on the pass criterion, or (for
    a tensor failed on its relative error) over ``NOISE_FACTOR`` times the numeric noise."""
    analytic = np.asarray(analytic, dtype=np.float64).reshape(-1)
    numeric = numeric.reshape(-1)
    diff = np.abs(analytic - numeric)
    scaled = diff / np.maximum(1.0, np.maximum(np.abs(analytic), np.abs(numeric)))
    with np.errstate(invalid="ignore"):
        bad = ~(scaled <= tol)
        if noise is not None:
            bad |= diff > NOISE_FACTOR * noise
    return np.flatnonzero(bad)


def _entry_notes(entries, layers, activations, eps: float) -> list:
    """Notes on failing tensors whose failing elements sit at kinks of the loss, and on custom
    derivatives written for the activation's output."""
    notes = []
    kinked = [f"{e.name} ({e.kink_elements} of {e.failing_elements})" for e in entries if e.kink_elements]
    if kinked:
        notes.append(f"kink: failing elements of {', '.join(kinked)} sit where the one-sided differences "
                     "(L(x+h) − L(x))/h and (L(x) − L(x−h))/h disagree by far more than rounding: the central "
                     "difference straddles a kink of the loss there, so a correct derivative can look wrong; move "
                     "those values away from the kink")
    for position, layer in enumerate(layers, start=1):
        if any(e.position == position and e.kind == "input" and not e.passed for e in entries):
            note = derivative_of_output_note(layer, np.array(activations[position - 1], dtype=np.float64), eps)
            if note:
                notes.append(note)
    return notes


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


def _may_kink(layer) -> bool:
    """A layer whose inputs cannot be probed (inside a block) but whose function has, or may
    have, kinks: ReLU-type layers, and custom activations."""
    from ..layers import CustomActivation, LeakyReLU, ReLU

    return isinstance(layer, (ReLU, LeakyReLU, CustomActivation))


def _kink_notes(layers, activations, eps: float) -> tuple[list, list]:
    """Notes on kinks, and the positions of the layers they name: the inputs of an
    element-wise layer within ``10·eps`` of a kink of its function, found from its values
    (the one-sided differences disagree; any activation, whatever its name), where central
    differences straddle the kink, so a correct derivative can fail; inside a block, whose
    inputs are not kept, only that kinks may matter."""
    notes, kinks = [], []
    for position, layer in enumerate(layers, start=1):
        near = activation_kinks(layer, np.asarray(activations[position - 1], dtype=np.float64), eps)
        if len(near):
            kinks.append(position)
            shown = ", ".join(str(tuple(int(i) for i in index)) for index in near[:4])
            more = f" and {len(near) - 4} more" if len(near) > 4 else ""
            count = "1 input" if len(near) == 1 else f"{len(near)} inputs"
            notes.append(f"kink: {count} of {_label(layer)} (position {position} in the network) within 10·eps of "
                         f"a kink of its function (its one-sided slopes differ), at {shown}{more}: there the central "
                         "difference straddles the kink, so a correct derivative can look wrong; move those inputs "
                         "away from the kink")
    if any(_may_kink(inner) for layer in layers for inner in _all_layers(layer.sublayers())):
        notes.append("kinks inside a block (ReLU-type or custom activations): an input within eps of a kink can make "
                     "a correct gradient look wrong")
    return notes, kinks


def _all_layers(layers):
    for layer in layers:
        yield layer
        yield from _all_layers(layer.sublayers())


def _label(layer) -> str:
    if isinstance(layer, Dense):
        return f"Dense({layer.n_in}→{layer.n_out}{'' if layer.b is not None else ', no bias'})"
    return repr(layer)


def _central_differences(f, array: np.ndarray, eps: float):
    """``(grad, jump, f(θ))``: ``(f(θ + ε eᵢ) − f(θ − ε eᵢ)) / 2ε`` for every element i of
    ``array`` (restored after), and the disagreement of the one-sided differences there."""
    grad = np.zeros(array.shape, dtype=np.float64)
    jump = np.zeros(array.shape, dtype=np.float64)
    flat, out, jumps = array.reshape(-1), grad.reshape(-1), jump.reshape(-1)
    with np.errstate(all="ignore"):
        base = f()
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = f()
            flat[i] = old - eps
            down = f()
            flat[i] = old
            out[i] = (up - down) / (2.0 * eps)
            jumps[i] = one_sided_jump(up, base, down, eps)
    return grad, jump, base


__all__ = ["GradcheckEntry", "GradcheckReport", "gradcheck"]
