"""Batch normalisation (Ioffe & Szegedy, 2015), per feature."""

from __future__ import annotations

import numpy as np

from ..backend import convert, namespace
from ..validation import check_fraction, check_positive
from .base import Layer, Parameter, ShapePlan, config_size


class BatchNorm(Layer):
    """``y = γ · (x - μ_B) / √(σ²_B + ε) + β`` per feature over the batch; at inference the
    running averages of μ and σ² are used instead.

    Parameters
    ----------
    n_features : int
        Features of the input (and output).
    momentum : float
        Weight of the newest batch in the running averages, in (0, 1]
        (PyTorch's convention: ``running = (1 - momentum) · running + momentum · batch``).
    eps : float
        ε added to the variance (> 0).

    Attributes
    ----------
    gamma, beta : Parameter, shape (n_features,)
        Learnable scale γ (starts at 1) and shift β (starts at 0).
    running_mean, running_var : ndarray, shape (n_features,)
        Inference statistics; the running variance uses the unbiased batch variance.
    """

    name, aliases = "batch_norm", ("batchnorm",)

    min_training_batch = 2

    def __init__(self, n_features: int, momentum: float = 0.1, eps: float = 1e-5):
        self.n_in = self.n_features = check_positive("n_features", n_features, integer=True)
        self.momentum = check_fraction("momentum", momentum, upper_open=False, lower_open=True)
        self.eps = check_positive("eps", eps)
        self.gamma = Parameter(np.ones(self.n_features), "gamma", regularize=False)
        self.beta = Parameter(np.zeros(self.n_features), "beta", regularize=False)
        self.running_mean = np.zeros(self.n_features)
        self.running_var = np.ones(self.n_features)
        self._xhat = self._inv_std = None

    @classmethod
    def example(cls, rng, n_features=4):
        layer = cls(n_features)
        layer.gamma.value[...] = rng.uniform(0.5, 1.5, n_features)
        layer.beta.value[...] = rng.normal(size=n_features)
        return layer

    @classmethod
    def shape_plan(cls, config):
        n = config_size(config, "n_features")
        return ShapePlan({name: (n,) for name in ("gamma", "beta", "running_mean", "running_var")}, n, n)

    def parameters(self):
        return [self.gamma, self.beta]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def check_buffer(self, name, value):
        if name == "running_var" and bool((value < 0).any()):
            raise ValueError(f"running_var holds {float(value.min()):.3g}: a variance cannot be negative")

    def output_size(self, input_size):
        if input_size != self.n_features:
            raise ValueError(f"BatchNorm({self.n_features}) cannot take {input_size} input features")
        return input_size

    def cast(self, xp, dtype):
        super().cast(xp, dtype)
        self.running_mean = convert(self.running_mean, xp, dtype)
        self.running_var = convert(self.running_var, xp, dtype)

    def forward(self, x, training=True):
        xp = namespace(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:  # checked before the statistics move
            raise ValueError(f"BatchNorm({self.n_features}) takes input of shape (n_samples, {self.n_features}), "
                             f"got {tuple(x.shape)}")
        if not training:
            self._xhat = self._inv_std = None
            inv_std = 1.0 / xp.sqrt(self.running_var + self.eps)
            return (x - self.running_mean) * (inv_std * self.gamma.value) + self.beta.value
        n = x.shape[0]
        if n < 2:
            raise ValueError(
                f"BatchNorm in training mode needs a batch of at least 2 samples, got {n} "
                "(use batch_size >= 2, or training=False for inference)"
            )
        mean = x.mean(axis=0)
        centred = x - mean
        var = (centred * centred).mean(axis=0)
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        xhat = centred * inv_std
        m = self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += m * mean
        self.running_var *= 1.0 - m
        self.running_var += m * var * (n / (n - 1))
        self._xhat, self._inv_std = xhat, inv_std
        return xhat * self.gamma.value + self.beta.value

    def backward(self, dy):
        xhat = self._cached(self._xhat)
        n = dy.shape[0]
        self.beta.grad[...] = dy.sum(axis=0)  # dβ = Σ dy
        self.gamma.grad[...] = (dy * xhat).sum(axis=0)  # dγ = Σ dy ⊙ x̂
        dxhat = dy * self.gamma.value
        # dx = (1/n) · inv_std · (n dx̂ - Σ dx̂ - x̂ Σ dx̂ ⊙ x̂)
        return (self._inv_std / n) * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))

    def get_config(self):
        return {"n_features": self.n_features, "momentum": self.momentum, "eps": self.eps}
