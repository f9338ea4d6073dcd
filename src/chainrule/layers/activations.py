"""Activation layers: each class holds its function ``g`` and its derivative ``g'``.

``backward`` is the lecture's ``dZ[l] = dA[l] ⊙ g'(Z[l])``. Where ``g'`` is cheapest
from the output (sigmoid, tanh), the output is cached instead of the input.
"""

from __future__ import annotations

import numpy as np

from ..backend import fused, namespace
from ..registry import Registry
from .base import Layer

ACTIVATIONS = Registry("activation")


class Activation(Layer):
    """Base of element-wise activations ``a = g(z)``.

    Subclasses implement ``function(z)`` and ``derivative(z, a)`` (both element-wise,
    array namespace agnostic) and may override forward/backward for speed.
    """

    formula = "g(z)"
    derivative_formula = "g'(z)"
    symbol = "g"
    caches_output = False  # True when g' is cheapest from a = g(z): backward then uses the output

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        ACTIVATIONS.add_if_named(cls)

    def __init__(self):
        self._z = None
        self._a = None

    def function(self, z):
        raise NotImplementedError

    def derivative(self, z, a):
        """g'(z), given the input ``z`` and the output ``a = g(z)``."""
        raise NotImplementedError

    def forward(self, z, training=True):
        a = self.function(z)
        if not training:
            self._z = self._a = None
        elif self.caches_output:
            self._a = a
        else:
            self._z, self._a = z, a
        return a

    def backward(self, da):
        z = self._cached(self._z)
        return da * self.derivative(z, self._a)  # dZ = dA ⊙ g'(Z)


class Identity(Activation):
    """a = z; g'(z) = 1. The linear output of regression networks."""

    name, aliases, symbol = "identity", ("linear", "none"), "id"
    formula, derivative_formula = "z", "1"

    def function(self, z):
        return z

    def forward(self, z, training=True):
        self._z = True if training else None
        return z

    def backward(self, da):
        self._cached(self._z)
        return da

    def derivative(self, z, a):
        return namespace(z).ones_like(z)


class Sigmoid(Activation):
    """a = σ(z) = 1 / (1 + e^-z); σ'(z) = a (1 - a), taken from the cached output."""

    name, aliases, symbol = "sigmoid", ("logistic",), "σ"
    formula, derivative_formula = "1 / (1 + e^(-z))", "σ(z)(1 - σ(z))"
    caches_output = True

    def function(self, z):
        kernels = fused(z)
        if kernels is not None:
            return kernels.sigmoid(z)
        xp = namespace(z)
        a = xp.negative(z)
        # e^-z overflows to inf for z < -709; 1 / (1 + inf) = 0 is the correct limit.
        with np.errstate(over="ignore"):
            xp.exp(a, out=a)
        a += 1.0
        return xp.reciprocal(a, out=a)

    def backward(self, da):
        a = self._cached(self._a)
        kernels = fused(da)
        if kernels is not None:
            return kernels.sigmoid_backward(da, a)
        return da * a * (1.0 - a)  # dZ = dA ⊙ σ(Z)(1 - σ(Z))

    def derivative(self, z, a):
        return a * (1.0 - a)


class Tanh(Activation):
    """a = tanh(z); tanh'(z) = 1 - a², taken from the cached output."""

    name, symbol = "tanh", "tanh"
    formula, derivative_formula = "tanh(z)", "1 - tanh²(z)"
    caches_output = True

    def function(self, z):
        return namespace(z).tanh(z)

    def backward(self, da):
        a = self._cached(self._a)
        kernels = fused(da)
        if kernels is not None:
            return kernels.tanh_backward(da, a)
        return da * (1.0 - a * a)  # dZ = dA ⊙ (1 - A²)

    def derivative(self, z, a):
        return 1.0 - a * a


class ReLU(Activation):
    """a = max(0, z); g'(z) = 1 if z > 0 else 0."""

    name, symbol = "relu", "ReLU"
    formula, derivative_formula = "max(0, z)", "1[z > 0]"
    caches_output = True

    def function(self, z):
        if type(z) is np.ndarray and z.ndim and z.flags.c_contiguous and z.dtype.isnative:
            return _maximum_with_zeros(z)  # a 0-d or byte-swapped input: np.maximum's own result type
        return namespace(z).maximum(z, 0)

    def backward(self, da):
        a = self._cached(self._a)
        kernels = fused(da)
        if kernels is not None:
            return kernels.relu_backward(da, a)
        return da * (a > 0)  # dZ = dA ⊙ 1[Z > 0]

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


#: Length of the shared read-only zeros ``_maximum_with_zeros`` compares with.
ZEROS_BLOCK = 1 << 16
_ZEROS: dict = {}


def _maximum_with_zeros(z: np.ndarray) -> np.ndarray:
    """``np.maximum(z, 0)`` for a C-contiguous NumPy array, against blocks of an array of
    zeros: NumPy's maximum against the scalar 0 takes its slow broadcasting loop, about 4×
    slower than against an array (the result is the same, NaN included)."""
    zeros = _ZEROS.get(z.dtype)
    if zeros is None:
        zeros = np.zeros(ZEROS_BLOCK, dtype=z.dtype)
        zeros.flags.writeable = False  # shared by every layer and thread: never written
        _ZEROS[z.dtype] = zeros
    out = np.empty_like(z)
    flat_in, flat_out = z.reshape(-1), out.reshape(-1)
    for start in range(0, flat_in.size, ZEROS_BLOCK):
        part = flat_in[start : start + ZEROS_BLOCK]
        np.maximum(part, zeros[: part.size], out=flat_out[start : start + ZEROS_BLOCK])
    return out


class LeakyReLU(Activation):
    """a = z if z > 0 else α z; g'(z) = 1 if z > 0 else α.

    Parameters
    ----------
    alpha : float
        Slope for negative inputs, in [0, 1).
    """

    name, aliases, symbol = "leaky_relu", ("leakyrelu",), "LeakyReLU"
    formula, derivative_formula = "max(z, αz)", "1 if z > 0 else α"

    def __init__(self, alpha: float = 0.01):
        super().__init__()
        if not (isinstance(alpha, (int, float)) and 0 <= alpha < 1):
            raise ValueError(f"LeakyReLU alpha must be in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)

    def function(self, z):
        kernels = fused(z)
        if kernels is not None:
            return kernels.leaky_relu(z, self.alpha)
        return namespace(z).where(z > 0, z, self.alpha * z)

    def backward(self, da):
        z = self._cached(self._z)
        kernels = fused(da)
        if kernels is not None:
            return kernels.leaky_relu_backward(da, z, self.alpha)
        return da * self.derivative(z, self._a)  # dZ = dA ⊙ g'(Z)

    def derivative(self, z, a):
        return namespace(z).where(z > 0, 1.0, self.alpha).astype(z.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


class XTanh(Activation):
    """a = z·tanh(z) (seed 002, Exercise 4); g'(z) = tanh(z) + z (1 - tanh²(z))."""

    name, aliases, symbol = "xtanh", ("x_tanh",), "xtanh"
    formula, derivative_formula = "z tanh(z)", "tanh(z) + z (1 - tanh²(z))"

    def forward(self, z, training=True):
        t = namespace(z).tanh(z)
        if training:
            self._z, self._a = z, t  # cache tanh(z): g' needs it
        else:
            self._z = self._a = None
        return z * t

    def function(self, z):
        return z * namespace(z).tanh(z)

    def backward(self, da):
        z = self._cached(self._z)
        t = self._a
        kernels = fused(da)
        if kernels is not None:
            return kernels.xtanh_backward(da, z, t)
        return da * (t + z * (1.0 - t * t))

    def derivative(self, z, a):
        t = namespace(z).tanh(z)
        return t + z * (1.0 - t * t)


class Softmax(Activation):
    """a_k = e^{z_k} / Σ_j e^{z_j} over features (rows are samples).

    Its Jacobian is not diagonal: ``dZ = A ⊙ (dA - Σ_k dA_k A_k)``. For classification
    prefer ``CrossEntropy`` on logits, which fuses softmax stably.
    """

    name, symbol = "softmax", "softmax"
    formula, derivative_formula = "e^(z_k) / Σ_j e^(z_j)", "a_k (δ_kj - a_j)"
    caches_output = True

    def function(self, z):
        xp = namespace(z)
        e = xp.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, da):
        a = self._cached(self._a)
        return a * (da - (da * a).sum(axis=-1, keepdims=True))

    def derivative(self, z, a):
        raise NotImplementedError("softmax has a full Jacobian; use backward()")


class CustomActivation(Activation):
    """An activation made from a user's function and derivative.

    Parameters
    ----------
    function : callable
        ``g(z)``, element-wise on arrays (``np.tanh``, ``np.where``, ``np.maximum``: not
        ``math.tanh`` or ``if z > 0``, which take one number).
    derivative : callable
        ``g'(z)``, element-wise on arrays. It receives the *input* ``z``, not the output
        ``a = g(z)``: the seeds' ``sigmoid_derivative(x) = x * (1 - x)`` expects ``x = σ(z)``,
        so pass ``lambda z: sigmoid_derivative(sigmoid(z))``. ``chainrule.inspect.gradcheck``
        checks it (and says when it is right only on the output).
    label : str
        The name shown in reports and errors.

    Both must return real arrays of z's shape (the derivative may return a constant): integer
    or boolean results (``z > 0``) and higher float precisions are cast to z's dtype; anything
    else (a lower precision than z's, complex numbers, ``np.matrix``, lists) is refused with a
    message naming the label.
    """

    symbol = "g"

    #: The hint for a function written for one number at a time.
    ARRAY_HINT = "use np.tanh, np.exp, np.where(z > 0, ...), which work on whole arrays"

    def __init__(self, function, derivative, label: str = "custom"):
        super().__init__()
        if not callable(function) or not callable(derivative):
            raise TypeError("CustomActivation needs callable function and derivative")
        self._function, self._derivative, self.label = function, derivative, str(label)
        self.symbol = self.label

    def function(self, z):
        return self._checked(self._function, "function", z)

    def derivative(self, z, a):
        return self._checked(self._derivative, "derivative", z)

    def _checked(self, fn, role: str, z):
        """``fn(z)`` as a real array of z's shape and dtype, or a ValueError naming the label."""
        try:
            out = fn(z)
        except Exception as exc:
            raise ValueError(f"{self!r}: its {role} raised {type(exc).__name__}: {exc}{self._hint(exc)}") from exc
        if role == "derivative" and isinstance(out, (int, float, np.integer, np.floating)) and not isinstance(out, bool):
            return out  # a constant slope, e.g. lambda z: 1.0
        problem = self._problem(out, z)
        if problem:
            raise ValueError(f"{self!r}: its {role} returned {problem} for z of shape {z.shape}; it must work "
                             f"element-wise and return a real array of z's shape ({self.ARRAY_HINT})")
        return out if out.dtype == z.dtype else out.astype(z.dtype)

    @staticmethod
    def _problem(out, z) -> str:
        """What makes ``out`` unusable as the activation's values on ``z`` ("" when nothing)."""
        if isinstance(out, np.matrix):
            return "a numpy.matrix"
        shape, dtype = getattr(out, "shape", None), getattr(out, "dtype", None)
        if shape is None or dtype is None or not hasattr(out, "astype"):
            return f"a {type(out).__name__}"
        if shape != z.shape:
            return f"shape {shape}"
        if dtype.kind not in "biuf":
            return f"values of dtype {dtype}" + (" (complex numbers)" if dtype.kind == "c" else "")
        if dtype.kind == "f" and z.dtype.kind == "f" and dtype.itemsize < z.dtype.itemsize:
            return (f"{dtype} values for {z.dtype} z (about {np.finfo(dtype).precision} digits where z has "
                    f"{np.finfo(z.dtype).precision}: compute in z's dtype)")
        return ""

    def _hint(self, exc) -> str:
        """The array hint, for the errors a function written for one number raises on an array."""
        text = str(exc)
        scalar_only = ("truth value of an array" in text or "only length-1 arrays" in text
                       or "only 0-dimensional arrays" in text or "only size-1 arrays" in text)
        return f" ({self.ARRAY_HINT})" if scalar_only else ""

    def get_config(self):
        return {"label": self.label}

    def __repr__(self):
        return f"CustomActivation({self.label!r})"


def get_activation(spec) -> Activation:
    """An Activation from a registry name or an instance."""
    return ACTIVATIONS.create(spec, base=Activation)


