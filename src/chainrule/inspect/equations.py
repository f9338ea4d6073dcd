"""The equations of one backpropagation step, as text and LaTeX, in the lecture's notation.

Samples are rows: ``Z[l] = A[l-1] W[l]ᵀ + b[l]`` is the batch form of ``z = W x + b``;
``*`` is element-wise multiplication (``⊙``).
"""

from __future__ import annotations

import re

# LaTeX for the activations the registry knows; others get \operatorname{label}
_LATEX_G = {
    "sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}",
    "leaky_relu": r"\operatorname{LeakyReLU}", "xtanh": r"\operatorname{xtanh}",
    "softmax": r"\operatorname{softmax}",
}

# g'(Z) in LaTeX, {Z} standing for the layer's pre-activation
_LATEX_DERIVATIVE = {
    "sigmoid": r"\sigma({Z})\left(1 - \sigma({Z})\right)",
    "tanh": r"1 - \tanh^2({Z})",
    "relu": r"\mathbb{{1}}\left[{Z} > 0\right]",
    "leaky_relu": r"1 \text{{ if }} {Z} > 0 \text{{ else }} {slope}",
    "xtanh": r"\tanh({Z}) + {Z}\left(1 - \tanh^2({Z})\right)",
}

# dA[L] = ∂L/∂A[L] for each built-in loss: (text, LaTeX) with {L} the last layer number
_LOSS_GRADIENT = {
    "mse": ("dA[{L}] = 2 (A[{L}] − Y) / (n·k)", r"dA^{{[{L}]}} = \frac{{2}}{{n k}}\left(A^{{[{L}]}} - Y\right)"),
    "sse": ("dA[{L}] = A[{L}] − Y", r"dA^{{[{L}]}} = A^{{[{L}]}} - Y"),
    "bce": ("dA[{L}] = (ŷ − Y) / (n·k) with ŷ = σ(A[{L}])   (A[{L}] holds the logits, the lecture's Z[{L}]: "
            "the loss applies the sigmoid; for one output this is the lecture's dZ[{L}] = (ŷ − Y)/m)",
            r"dA^{{[{L}]}} = \frac{{1}}{{n k}}\left(\hat{{Y}} - Y\right),\quad \hat{{Y}} = \sigma(A^{{[{L}]}})"),
    "cross_entropy": ("dA[{L}] = (ŷ − onehot(Y)) / n with ŷ = softmax(A[{L}])   (A[{L}] holds the logits, the "
                      "lecture's Z[{L}]: the loss applies the softmax, so this is the lecture's dZ[{L}] = (ŷ − Y)/m)",
                      r"dA^{{[{L}]}} = \frac{{1}}{{n}}\left(\hat{{Y}} - \operatorname{{onehot}}(Y)\right),\quad "
                      r"\hat{{Y}} = \operatorname{{softmax}}(A^{{[{L}]}})"),
    "hinge": ("dA[{L}] = −Y * 1[Y A[{L}] < 1] / (n·k)",
              r"dA^{{[{L}]}} = -\frac{{1}}{{n k}}\, Y \odot \mathbb{{1}}\left[Y \odot A^{{[{L}]}} < 1\right]"),
    "huber": ("dA[{L}] = clip(A[{L}] − Y, −δ, δ) / (n·k)",
              r"dA^{{[{L}]}} = \frac{{1}}{{n k}} \operatorname{{clip}}\left(A^{{[{L}]}} - Y, -\delta, \delta\right)"),
}


def latex_symbol(name: str, symbol: str) -> str:
    """The activation's symbol in LaTeX (``g`` for a custom activation)."""
    if name == "custom":
        return "g"
    if name in _LATEX_G:
        return _LATEX_G[name]
    text = re.sub(r"[^A-Za-z0-9_]", "", symbol).replace("_", r"\_") or "g"
    return r"\operatorname{" + text + "}"


def layer_equations(l: int, name: str, symbol: str, derivative_formula: str, bias: bool,
                    l1: float = 0.0, l2: float = 0.0, slope: float | None = None, output: bool = True,
                    label: str | None = None):
    """``(text, latex)`` dicts of the equations of layer ``l``, keyed by the quantity.

    ``name`` is the registry name of a built-in activation, ``"identity"`` for none, or
    ``"custom"`` for any other activation, written ``g`` with its ``label`` alongside.

    Keys: ``W``, ``b``, ``Z``, ``A``, ``g_prime``, ``dZ``, ``dW``, ``db``, ``dA_prev``, ``W_new``, ``b_new``
    (the ``b`` keys only when the layer has a bias). ``l1``/``l2`` add the penalty's gradient to
    the weight update (biases are not penalised). ``slope`` is LeakyReLU's negative slope,
    written as a number (α is the learning rate here). ``output``: whether layer ``l`` is the
    network's last (a layer without activation is "linear output" there, "no activation" below).
    """
    p = l - 1
    g = latex_symbol(name, symbol)
    text = {
        "W": f"W[{l}]   (weights before the step)",
        "Z": f"Z[{l}] = A[{p}] W[{l}]ᵀ" + (f" + b[{l}]" if bias else ""),
        "A": f"A[{l}] = Z[{l}]" if name == "identity" else f"A[{l}] = {symbol}(Z[{l}])",
        "g_prime": f"{symbol}'(Z[{l}]) = {_at(derivative_formula, f'Z[{l}]')}",
        "dW": f"dW[{l}] = dZ[{l}]ᵀ A[{p}]",
        "dA_prev": f"dA[{p}] = dZ[{l}] W[{l}]" + ("   (= ∂L/∂X)" if l == 1 else ""),
        "W_new": f"W[{l}] ← W[{l}] − α " + _penalised(f"dW[{l}]", f"W[{l}]", l1, l2),
    }
    latex = {
        "W": rf"W^{{[{l}]}}",
        "Z": rf"Z^{{[{l}]}} = A^{{[{p}]}} W^{{[{l}]\top}}" + (rf" + b^{{[{l}]}}" if bias else ""),
        "A": rf"A^{{[{l}]}} = Z^{{[{l}]}}" if name == "identity" else rf"A^{{[{l}]}} = {g}\left(Z^{{[{l}]}}\right)",
        "g_prime": rf"{g}'\left(Z^{{[{l}]}}\right)" + (
            " = " + _LATEX_DERIVATIVE[name].format(Z=rf"Z^{{[{l}]}}", slope=f"{slope:g}" if slope is not None else "a")
            if name in _LATEX_DERIVATIVE else ""),
        "dW": rf"dW^{{[{l}]}} = dZ^{{[{l}]\top}} A^{{[{p}]}}",
        "dA_prev": rf"dA^{{[{p}]}} = dZ^{{[{l}]}} W^{{[{l}]}}",
        "W_new": rf"W^{{[{l}]}} \leftarrow W^{{[{l}]}} - \alpha\, " + _penalised_latex(l, l1, l2),
    }
    if name == "custom":
        _custom_equations(text, latex, l, label or "custom")
    if name == "identity":
        text["dZ"] = f"dZ[{l}] = dA[{l}]   ({'linear output' if output else 'no activation'}: g'(z) = 1)"
        latex["dZ"] = rf"dZ^{{[{l}]}} = dA^{{[{l}]}}"
    elif name == "softmax":
        text["dZ"] = f"dZ[{l}] = A[{l}] * (dA[{l}] − Σ_k dA[{l}]_k A[{l}]_k)   (softmax Jacobian)"
        latex["dZ"] = rf"dZ^{{[{l}]}} = A^{{[{l}]}} \odot \left(dA^{{[{l}]}} - \textstyle\sum_k dA^{{[{l}]}}_k A^{{[{l}]}}_k\right)"
    else:
        text["dZ"] = f"dZ[{l}] = dA[{l}] * {symbol}'(Z[{l}])"
        latex["dZ"] = rf"dZ^{{[{l}]}} = dA^{{[{l}]}} \odot {g}'\left(Z^{{[{l}]}}\right)"
    if bias:
        text["b"], latex["b"] = f"b[{l}]", rf"b^{{[{l}]}}"
        text["db"] = f"db[{l}] = Σ_rows dZ[{l}]   (sum over samples)"
        text["b_new"] = f"b[{l}] ← b[{l}] − α db[{l}]"
        latex["db"] = rf"db^{{[{l}]}} = \textstyle\sum_{{\text{{rows}}}} dZ^{{[{l}]}}"
        latex["b_new"] = rf"b^{{[{l}]}} \leftarrow b^{{[{l}]}} - \alpha\, db^{{[{l}]}}"
    return text, latex


def _custom_equations(text: dict, latex: dict, l: int, label: str) -> None:
    """``A`` and ``g'`` of a custom activation: ``g`` is the user's function, named by its label."""
    text["A"] = f"A[{l}] = g(Z[{l}])   (g: the custom activation {label!r})"
    text["g_prime"] = f"g'(Z[{l}])   (the derivative given to {label!r}, at Z[{l}])"
    latex["A"] = rf"A^{{[{l}]}} = g\left(Z^{{[{l}]}}\right) \quad \text{{(g: custom {latex_text(label)})}}"
    latex["g_prime"] = rf"g'\left(Z^{{[{l}]}}\right)"


def latex_text(text: str) -> str:
    r"""``text`` safe inside ``\text{...}``: LaTeX's special characters escaped."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
               "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    return "".join(special.get(c, c) for c in text)


def update_rule(l1: float = 0.0, l2: float = 0.0) -> str:
    """The gradient-descent update of every layer, with the L1/L2 penalty term when there is one."""
    return f"W[l] ← W[l] − α {_penalised('dW[l]', 'W[l]', l1, l2)},  b[l] ← b[l] − α db[l]"


def _penalised(grad: str, weight: str, l1: float, l2: float) -> str:
    terms = [grad]
    if l1:
        terms.append(f"{l1:g} sign({weight})")
    if l2:
        terms.append(f"{l2:g} {weight}")
    return grad if len(terms) == 1 else "(" + " + ".join(terms) + ")"


def _penalised_latex(l: int, l1: float, l2: float) -> str:
    terms = [rf"dW^{{[{l}]}}"]
    if l1:
        terms.append(rf"{l1:g}\,\operatorname{{sign}}(W^{{[{l}]}})")
    if l2:
        terms.append(rf"{l2:g}\, W^{{[{l}]}}")
    return terms[0] if len(terms) == 1 else r"\left(" + " + ".join(terms) + r"\right)"


def loss_gradient(loss, n_layers: int):
    """``(text, latex)`` of ``dA[L] = ∂L/∂A[L]`` for ``loss``."""
    L = n_layers
    if loss.name in _LOSS_GRADIENT:
        text, latex = _LOSS_GRADIENT[loss.name]
        return text.format(L=L), latex.format(L=L)
    return (f"dA[{L}] = ∂L/∂A[{L}]   ({type(loss).__name__}.backward())",
            rf"dA^{{[{L}]}} = \partial L / \partial A^{{[{L}]}}")


def _at(formula: str, argument: str) -> str:
    """``formula`` in ``z`` with ``z`` replaced by ``argument`` (``σ(z)(1 - σ(z))`` → ``σ(Z[1])...``)."""
    return re.sub(r"(?<![A-Za-z_])z(?![A-Za-z_])", argument, formula)


__all__ = ["latex_symbol", "latex_text", "layer_equations", "loss_gradient", "update_rule"]
