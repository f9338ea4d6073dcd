"""The fully connected layer ``z = W x + b``."""

from __future__ import annotations

import numpy as np

from ..initializers import as_generator, initialize
from ..validation import check_positive
from .base import Layer, Parameter, ShapePlan, config_size


class Dense(Layer):
    """Affine layer ``z = W x + b``; on a batch ``Z = X Wᵀ + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    bias : bool
        Whether the layer has ``b``.
    init : str or callable
        Weight initialiser name (see ``chainrule.INITIALIZERS``) or ``f(shape, rng)``.
    rng : None, int or numpy.random.Generator
        Source of the initial weights.

    Attributes
    ----------
    W : Parameter, shape (n_out, n_in)
        The lecture's ``W[l]`` and PyTorch's ``nn.Linear.weight`` layout.
    b : Parameter or None, shape (n_out,)
    """

    name = "dense"
    aliases = ("linear_layer",)

    def __init__(self, n_in: int, n_out: int, bias: bool = True, init="glorot_uniform", rng=None):
        self.n_in = check_positive("n_in", n_in, integer=True)
        self.n_out = check_positive("n_out", n_out, integer=True)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        W = initialize(init, (self.n_out, self.n_in), rng)
        self.W = Parameter(W, "W")
        self.b = Parameter(np.zeros(self.n_out), "b", regularize=False) if bias else None
        self._x = None
        self._ones = None

    @classmethod
    def from_arrays(cls, W, b=None) -> Dense:
        """A layer holding given weights, in the lecture's layout ``W: (n_out, n_in)``."""
        W = np.array(W, dtype=np.float64, ndmin=2)
        if W.ndim != 2:
            raise ValueError(f"W must be a 2-D array (n_out, n_in), got shape {W.shape}")
        layer = cls(W.shape[1], W.shape[0], bias=b is not None, init=lambda shape, rng: W.copy())
        layer.init = "given"
        if b is not None:
            b = np.array(b, dtype=np.float64).reshape(-1)
            if b.shape != (W.shape[0],):
                raise ValueError(f"b must have shape ({W.shape[0]},) to match W {W.shape}, got {b.shape}")
            layer.b.value[...] = b
        return layer

    @classmethod
    def example(cls, rng, n_features=4):
        return cls(n_features, 3, rng=rng)

    @classmethod
    def shape_plan(cls, config):
        n_in, n_out = config_size(config, "n_in"), config_size(config, "n_out")
        tensors = {"W": (n_out, n_in)}
        if config.get("bias", True):  # as the constructor reads it
            tensors["b"] = (n_out,)
        return ShapePlan(tensors, n_in, n_out)

    def parameters(self):
        return [self.W] if self.b is None else [self.W, self.b]

    def output_size(self, input_size):
        if input_size != self.n_in:
            raise ValueError(f"Dense({self.n_in}, {self.n_out}) cannot take {input_size} input features")
        return self.n_out

    def forward(self, x, training=True):
        z = x @ self.W.value.T
        if self.b is not None:
            z += self.b.value
        self._x = x if training else None
        return z

    def backward(self, dz, need_input_grad: bool = True):
        """Write dW, db from dZ (n, n_out); return dL/dX (n, n_in), or None when the
        caller says it is not needed (the first layer during fit)."""
        x = self._cached(self._x)
        xp = np if isinstance(dz, np.ndarray) else _xp(dz)
        xp.matmul(dz.T, x, out=self.W.grad)  # dW[l] = dZ[l]ᵀ A[l-1]
        if self.b is not None:
            # db[l] = Σ_samples dZ[l], as 1ᵀ dZ: a BLAS product, far faster than sum(axis=0)
            xp.matmul(self._ones_like_rows(dz, xp), dz, out=self.b.grad)
        if not need_input_grad:
            return None
        return dz @ self.W.value  # dA[l-1] = dZ[l] W[l]

    def _ones_like_rows(self, dz, xp):
        ones = self._ones
        if ones is None or ones.shape[0] != dz.shape[0] or ones.dtype != dz.dtype or type(ones) is not type(dz):
            ones = self._ones = xp.ones(dz.shape[0], dtype=dz.dtype)
        return ones

    def get_config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "bias": self.b is not None}


def _xp(array):
    from ..backend import namespace

    return namespace(array)


__all__ = ["Dense", "as_generator"]
