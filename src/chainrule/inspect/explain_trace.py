"""The trace of one backpropagation step: the ``LayerStep`` and ``Trace`` data classes.

``chainrule.inspect.explain`` fills them in (every number of the forward pass, the loss, the
backward pass and the update); this module holds the records themselves, the quantities
derived from them (``Trace.penalty``, ``Trace.non_finite``, ...) and their JSON form (schema
``SCHEMA``). Rendering as text, Markdown or rich is ``explain_render``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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


def _has_non_finite(array) -> bool:
    return array is not None and not np.isfinite(array).all()


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


__all__ = ["SCHEMA", "LayerStep", "Trace"]
