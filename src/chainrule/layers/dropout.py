"""Inverted dropout (Srivastava et al., 2014)."""

from __future__ import annotations

import numpy as np

from ..backend import namespace
from ..initializers import as_generator
from ..validation import check_fraction
from .base import Layer


class Dropout(Layer):
    """In training, zero each element with probability ``p`` and scale the rest by
    ``1/(1 - p)`` (so the expected activation is unchanged); identity at inference.

    Parameters
    ----------
    p : float
        Drop probability, in [0, 1).
    rng : None, int or numpy.random.Generator
        Source of the masks; the same seed gives the same masks. On a GPU the masks are
        drawn there, by a CuPy generator seeded once from ``rng`` (so they differ from the
        CPU's masks for the same seed).
    fixed_mask : bool
        Keep the mask drawn while the input's shape stays the same (a new shape draws a
        new one): the gradient checks need the same mask in every forward pass.
    """

    name = "dropout"
    _device_rng = None  # CuPy generator, made on the first forward pass on a GPU

    def __init__(self, p: float = 0.5, rng=None, fixed_mask: bool = False):
        self.p = check_fraction("Dropout p", p)
        self.rng = as_generator(rng)
        self.fixed_mask = bool(fixed_mask)
        self._mask = None
        self._kept = None

    @classmethod
    def example(cls, rng, n_features=4):
        return cls(0.3, rng=rng, fixed_mask=True)

    def forward(self, x, training=True):
        if not training or self.p == 0:
            self._mask = None if not training else 1.0
            return x
        if not (self.fixed_mask and self._kept is not None and self._kept.shape == x.shape):
            self._kept = self._draw_mask(x)
        self._mask = self._kept
        return x * self._mask

    def _draw_mask(self, x):
        """``keep / (1 - p)`` with ``keep ~ Bernoulli(1 - p)``, same shape and dtype as ``x``,
        drawn where ``x`` lives (no host draw and copy per batch on a GPU)."""
        if isinstance(x, np.ndarray):
            keep = self.rng.random(x.shape) >= self.p
            return np.asarray(keep / (1.0 - self.p), dtype=x.dtype)
        if self._device_rng is None:
            self._device_rng = namespace(x).random.default_rng(int(self.rng.integers(2**63)))
        mask = (self._device_rng.random(x.shape, dtype=x.dtype) >= self.p).astype(x.dtype)
        mask *= 1.0 / (1.0 - self.p)
        return mask

    def __getstate__(self):
        # CuPy's generator holds a lock and cannot be pickled or copied: a copy seeds its own
        state = dict(self.__dict__)
        state.pop("_device_rng", None)
        return state

    def backward(self, dy):
        mask = self._cached(self._mask)
        return dy * mask  # dX = dY ⊙ mask / (1 - p)

    def get_config(self):
        return {"p": self.p}


__all__ = ["Dropout"]
