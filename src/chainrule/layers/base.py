"""The layer contract: ``Parameter`` and ``Layer``.

``Layer.forward(x, training=True) -> y`` caches what backward needs;
``Layer.backward(dy) -> dx`` *assigns* each parameter's ``.grad`` (no accumulation)
and raises when no training-mode forward preceded it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend import assign, convert, namespace
from ..registry import Registry

LAYERS = Registry("layer")


class ShapePlan(NamedTuple):
    """What a layer built from a config holds and takes, found without building it.

    Attributes
    ----------
    tensors : dict of str to tuple of int
        Shape of every parameter and buffer, by the name a model file gives it below the
        layer's path (``"W"``, ``"running_mean"``, ``"0.W"`` for a block's first layer).
    n_in : int or None
        The input features the layer takes (None: any number).
    n_out : int or None
        The output features it gives (None: as many as it takes).
    """

    tensors: dict
    n_in: int | None
    n_out: int | None


def config_size(config: dict, key: str) -> int:
    """``config[key]`` when it is a positive int (not a bool, not a float such as 3.0 or
    1e12: a model file's sizes are written as integers); ValueError otherwise."""
    value = config.get(key)
    if type(value) is not int or value < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return value


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
        """Replace the value in place (same shape), keeping dtype and device; ``value`` may
        be a NumPy or a CuPy array."""
        if tuple(value.shape) != tuple(self.value.shape):
            raise ValueError(f"{self.name}: shape {tuple(value.shape)} does not match {self.value.shape}")
        assign(self.value, value)

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.value.shape}, dtype={self.value.dtype})"


class FlatStorage:
    """Every Parameter of a network held as views of one contiguous value buffer and one
    contiguous gradient buffer, so that element-wise optimizer updates, last-good-weights
    copies and finiteness checks run once over all parameters instead of once per array.

    Parameters
    ----------
    params : list of Parameter
        Distinct Parameters, in order; their values are copied in and each Parameter's
        ``value`` and ``grad`` are rebound to views (same shapes, dtype ``dtype``).
    xp : module
        numpy or cupy.
    dtype : numpy.dtype

    Attributes
    ----------
    value, grad : ndarray, shape (total_size,)
        The flat buffers; ``params[i].value`` is ``value[o_i:o_i + n_i].reshape(shape_i)``.
    """

    def __init__(self, params, xp, dtype):
        self.params = list(params)
        total = sum(p.size for p in self.params)
        self.value = xp.empty(total, dtype=dtype)
        self.grad = xp.zeros(total, dtype=dtype)
        self._spans = []
        offset = 0
        for p in self.params:
            n = p.size
            self._spans.append((offset, n, tuple(p.shape)))
            view = self.value[offset : offset + n].reshape(p.shape)
            view[...] = p.value
            p.value, p.grad = view, self.grad[offset : offset + n].reshape(p.shape)
            offset += n
        self._values = [p.value for p in self.params]
        self._grads = [p.grad for p in self.params]

    def __reduce__(self):
        # pickle and deepcopy would store each Parameter's value as an array of its own, no
        # longer a view of the copied buffer (so the optimizer would update an orphan):
        # rebuild the storage from the copied Parameters instead
        return _repacked, (self.params, self.value.dtype.str)

    def intact(self, params) -> bool:
        """True while ``params`` are this storage's Parameters, in order, and none has had
        its ``value`` or ``grad`` replaced by another array."""
        if len(params) != len(self._values):
            return False
        for p, v, g in zip(params, self._values, self._grads):
            if p.value is not v or p.grad is not g:
                return False
        return True

    def split(self, flat) -> list:
        """Views of a flat array of the same layout, one per parameter (its shape)."""
        return [flat[o : o + n].reshape(shape) for o, n, shape in self._spans]

    @classmethod
    def pack(cls, params, xp, dtype):
        """Pack ``params`` (None when empty or when a Parameter appears twice)."""
        params = list(params)
        if not params or len({id(p) for p in params}) != len(params):
            return None
        return cls(params, xp, dtype)


def _repacked(params, dtype) -> FlatStorage:
    """A FlatStorage over ``params`` (unpickled or deep-copied) with their values and
    gradients as they are."""
    grads = [p.grad for p in params]
    flat = FlatStorage(params, namespace(params[0].value), np.dtype(dtype))
    for p, grad in zip(params, grads):
        p.grad[...] = grad
    return flat


class ParameterList(list):
    """A list of Parameters that may carry their shared ``FlatStorage`` (``flat``)."""

    def __init__(self, params=(), flat=None):
        super().__init__(params)
        self.flat = flat

    def packed(self):
        """The FlatStorage when it still holds exactly these Parameters, else None."""
        flat = self.flat
        return flat if flat is not None and flat.intact(self) else None


class Layer:
    """Base class of all layers.

    Subclasses that declare a ``name`` class attribute join the layer registry, which
    the gradient tests and the model files iterate over.
    """

    name: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def min_training_batch(self) -> int:
        """The fewest samples a training batch may have: 1, or the most any nested layer
        needs (BatchNorm's batch variance needs 2; it sets this as a class attribute)."""
        return max((layer.min_training_batch for layer in self.sublayers()), default=1)

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
        """Move parameters to the array module ``xp`` (numpy or cupy) with ``dtype``: from
        the host to a GPU, or back."""
        for p in self.parameters():
            p.value = convert(p.value, xp, dtype)
            p.grad = xp.zeros_like(p.value)

    def get_config(self) -> dict:
        """JSON-serialisable constructor arguments (weights excluded)."""
        return {}

    def buffers(self) -> dict:
        """Non-trainable arrays that model files must keep (e.g. BatchNorm's running
        statistics), by name. Restore one with ``assign_buffer``.

        Return the arrays the layer uses now, with the same names, shapes and dtypes on
        every call. A layer may update a buffer in place or replace it by a new array
        (``self.mean = 0.9 * self.mean + ...``): ``fit``'s records of the network's state
        (the last good state after a divergence, ``EarlyStopping``'s best epoch) read the
        buffers through this method each time, and restore them by writing into the arrays
        it returns then."""
        return {}

    def assign_buffer(self, name: str, value) -> None:
        """Set the buffer ``name`` in place from ``value`` (same shape; a NumPy or CuPy
        array, moved to the buffer's device and dtype)."""
        buffers = self.buffers()
        if name not in buffers:
            raise KeyError(f"{type(self).__name__} has no buffer {name!r}; it has: {', '.join(buffers) or 'none'}")
        target = buffers[name]
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(f"{name}: shape {tuple(value.shape)} does not match {tuple(target.shape)}")
        self.check_buffer(name, value)
        assign(target, value)

    def check_buffer(self, name: str, value) -> None:
        """Raise ValueError when ``value`` cannot be the buffer ``name`` (a BatchNorm
        variance below 0); every buffer value is acceptable unless a layer says otherwise."""

    def sublayers(self) -> list:
        """Layers nested inside this one (a residual block's layers), in order."""
        return []

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """Build a layer from ``get_config()`` output (weights are set afterwards)."""
        return cls(**config)

    @classmethod
    def shape_plan(cls, config: dict) -> ShapePlan:
        """The tensors a layer built from ``config`` would hold, and its input and output
        sizes, found without building it (no array is allocated).

        Model files compare this plan with the file's tensor table before building any
        layer, so that a forged header cannot make the loader allocate a huge network. A
        layer without parameters, buffers or sublayers needs nothing here. A layer class
        that has them should override this; otherwise the layer is built from ``config``
        to read them (which allocates what the config asks for).
        """
        if not _holds_arrays(cls):
            return ShapePlan({}, None, None)
        layer = cls.from_config(config)
        n_in = getattr(layer, "n_in", None)
        return ShapePlan(tensor_shapes(layer), n_in, None if n_in is None else layer.output_size(n_in))

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


def _spec_parts(spec) -> tuple[type, dict]:
    """The registered class and the config of a layer spec (ValueError when malformed)."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ValueError(f"a layer spec must be a dict with a 'type', got {spec!r}")
    cls = LAYERS.get(spec["type"])
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer {spec['type']!r}: config must be a dict, got {config!r}")
    return cls, config


def layer_from_spec(spec: dict) -> Layer:
    """Rebuild a layer from ``layer_to_spec`` output; raises ValueError for unknown types
    or bad configs, never runs anything but the registered constructor."""
    cls, config = _spec_parts(spec)
    try:
        return cls.from_config(config)
    except TypeError as exc:
        raise ValueError(f"layer {spec['type']!r}: bad config {config!r} ({exc})") from None


def spec_shape_plan(spec: dict) -> ShapePlan:
    """``shape_plan`` of the layer a spec describes, without building it (ValueError for
    unknown types or bad configs)."""
    cls, config = _spec_parts(spec)
    try:
        return cls.shape_plan(config)
    except TypeError as exc:
        raise ValueError(f"layer {spec['type']!r}: bad config {config!r} ({exc})") from None


def chain_plans(plans, size: int | None) -> int | None:
    """The output size of layers in sequence given ``size`` input features (None: not
    fixed), checking that each takes what the one before gives.

    Raises
    ------
    ValueError
        Naming the first layer (by position) that cannot take its input.
    """
    for i, plan in enumerate(plans):
        if plan.n_in is not None and size is not None and size != plan.n_in:
            raise ValueError(f"layer {i} cannot take {size} input features: it takes {plan.n_in}")
        size = plan.n_out if plan.n_out is not None else size
    return size


def tensor_shapes(layer: Layer) -> dict:
    """Shape of every parameter and buffer of a built layer, named as in ``ShapePlan``."""
    subs = layer.sublayers()
    if subs:
        return {f"{j}.{name}": shape for j, sub in enumerate(subs) for name, shape in tensor_shapes(sub).items()}
    shapes = {p.name: tuple(p.shape) for p in layer.parameters()}
    shapes.update({name: tuple(value.shape) for name, value in layer.buffers().items()})
    return shapes


def plans_by_building(cls: type) -> bool:
    """Whether ``cls.shape_plan`` has to build the layer (a class with arrays of its own that
    does not override it): the loader then checks its config's numbers against the file first."""
    return _holds_arrays(cls) and getattr(cls.shape_plan, "__func__", None) is Layer.shape_plan.__func__


def _holds_arrays(cls: type) -> bool:
    """Whether a layer class declares parameters, buffers or sublayers of its own."""
    return any(getattr(cls, name) is not getattr(Layer, name) for name in ("parameters", "buffers", "sublayers"))
