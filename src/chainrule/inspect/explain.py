"""One step of backpropagation with every number: ``explain(net, X, y, loss, lr)``.

The trace is computed by the network's own layers — ``Dense.forward``/``backward``, each
activation's ``forward``/``backward``, the loss's ``forward``/``backward`` and
``chainrule.optim.SGD.step`` — one layer at a time, so its numbers are exactly what ``fit``
computes for a full-batch gradient-descent step. Nothing here re-implements the algorithm.

Samples are rows (``A[0] = X``, shape (n, features)); layer ``l`` is a ``Dense`` followed by
at most one activation, in the lecture's notation ``Z[l] = A[l-1] W[l]ᵀ + b[l]``,
``A[l] = g(Z[l])`` (each row is ``z = W x + b`` for one example).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..backend import to_numpy
from ..layers import ACTIVATIONS, Activation, Dense, Dropout
from ..losses import get_loss
from ..network import Sequential
from ..optim import SGD
from ..validation import check_positive
from . import equations as eq

SCHEMA = "chainrule.explain/1"


@dataclass
class LayerStep:
    """Every number of one layer ``l`` in one step.

    Attributes
    ----------
    l : int
        Layer number, 1-based (``A[0]`` is the input).
    n_in, n_out : int
    activation : str
        Registry name of the activation (``"identity"`` for none), or a custom label.
    custom : bool
        The activation is not one of the registry's own classes (a ``CustomActivation`` or a
        subclass): its equations are the general ``g(Z)``, ``g'(Z)``, whatever its label.
    symbol : str
        The activation's symbol in equations (``σ``, ``tanh``, ``ReLU``, ...; ``g`` for a
        custom activation).
    formula, derivative_formula : str
        ``g(z)`` and ``g'(z)`` as text.
    A_prev : ndarray, shape (n, n_in)
        ``A[l-1]``, the layer's input.
    W, b : ndarray, shapes (n_out, n_in) and (n_out,); ``b`` is None without bias
        Weights before the step.
    Z, A : ndarray, shape (n, n_out)
        Pre-activation and activation.
    g_prime : ndarray, shape (n, n_out), or None
        ``g'(Z[l])`` element-wise (None for softmax, whose Jacobian is not diagonal).
    dA, dZ : ndarray, shape (n, n_out)
        ``∂L/∂A[l]`` and ``∂L/∂Z[l]``.
    dW, db : ndarray, shapes of ``W`` and ``b``
        ``∂L/∂W[l]`` and ``∂L/∂b[l]``.
    dA_prev : ndarray, shape (n, n_in)
        ``∂L/∂A[l-1]`` (for ``l = 1`` this is ``∂L/∂X``).
    W_new, b_new : ndarray
        Weights after the gradient-descent step.
    equations, latex : dict of str
        The equation used for each quantity, as text and as LaTeX.
    """

    l: int
    n_in: int
    n_out: int
    activation: str
    symbol: str
    formula: str
    derivative_formula: str
    A_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray | None
    Z: np.ndarray = None
    A: np.ndarray = None
    g_prime: np.ndarray | None = None
    dA: np.ndarray = None
    dZ: np.ndarray = None
    dW: np.ndarray = None
    db: np.ndarray | None = None
    dA_prev: np.ndarray = None
    W_new: np.ndarray = None
    b_new: np.ndarray | None = None
    equations: dict = field(default_factory=dict)
    latex: dict = field(default_factory=dict)
    custom: bool = False

    ARRAYS = ("A_prev", "W", "b", "Z", "A", "g_prime", "dA", "dZ", "dW", "db", "dA_prev", "W_new", "b_new")

    def to_dict(self) -> dict:
        out = {
            "l": self.l, "n_in": self.n_in, "n_out": self.n_out, "activation": self.activation,
            "custom": self.custom, "symbol": self.symbol, "formula": self.formula, "derivative_formula": self.derivative_formula,
        }
        for name in self.ARRAYS:
            out[name] = _jsonable(getattr(self, name))
        out["equations"] = dict(self.equations)
        out["latex"] = dict(self.latex)
        return out

    @property
    def is_identity(self) -> bool:
        """No activation (or the registry's ``Identity``): ``A[l] = Z[l]``."""
        return self.activation == "identity" and not self.custom


@dataclass
class Trace:
    """One training step: forward values, loss, backward gradients and updated weights.

    Attributes
    ----------
    X : ndarray, shape (n, n_inputs)
    y : ndarray
        Targets as the loss received them (2-D, or 1-D class indices for cross-entropy).
    loss_name, loss_formula, loss_convention : str
        The loss and the convention it uses (``Loss.convention``), e.g. for ``"mse"``
        ``L = mean((ŷ - y)²)`` so that ``dL/dŷ = 2(ŷ - y)/(n·k)``.
    loss_gradient : str
        The equation of ``dA[L] = ∂L/∂A[L]`` under that convention.
    loss_value : float
    lr : float
        Learning rate α of the step ``W ← W − α dW``.
    l1, l2 : float
        Penalty strengths λ of the step (0: none); the penalty's gradient is added to the
        weights' (not the biases') ``dW`` in the update, as ``SGD`` does in training.
    output : ndarray, shape (n, n_outputs)
        ``A[L]``, what the loss receives (logits for the cross-entropies).
    prediction : ndarray
        ``output`` through the loss's link (probabilities for the cross-entropies).
    layers : list of LayerStep
    dtype : str
    loss_parameters : dict
        The loss's own constants, e.g. ``{"delta": 0.3}`` for Huber.
    description : str
        What the step is about (a config's ``description``), shown in every rendering.
    """

    X: np.ndarray
    y: np.ndarray
    loss_name: str
    loss_formula: str
    loss_convention: str
    loss_gradient: str
    loss_gradient_latex: str
    loss_value: float
    lr: float
    output: np.ndarray
    prediction: np.ndarray
    layers: list
    dtype: str
    l1: float = 0.0
    l2: float = 0.0
    loss_parameters: dict = field(default_factory=dict)
    description: str = ""

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [step.n_out for step in self.layers]

    @property
    def update_rule(self) -> str:
        return eq.update_rule(self.l1, self.l2)

    @property
    def penalty(self) -> float:
        """The weight penalty the update's ``l1``/``l2`` terms are the gradient of, on the
        weights before the step: ``l1 Σ|W[l]| + (l2/2) Σ‖W[l]‖²`` (seed 002's
        ``λ/(2m) Σ‖W‖²`` for ``l2 = λ/m``); 0 without them."""
        weights = [np.asarray(s.W, dtype=np.float64) for s in self.layers]
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # weights near the float range: inf, as shown
            if self.l1:
                total += self.l1 * sum(np.abs(W).sum() for W in weights)
            if self.l2:
                total += 0.5 * self.l2 * sum((W * W).sum() for W in weights)
        return float(total)

    @property
    def non_finite(self) -> list[str]:
        """The quantities holding inf or NaN, in the report's order; empty for an ordinary step."""
        return [name for name, value in self._quantities() if _has_non_finite(value)]

    def _quantities(self) -> list:
        """``(name, value)`` of every quantity in the report's order."""
        quantities = []
        for s in self.layers:
            quantities += [(f"Z[{s.l}]", s.Z), (f"A[{s.l}]", s.A)]
        quantities.append(("L", np.float64(self.loss_value)))
        quantities.append((f"dA[{len(self.layers)}]", self.layers[-1].dA))
        for s in reversed(self.layers):  # the backward pass runs last layer first
            quantities += [(f"{s.symbol}'(Z[{s.l}])", s.g_prime), (f"dZ[{s.l}]", s.dZ),
                           (f"dW[{s.l}]", s.dW), (f"db[{s.l}]", s.db), (f"dA[{s.l - 1}]", s.dA_prev)]
        for s in self.layers:
            quantities += [(f"W[{s.l}] (updated)", s.W_new), (f"b[{s.l}] (updated)", s.b_new)]
        return quantities

    def first_non_finite(self) -> dict:
        """``{"inf": name, "nan": name}``: the first quantity (in the report's order) holding
        ±inf (an overflow, or a division by zero) and the first holding NaN (an undefined
        0/0, inf − inf or 0·inf); a kind that does not occur is absent."""
        first = {}
        for name, value in self._quantities():
            if value is None:
                continue
            array = np.asarray(value, dtype=np.float64)
            for kind, test in (("inf", np.isinf), ("nan", np.isnan)):
                if kind not in first and test(array).any():
                    first[kind] = name
        return first

    def layer(self, l: int) -> LayerStep:
        """The step of layer ``l`` (1-based, as in the lecture)."""
        if not 1 <= l <= len(self.layers):
            raise ValueError(f"layer must be 1..{len(self.layers)}, got {l!r}")
        return self.layers[l - 1]

    def to_dict(self) -> dict:
        """JSON-ready data; the schema is documented in ``docs/inspect.md``."""
        return {
            "schema": SCHEMA,
            "description": self.description,
            "n_samples": self.n_samples,
            "sizes": self.sizes,
            "dtype": self.dtype,
            "X": _jsonable(self.X),
            "y": _jsonable(self.y),
            "loss": {
                "name": self.loss_name, "formula": self.loss_formula, "convention": self.loss_convention,
                "parameters": dict(self.loss_parameters),
                "gradient": self.loss_gradient, "gradient_latex": self.loss_gradient_latex,
                "value": _jsonable(self.loss_value),
                "penalty": _jsonable(self.penalty), "regularised_value": _jsonable(self.loss_value + self.penalty),
            },
            "lr": self.lr,
            "l1": self.l1,
            "l2": self.l2,
            "update_rule": self.update_rule,
            "output": _jsonable(self.output),
            "prediction": _jsonable(self.prediction),
            "layers": [step.to_dict() for step in self.layers],
            "non_finite": self.non_finite,
            "first_non_finite": self.first_non_finite(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        from .explain_render import render_json

        return render_json(self, indent=indent)

    def to_text(self, width: int = 110) -> str:
        from .explain_render import render_text

        return render_text(self, width=width)

    def to_markdown(self) -> str:
        from .explain_render import render_markdown

        return render_markdown(self)

    def __rich__(self):
        from .explain_render import renderable

        return renderable(self)

    def __str__(self) -> str:
        return self.to_text()


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


def _has_non_finite(array) -> bool:
    return array is not None and not np.isfinite(array).all()


def _copy(array):
    return np.array(to_numpy(array), dtype=np.float64, copy=True)


def _jsonable(value):
    """Nested lists of floats; non-finite numbers as the strings "NaN", "Infinity", "-Infinity"."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if np.isfinite(array).all():
        return array.tolist()

    def convert(x):
        if isinstance(x, list):
            return [convert(v) for v in x]
        if np.isnan(x):
            return "NaN"
        if np.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x

    return convert(array.tolist())


__all__ = ["SCHEMA", "LayerStep", "Trace", "explain"]
