"""What a gradient check can tell from the numbers themselves, for any layer: kinks (where
the one-sided differences disagree), non-finite forward values and gradients, and a custom
derivative written for the activation's output instead of its input.

``gradcheck`` in ``gradcheck.py`` calls these; nothing here depends on layer names.
"""

from __future__ import annotations

import numpy as np

from ..layers import Activation, CustomActivation, Softmax

#: A kink's one-sided slopes differ by this many times the rounding noise at least.
KINK_NOISE_FACTOR = 100.0
#: The one-sided disagreement at ten times the step must stay below this many times the one at
#: the step (a kink's jump stays put; a smooth curvature's grows tenfold).
KINK_GROWTH = 3.0
#: Failing elements whose one-sided differences are examined at most, per tensor.
MAX_KINK_PROBES = 50

_MACHINE_EPS = float(np.finfo(np.float64).eps)


def one_sided_jump(f_plus, f_zero, f_minus, step: float):
    """``|(f(x+h) − f(x))/h − (f(x) − f(x−h))/h|``: the disagreement of the one-sided
    differences (``h`` = ``step``), element-wise on arrays or scalars."""
    return np.abs(f_plus - 2.0 * f_zero + f_minus) / step


def is_kink(jump, jump_wide, noise):
    """Where the one-sided differences disagree by far more than rounding (``jump`` at the step,
    ``jump_wide`` at ten times it, ``noise`` the rounding in one difference) and the
    disagreement does not grow with the step as a smooth curvature's does: a kink."""
    return (jump > KINK_NOISE_FACTOR * noise) & (jump_wide < KINK_GROWTH * jump)


def activation_kinks(layer, z, eps: float) -> np.ndarray:
    """Indices of the inputs ``z`` of an element-wise activation at which its function has a
    kink within ``10·eps`` (found from the function's values, whatever the layer is called);
    an empty array for a layer that is not element-wise."""
    if not isinstance(layer, Activation) or isinstance(layer, Softmax):
        return np.empty((0, z.ndim), dtype=int)
    step = 10.0 * eps
    try:
        with np.errstate(all="ignore"):
            g = [np.asarray(layer.function(z + s), dtype=np.float64) for s in (0.0, step, -step, 10 * step, -10 * step)]
    except (NotImplementedError, ValueError, TypeError):
        return np.empty((0, z.ndim), dtype=int)
    noise = 4.0 * _MACHINE_EPS * np.maximum(1.0, np.abs(g[0])) / step
    jump = one_sided_jump(g[1], g[0], g[2], step)
    wide = one_sided_jump(g[3], g[0], g[4], 10 * step)
    with np.errstate(invalid="ignore"):
        return np.argwhere(is_kink(jump, wide, noise))


def entry_kinks(f, array: np.ndarray, elements, eps: float, jump: np.ndarray, base: float) -> int:
    """How many of ``elements`` (flat indices of ``array``) are kinks of ``f`` (the loss as a
    function of ``array``): ``jump`` holds the one-sided disagreement at ``eps`` from the
    central differences; it is measured again at ``10·eps`` for the first ``MAX_KINK_PROBES``."""
    noise = 4.0 * _MACHINE_EPS * max(1.0, abs(base)) / eps
    flat, count = array.reshape(-1), 0
    for i in elements[:MAX_KINK_PROBES]:
        if not jump[i] > KINK_NOISE_FACTOR * noise:
            continue
        old = flat[i]
        flat[i] = old + 10 * eps
        up = f()
        flat[i] = old - 10 * eps
        down = f()
        flat[i] = old
        count += bool(is_kink(jump[i], one_sided_jump(up, base, down, 10 * eps), noise))
    return count


def refuse_non_finite_forward(layers, activations, labels, value) -> None:
    """Raise, naming the first layer whose output holds NaN or inf, or the loss when only it
    is not finite: central differences of a non-finite objective mean nothing."""
    for position, (layer, out) in enumerate(zip(layers, activations[1:]), start=1):
        problem = non_finite_kind(out)
        if problem:
            raise ValueError(f"gradcheck: the forward pass is not finite: {labels[position - 1]} at position {position} "
                             f"in the network outputs {problem}, first at {first_bad(out)}; use smaller inputs or "
                             "weights, or fix the layer's function")
    problem = non_finite_kind(np.float64(value))
    if problem:
        raise ValueError(f"gradcheck: the loss is {problem} although every layer's output is finite; use smaller "
                         "inputs, weights or targets")


def refuse_non_finite_backward(layers, input_grads, param_grads, labels) -> None:
    """Raise, naming the layer nearest the output whose backward returned NaN or inf (a
    derivative that divides by zero or overflows)."""
    for i in range(len(layers) - 1, -1, -1):
        grads = [input_grads[i]] + [param_grads[id(p)] for p in layers[i].parameters()]
        for grad in grads:
            problem = non_finite_kind(grad)
            if problem:
                raise ValueError(f"gradcheck: the backward pass is not finite: {labels[i]} at position {i + 1} in "
                                 f"the network returns gradients holding {problem}, first at {first_bad(grad)}, "
                                 "while every layer's forward output is finite: look at its derivative")


def non_finite_kind(array) -> str:
    """``""`` when every value is finite, else what is wrong, telling NaN (an undefined
    0/0, inf − inf or 0·inf) from an overflow to ±inf."""
    array = np.asarray(array, dtype=np.float64)
    nan, inf = bool(np.isnan(array).any()), bool(np.isinf(array).any())
    if nan and inf:
        return "NaN (an undefined 0/0, inf − inf or 0·inf) and ±inf (an overflow of the float64 range or a division by zero)"
    if nan:
        return "NaN (an undefined 0/0, inf − inf or 0·inf)"
    if inf:
        return "±inf (an overflow of the float64 range or a division by zero)"
    return ""


def first_bad(array) -> tuple:
    """The index of the first non-finite element of ``array``."""
    array = np.asarray(array, dtype=np.float64)
    index = np.argwhere(~np.isfinite(array))[0] if array.ndim else ()
    return tuple(int(i) for i in index)


def derivative_of_output_note(layer, z: np.ndarray, eps: float) -> str | None:
    """A note when a ``CustomActivation``'s derivative is wrong at ``z`` but right when given
    the output ``g(z)``: written, like the seeds' ``sigmoid_derivative(x) = x·(1 − x)``, for
    the activation's output, while ``CustomActivation`` hands it ``z``. None otherwise."""
    if not isinstance(layer, CustomActivation):
        return None
    with np.errstate(all="ignore"):
        try:
            a = np.asarray(layer.function(z), dtype=np.float64)
            slope = (np.asarray(layer.function(z + eps), dtype=np.float64)
                     - np.asarray(layer.function(z - eps), dtype=np.float64)) / (2 * eps)
            given = np.broadcast_to(np.asarray(layer.derivative(z, a), dtype=np.float64), z.shape)
            on_output = np.broadcast_to(np.asarray(layer.derivative(a, None), dtype=np.float64), z.shape)
        except (ValueError, TypeError):
            return None
    scale = np.maximum(1.0, np.abs(slope))
    close = lambda d: bool(np.all(np.abs(d - slope) <= 1e-5 * scale))  # noqa: E731
    if close(given) or not close(on_output):
        return None
    return (f"{layer!r}: its derivative gives the slope when handed the output a = g(z), not z: it is written for "
            "the output (as the seeds' sigmoid_derivative(x) = x·(1 − x) is), but CustomActivation passes the "
            "input z; use derivative=lambda z: d(g(z)) with your d and g")


__all__ = ["activation_kinks", "derivative_of_output_note", "entry_kinks", "is_kink", "non_finite_kind",
           "one_sided_jump", "refuse_non_finite_backward", "refuse_non_finite_forward"]
