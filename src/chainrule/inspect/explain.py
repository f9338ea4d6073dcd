"""One step of backpropagation with every number: ``explain(net, X, y, loss, lr)``.

The trace is computed by the network's own layers — ``Dense.forward``/``backward``, each
activation's ``forward``/``backward``, the loss's ``forward``/``backward`` and
``chainrule.optim.SGD.step`` — one layer at a time, so its numbers are exactly what ``fit``
computes for a full-batch gradient-descent step. Nothing here re-implements the algorithm.

Samples are rows (``A[0] = X``, shape (n, features)); layer ``l`` is a ``Dense`` followed by
at most one activation, in the lecture's notation ``Z[l] = A[l-1] W[l]ᵀ + b[l]``,
``A[l] = g(Z[l])`` (each row is ``z = W x + b`` for one example).

This module computes the step and refuses networks the notation cannot describe; the records it
fills in (``LayerStep``, ``Trace``, ``SCHEMA``) are ``explain_trace``'s, re-exported here.
"""

from __future__ import annotations

import copy

import numpy as np

from ..backend import to_numpy
from ..layers import ACTIVATIONS, Activation, Dense, Dropout
from ..losses import get_loss
from ..network import Sequential
from ..optim import SGD
from ..validation import check_positive
from . import equations as eq
from .explain_trace import SCHEMA, LayerStep, Trace


def explain(net, X, y, loss="mse", lr: float = 0.1, inplace: bool = False, l1: float = 0.0,
            l2: float = 0.0) -> Trace:
    """Trace one full-batch gradient-descent step of ``net`` on ``(X, y)``.

    Parameters
    ----------
    net : Sequential
        Dense layers, each followed by at most one activation (``Dropout(0)`` is ignored).
    X : array-like, shape (n, n_inputs) or (n_inputs,)
        One example (1-D) or a small batch.
    y : array-like
        Targets in the loss's format (shape (n,), (n, k), or a scalar for one example
        with one output).
    loss : str or Loss
        E.g. ``"mse"`` (``mean((ŷ - y)²)``) or ``"sse"`` (``½ Σ (ŷ - y)²``).
    lr : float
        Learning rate α (> 0).
    inplace : bool
        Apply the step to ``net`` itself; by default a copy takes the step.
    l1, l2 : float
        Penalty strengths (>= 0) of the update, as in ``SGD(lr, l1=..., l2=...)``; the loss
        value and the gradients ``dW`` are those of the data term alone.

    Returns
    -------
    Trace

    Raises
    ------
    TypeError, ValueError
        A network the lecture notation cannot describe, or bad data, before any work.
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"explain needs a chainrule Sequential, got {type(net).__name__}")
    lr = check_positive("lr", lr)
    l1, l2 = check_positive("l1", l1, allow_zero=True), check_positive("l2", l2, allow_zero=True)
    from ..train_data import check_loss_head, prepare_data

    loss_obj = copy.deepcopy(get_loss(loss))
    _dense_groups(net)  # refuse unsupported layers before any work
    check_loss_head(net, loss_obj)
    X_arr = np.asarray(X, dtype=np.float64) if not hasattr(X, "__cuda_array_interface__") else to_numpy(X)
    if X_arr.ndim == 1:
        X_arr = X_arr.reshape(1, -1)
    y_arr = np.asarray(y) if not hasattr(y, "__cuda_array_interface__") else to_numpy(y)
    if y_arr.ndim == 0:
        y_arr = y_arr.reshape(1)
    if X_arr.shape[0] == 1 and y_arr.ndim == 1 and y_arr.shape[0] == net.n_outputs and net.n_outputs > 1 \
            and not loss_obj.integer_targets(y_arr):
        y_arr = y_arr.reshape(1, -1)  # one example's target row
    X_arr, targets, _ = prepare_data(net, X_arr, y_arr, loss_obj)

    work = net if inplace else copy.deepcopy(net, {id(net.xp): net.xp})  # modules are shared, not copied
    groups = _dense_groups(work)
    with np.errstate(all="ignore"):  # an overflowing step is shown as inf/NaN and listed in non_finite
        steps, value = _trace_step(work, groups, X_arr, targets, loss_obj, lr, l1, l2)
        output = steps[-1].A
        prediction = _copy(loss_obj.link(work.to_device(output)))
    grad_text, grad_latex = eq.loss_gradient(loss_obj, len(steps))
    return Trace(
        X=X_arr, y=np.asarray(targets), loss_name=loss_obj.name or type(loss_obj).__name__,
        loss_formula=loss_obj.formula, loss_convention=loss_obj.convention, loss_gradient=grad_text,
        loss_gradient_latex=grad_latex, loss_value=float(value), lr=lr, output=output,
        prediction=prediction, layers=steps, dtype=work.dtype.name, l1=l1, l2=l2,
        loss_parameters=_loss_parameters(loss_obj),
    )


def _loss_parameters(loss) -> dict:
    """The loss's own constants shown with its formula (Huber's δ)."""
    delta = getattr(loss, "delta", None)
    return {"delta": float(delta)} if delta is not None else {}


def _trace_step(work: Sequential, groups, X_arr, targets, loss_obj, lr, l1, l2):
    """Forward, loss, backward and the SGD update of ``work``, recording every quantity;
    returns ``(steps, loss value)``."""
    A = work.to_device(X_arr)
    steps = []
    for l, (dense, act) in enumerate(groups, start=1):
        step = _new_step(l, dense, act, A, l1, l2, output=l == len(groups))
        Z = dense.forward(A, training=True)
        step.Z = _copy(Z)
        A = act.forward(Z, training=True) if act is not None else Z
        step.A = _copy(A)
        step.g_prime = _derivative(act, Z, A)
        steps.append(step)
    value = loss_obj.forward(A, work.to_device(targets))
    dA = loss_obj.backward()
    for step, (dense, act) in zip(reversed(steps), reversed(groups)):
        step.dA = _copy(dA)
        dZ = act.backward(dA) if act is not None else dA
        step.dZ = _copy(dZ)
        dA = dense.backward(dZ)
        step.dA_prev = _copy(dA)
        step.dW = _copy(dense.W.grad)
        step.db = _copy(dense.b.grad) if dense.b is not None else None
    SGD(lr=lr, l1=l1, l2=l2).step(work.parameters())
    for step, (dense, _) in zip(steps, groups):
        step.W_new = _copy(dense.W.value)
        step.b_new = _copy(dense.b.value) if dense.b is not None else None
    return steps, value


def _dense_groups(net: Sequential):
    """``[(Dense, Activation or None), ...]``: the lecture's layers; raises for anything else."""
    groups = []
    for i, layer in enumerate(net.layers, start=1):  # 1-based, as the docs and gradcheck number layers
        if isinstance(layer, Dropout) and layer.p == 0:
            continue
        if isinstance(layer, Dense):
            groups.append([layer, None])
        elif isinstance(layer, Activation):
            if not groups:
                raise ValueError(f"explain: layer {i} ({layer!r}) comes before any Dense layer; "
                                 "the trace needs each activation to follow a Dense layer")
            if groups[-1][1] is not None:
                raise ValueError(f"explain: layer {i} ({layer!r}) is a second activation after one Dense layer")
            groups[-1][1] = layer
        else:
            raise TypeError(f"explain: layer {i} ({layer!r}) is not supported; the trace covers Dense layers "
                            "each followed by at most one activation")
    return [tuple(g) for g in groups]


def _is_builtin(act) -> bool:
    """``act`` is an instance of the registry's own class for its name (not a custom activation,
    whatever its label, nor a subclass that may compute something else)."""
    name = getattr(type(act), "name", None)
    return bool(name) and name in ACTIVATIONS and ACTIVATIONS.get(name) is type(act)


def _new_step(l: int, dense: Dense, act, A_prev, l1: float = 0.0, l2: float = 0.0, output: bool = True) -> LayerStep:
    custom = act is not None and not _is_builtin(act)
    if act is None:
        name, symbol, formula, derivative_formula = "identity", "id", "z", "1"
    elif custom:  # equations by class, never by label: a custom "relu" is g, computed by its own function
        name = getattr(act, "label", None) or act.name or type(act).__name__
        symbol, formula, derivative_formula = "g", "g(z)", "g'(z)"
    else:
        name, symbol, formula, derivative_formula = act.name, act.symbol, act.formula, act.derivative_formula
    slope = getattr(act, "alpha", None) if name == "leaky_relu" and not custom else None
    if slope is not None:  # α is the learning rate in this report: write the slope's value
        formula, derivative_formula = (f.replace("α", f"{slope:g}") for f in (formula, derivative_formula))
    step = LayerStep(
        l=l, n_in=dense.n_in, n_out=dense.n_out, activation=name, symbol=symbol, custom=custom,
        formula=formula, derivative_formula=derivative_formula,
        A_prev=_copy(A_prev), W=_copy(dense.W.value), b=_copy(dense.b.value) if dense.b is not None else None,
    )
    step.equations, step.latex = eq.layer_equations(l, "custom" if custom else name, symbol, step.derivative_formula,
                                                   dense.b is not None, l1=l1, l2=l2, slope=slope, output=output,
                                                   label=name if custom else None)
    return step


def _derivative(act, Z, A):
    if act is None:
        return np.ones(Z.shape)
    try:
        g_prime = _copy(act.derivative(Z, A))
    except NotImplementedError:
        return None  # softmax: full Jacobian
    # a constant slope (CustomActivation's ``lambda z: 0.5``) is g' at every entry of Z
    return np.broadcast_to(g_prime, Z.shape).copy()


def _copy(array):
    return np.array(to_numpy(array), dtype=np.float64, copy=True)


__all__ = ["SCHEMA", "LayerStep", "Trace", "explain"]
