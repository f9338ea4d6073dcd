"""Inverted dropout (Srivastava et al., 2014)."""

from __future__ import annotations


from ..backend import namespace
from ..initializers import as_generator
from .base import Layer


class Dropout(Layer):
    """In training, zero each element with probability ``p`` and scale the rest by
    ``1/(1 - p)`` (so the expected activation is unchanged); identity at inference.

    Parameters
    ----------
    p : float
        Drop probability, in [0, 1).
    rng : None, int or numpy.random.Generator
        Source of the masks; the same seed gives the same masks.
    fixed_mask : bool
        Reuse the first mask drawn for each input shape (for gradient checks).
    """

    name = "dropout"

    def __init__(self, p: float = 0.5, rng=None, fixed_mask: bool = False):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"Dropout p must be in [0, 1), got {p!r}")
        self.p = float(p)
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
            keep = self.rng.random(x.shape) >= self.p
            self._kept = namespace(x).asarray(keep / (1.0 - self.p), dtype=x.dtype)
        self._mask = self._kept
        return x * self._mask

    def backward(self, dy):
        mask = self._cached(self._mask)
        return dy * mask  # dX = dY ⊙ mask / (1 - p)

    def get_config(self):
        return {"p": self.p}


__all__ = ["Dropout"]
