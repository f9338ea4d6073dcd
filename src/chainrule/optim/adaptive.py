"""Adaptive-rate optimizers: RMSprop, Adam, AdamW. Updates are in place, using one
preallocated scratch buffer per parameter instead of temporaries; with Numba installed, a
large update on the CPU runs as one compiled loop instead (``chainrule.kernels_cpu``), with
the same results bit for bit."""

from __future__ import annotations

import math

from ..backend import cpu_kernels, fused, namespace
from ..validation import check_fraction, check_positive
from .base import Optimizer


class RMSprop(Optimizer):
    """v ← ρ v + (1 - ρ) g²;  θ ← θ - α g / (√v + ε).

    Parameters
    ----------
    lr : float
        α, default 0.001.
    rho : float
        Decay ρ of the squared-gradient average, in [0, 1).
    eps : float
        ε added to √v.
    """

    name = "rmsprop"
    default_lr = 0.001

    def __init__(self, lr=None, rho: float = 0.9, eps: float = 1e-8, **kwargs):
        super().__init__(lr, **kwargs)
        self.rho = check_fraction("rho", rho)
        self.eps = check_positive("eps", eps)

    def _init_state(self, value):
        return {"v": value * 0, "scratch": value * 0}

    def _update(self, value, grad, state, lr):
        kernels = fused(value)
        if kernels is not None:
            kernels.rmsprop(value, grad, state["v"], lr, self.rho, self.eps)
            return
        v, s = state["v"], state["scratch"]
        compiled = cpu_kernels(value, grad, v)
        if compiled is not None:  # the same passes as below, in one compiled loop
            compiled.rmsprop(value, grad, v, lr, self.rho, self.eps)
            return
        xp = namespace(value)
        v *= self.rho
        xp.multiply(grad, grad, out=s)
        s *= 1.0 - self.rho
        v += s
        xp.sqrt(v, out=s)
        s += self.eps
        xp.divide(grad, s, out=s)
        s *= lr
        value -= s

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), in PyTorch's exact form:
    m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
    θ ← θ - α m̂ / (√v̂ + ε) with m̂ = m/(1-β₁ᵗ), v̂ = v/(1-β₂ᵗ).

    Parameters
    ----------
    lr : float
        α, default 0.001.
    beta1, beta2 : float
        Moment decays in [0, 1).
    eps : float
        ε added to √v̂.
    """

    name = "adam"
    default_lr = 0.001

    def __init__(self, lr=None, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, **kwargs):
        super().__init__(lr, **kwargs)
        self.beta1 = check_fraction("beta1", beta1)
        self.beta2 = check_fraction("beta2", beta2)
        self.eps = check_positive("eps", eps)

    def _init_state(self, value):
        return {"m": value * 0, "v": value * 0, "scratch": value * 0}

    def _update(self, value, grad, state, lr):
        xp = namespace(value)
        t = self.iterations + 1
        b1, b2 = self.beta1, self.beta2
        kernels = fused(value)
        if kernels is not None:  # the fused GPU kernel keeps m and v themselves
            kernels.adam(value, grad, state["m"], state["v"], b1, b2, 1.0 / math.sqrt(1.0 - b2**t), self.eps,
                         lr / (1.0 - b1**t))
            return
        # On the CPU the state holds M = m/(1-β₁) and V = v/(1-β₂), which obey M ← β₁M + g and
        # V ← β₂V + g²: the same step in 10 passes over the parameters instead of 13 (the update
        # is memory-bound). With c = √((1-β₂)/(1-β₂ᵗ)) the step
        # θ -= α/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε) is θ -= α(1-β₁)/((1-β₁ᵗ)c) · M / (√V + ε/c).
        # (In float32, V ≤ g²/(1-β₂) overflows for |g| above about 6e17, where PyTorch's v
        # lasts to about 2e19; float64 is unaffected.)
        M, V, s = state["m"], state["v"], state["scratch"]
        c = math.sqrt((1.0 - b2) / (1.0 - b2**t))
        step = lr * (1.0 - b1) / ((1.0 - b1**t) * c)
        compiled = cpu_kernels(value, grad, M, V)
        if compiled is not None:  # the same passes as below, in one compiled loop
            compiled.adam(value, grad, M, V, b1, b2, self.eps / c, step)
            return
        M *= b1
        M += grad
        xp.multiply(grad, grad, out=s)
        V *= b2
        V += s
        xp.sqrt(V, out=s)
        s += self.eps / c
        xp.divide(M, s, out=s)
        s *= step
        value -= s

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019):
    θ ← θ (1 - α λ) before the Adam step, for regularised parameters only.

    Parameters
    ----------
    weight_decay : float
        λ, default 0.01. A learning rate with α·λ ≥ 1 (which would flip the weights' signs) is
        refused, here, by ``set_lr`` and at every step a schedule sets.
    """

    name = "adamw"

    def __init__(self, lr=None, weight_decay: float = 0.01, **kwargs):
        self.weight_decay = check_positive("weight_decay", weight_decay, allow_zero=True)
        super().__init__(lr, **kwargs)

    def set_lr(self, lr=None) -> None:
        """As ``Optimizer.set_lr``; raises ValueError, keeping the rate in force, when the new
        rate times ``weight_decay`` is 1 or more."""
        previous = getattr(self, "base_lr", None), getattr(self, "lr", None)
        super().set_lr(lr)
        try:
            self._check_decay(self.base_lr, "lr")
        except ValueError:
            self.base_lr, self.lr = previous
            raise

    def _check_decay(self, lr: float, what: str) -> None:
        """Refuse a rate whose shrink factor 1 − lr·weight_decay is not positive (it would
        flip the weights' signs): checked for ``set_lr`` and at every step, since a schedule
        or a callback may change the rate in force."""
        if lr * self.weight_decay >= 1:
            raise ValueError(f"{what} × weight_decay must be below 1 (each step multiplies the weights by "
                             f"1 − lr·weight_decay), got {lr:g} × {self.weight_decay:g}")

    def step(self, params):
        if self.weight_decay:
            lr = float(self.lr)  # a Python float, as the update's rate
            if lr != self.base_lr:
                self._check_decay(lr, "the learning rate in force")
            shrink = 1.0 - lr * self.weight_decay
            for p in params:
                if p.regularize:
                    p.value *= shrink
        super().step(params)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}
