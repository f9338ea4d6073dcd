"""Stochastic gradient descent, with optional (Nesterov) momentum. With Numba installed, a
large update on the CPU runs as one compiled loop (``chainrule.kernels_cpu``), with the same
results bit for bit."""

from __future__ import annotations

import numpy as np

from ..backend import cpu_kernels, fused
from ..validation import check_fraction
from .base import Optimizer, blocks


class SGD(Optimizer):
    """θ ← θ - α g; with momentum μ: v ← μ v + g, θ ← θ - α v
    (Nesterov: θ ← θ - α (g + μ v)), PyTorch's formulation.

    Parameters
    ----------
    lr : float
        Learning rate α.
    momentum : float
        μ in [0, 1).
    nesterov : bool
        Use Nesterov's look-ahead form (needs momentum > 0).
    **kwargs
        Penalties, clipping and schedule: see ``Optimizer``.
    """

    name, aliases = "sgd", ("gd", "gradient_descent")
    default_lr = 0.01

    def __init__(self, lr=None, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(lr, **kwargs)
        self.momentum = check_fraction("momentum", momentum)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _init_state(self, value):
        return {"velocity": value * 0} if self.momentum else {}

    def _update(self, value, grad, state, lr):
        kernels = fused(value)
        if kernels is not None:
            if self.momentum:
                kernels.momentum(value, grad, state["velocity"], lr, self.momentum, self.nesterov)
            else:
                kernels.sgd(value, grad, lr)
            return
        if not self.momentum:
            compiled = cpu_kernels(value, grad)
            if compiled is not None:  # the same passes as below, in one compiled loop
                compiled.sgd(value, grad, lr)
                return
            for val, g in blocks(value, grad):
                val -= lr * g
            return
        v = state["velocity"]
        compiled = cpu_kernels(value, grad, v)
        if compiled is not None:  # the same passes as below, in one compiled loop
            compiled.momentum(value, grad, v, lr, self.momentum, self.nesterov)
            return
        v *= self.momentum
        v += grad
        if self.nesterov:
            for val, g, vel in blocks(value, grad, v):
                val -= lr * (g + self.momentum * vel)
        else:
            for val, vel in blocks(value, v):
                val -= lr * vel

    def get_config(self):
        config = super().get_config()
        if self.momentum or type(self).__init__ is not SGD.__init__:  # Momentum's default is 0.9, not 0
            config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config


class Momentum(SGD):
    """SGD with momentum 0.9 by default (the playground's "momentum")."""

    name, aliases = "momentum", ()

    def __init__(self, lr=None, momentum: float = 0.9, nesterov: bool = False, **kwargs):
        super().__init__(lr, momentum=momentum, nesterov=nesterov, **kwargs)
