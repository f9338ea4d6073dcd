"""The layer contract: ``Parameter`` and ``Layer``.

``Layer.forward(x, training=True) -> y`` caches what backward needs;
``Layer.backward(dy) -> dx`` *assigns* each parameter's ``.grad`` (no accumulation)
and raises when no training-mode forward preceded it.
"""

from __future__ import annotations

import numpy as np

from ..registry import Registry

LAYERS = Registry("layer")


class Parameter:
    """A trainable array and its gradient.

    Parameters
    ----------
    value : ndarray
        The array, updated in place by optimizers.
    name : str
        Short name used in reports (``"W"``, ``"b"``).
    regularize : bool
        Whether weight penalties (L1/L2, weight decay) apply; False for biases.

    Attributes
    ----------
    grad : ndarray, same shape as ``value``
        dL/d(value), written by the owning layer's ``backward``.
    """

    __slots__ = ("value", "grad", "name", "regularize")

    def __init__(self, value, name: str = "param", regularize: bool = True):
        self.value = value
        self.grad = value * 0
        self.name = name
        self.regularize = regularize

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def size(self) -> int:
        return int(self.value.size)

    def assign(self, value) -> None:
        """Replace the value (same shape), keeping dtype and device."""
        if tuple(value.shape) != tuple(self.value.shape):
            raise ValueError(f"{self.name}: shape {tuple(value.shape)} does not match {self.value.shape}")
        self.value[...] = value

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.value.shape}, dtype={self.value.dtype})"


class Layer:
    """Base class of all layers.

    Subclasses that declare a ``name`` class attribute join the layer registry, which
    the gradient tests and the model files iterate over.
    """

    name: str | None = None
    aliases: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYERS.add_if_named(cls)

    def parameters(self) -> list[Parameter]:
        """The layer's Parameters, in a fixed order (empty for activations)."""
        return []

    def forward(self, x, training: bool = True):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x, training: bool = True):
        return self.forward(x, training=training)

    def output_size(self, input_size: int) -> int:
        """The number of output features for ``input_size`` input features.

        Raises ValueError when the layer cannot take that many inputs.
        """
        return input_size

    def cast(self, xp, dtype) -> None:
        """Move parameters to the array module ``xp`` with ``dtype``, in place."""
        for p in self.parameters():
            p.value = xp.asarray(p.value, dtype=dtype)
            p.grad = xp.zeros_like(p.value)

    def get_config(self) -> dict:
        """JSON-serialisable constructor arguments (weights excluded)."""
        return {}

    def buffers(self) -> dict:
        """Non-trainable arrays that model files must keep (e.g. BatchNorm's running
        statistics), by name. Assign into them in place to restore."""
        return {}

    def sublayers(self) -> list:
        """Layers nested inside this one (a residual block's layers), in order."""
        return []

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Build a layer from ``get_config()`` output (weights are set afterwards)."""
        return cls(**config)

    @classmethod
    def example(cls, rng: np.random.Generator, n_features: int = 4) -> Layer:
        """A small instance taking ``n_features`` inputs, for tests and docs."""
        return cls()

    def _cached(self, value, what: str = "forward"):
        """Return a cached forward value, or raise if forward(training=True) did not run."""
        if value is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before {what}(x, training=True)"
            )
        return value

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def layer_to_spec(layer: Layer) -> dict:
    """``{"type": registry name, "config": get_config()}`` — enough to rebuild the layer
    (weights and buffers are stored separately, in ``parameters()`` / ``buffers()`` order)."""
    if not layer.name or layer.name not in LAYERS:
        raise ValueError(
            f"{layer!r} cannot be saved: only registered layers can be rebuilt from a file "
            "(a CustomActivation holds Python functions)"
        )
    return {"type": layer.name, "config": layer.get_config()}


def layer_from_spec(spec: dict) -> Layer:
    """Rebuild a layer from ``layer_to_spec`` output; raises ValueError for unknown types
    or bad configs, never runs anything but the registered constructor."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"a layer spec must be a dict with a 'type', got {spec!r}")
    cls = LAYERS.get(spec["type"])
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer {spec['type']!r}: config must be a dict, got {config!r}")
    try:
        return cls.from_config(config)
    except TypeError as exc:
        raise ValueError(f"layer {spec['type']!r}: bad config {config!r} ({exc})") from None
