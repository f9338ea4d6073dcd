"""Weight initialisers: the seeds' three and Glorot/Xavier and He, normal and uniform.

Each takes ``(shape, rng)`` with ``shape = (n_out, n_in)`` and returns a float64 array.
"""

from __future__ import annotations

import numpy as np

from .registry import Registry

INITIALIZERS = Registry("initialiser")


class Initializer:
    """Base: subclasses set ``name`` and implement ``__call__(shape, rng)``."""

    name: str | None = None
    aliases: tuple[str, ...] = ()
    formula = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        INITIALIZERS.add_if_named(cls)

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


def _fans(shape):
    n_out, n_in = shape
    return n_in, n_out


class StandardNormal(Initializer):
    """W ~ N(0, 1), as in seed 000 (``np.random.randn``)."""

    name, aliases, formula = "normal", ("randn", "standard_normal"), "N(0, 1)"

    def __call__(self, shape, rng):
        return rng.standard_normal(shape)


class SmallNormal(Initializer):
    """W ~ N(0, 1)·0.01, as in seed 002's ``SimpleNeuralNetwork``."""

    name, aliases, formula = "small_normal", ("normal_0.01",), "N(0, 1)·0.01"

    def __call__(self, shape, rng):
        return rng.standard_normal(shape) * 0.01


class SymmetricUniform(Initializer):
    """W ~ U(-1, 1), as in seed 001 (``2 * np.random.random(...) - 1``)."""

    name, formula = "uniform", "U(-1, 1)"

    def __call__(self, shape, rng):
        return rng.uniform(-1.0, 1.0, size=shape)


class GlorotNormal(Initializer):
    """W ~ N(0, 2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    name, aliases, formula = "glorot_normal", ("xavier_normal",), "N(0, 2/(n_in+n_out))"

    def __call__(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))


class GlorotUniform(Initializer):
    """W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""

    name, aliases, formula = "glorot_uniform", ("xavier_uniform", "xavier", "glorot"), "U(±√(6/(n_in+n_out)))"

    def __call__(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)


class HeNormal(Initializer):
    """W ~ N(0, 2 / fan_in) (He et al., 2015), for ReLU networks."""

    name, aliases, formula = "he_normal", ("kaiming_normal",), "N(0, 2/n_in)"

    def __call__(self, shape, rng):
        fan_in, _ = _fans(shape)
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


class HeUniform(Initializer):
    """W ~ U(-a, a), a = sqrt(6 / fan_in)."""

    name, aliases, formula = "he_uniform", ("kaiming_uniform", "he"), "U(±√(6/n_in))"

    def __call__(self, shape, rng):
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)


def as_generator(rng) -> np.random.Generator:
    """A Generator from None, an int seed or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def initialize(init, shape, rng) -> np.ndarray:
    """Draw an initial weight array with a named or callable initialiser."""
    if callable(init) and not isinstance(init, str):
        values = np.asarray(init(shape, as_generator(rng)), dtype=np.float64)
        if values.shape != tuple(shape):
            raise ValueError(f"initialiser returned shape {values.shape}, expected {tuple(shape)}")
        return values
    return INITIALIZERS.create(init)(shape, as_generator(rng))
