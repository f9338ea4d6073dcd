"""Residual blocks (He et al., 2016): ``y = x + F(x)``, with a learned projection
``y = W_s x + F(x)`` when ``F`` changes the number of features."""

from __future__ import annotations

import numpy as np

from .base import Layer, ShapePlan, chain_plans, layer_from_spec, layer_to_spec, spec_shape_plan
from .dense import Dense


class Residual(Layer):
    """A skip connection around a block of layers.

    Parameters
    ----------
    block : Layer or list of Layer
        ``F``, e.g. ``[Dense(32, 32), ReLU(), Dense(32, 32)]``.
    projection : {"auto", True, False}
        Add ``W_s`` (a bias-free Dense) on the skip path: when the block changes the
        feature count ("auto"), always (True) or never (False; then the sizes must match).
    rng : None, int or Generator
        Initial weights of the projection.

    Backward: ``dX = dX_block + dY`` (or ``+ dY W_s``) — the skip path carries the
    gradient past the block undiminished, which is why deep residual networks train.
    """

    name = "residual"

    def __init__(self, block, projection="auto", rng=None):
        block = [block] if isinstance(block, Layer) else list(block)
        if not block:
            raise ValueError("Residual needs a non-empty block of layers")
        for i, layer in enumerate(block):
            if not isinstance(layer, Layer):
                raise TypeError(f"Residual block item {i} must be a chainrule Layer, got {type(layer).__name__}")
        if isinstance(projection, (bool, np.bool_)):
            projection = bool(projection)
        elif not isinstance(projection, str) or projection != "auto":  # 1 == True, but is not a choice
            raise ValueError(f"projection must be 'auto', True or False, got {projection!r}")
        self.block = block
        self.n_in = next((getattr(layer, "n_in", None) for layer in block if getattr(layer, "n_in", None)), None)
        n_out = self._block_output(self.n_in)
        needs = self.n_in is not None and n_out != self.n_in
        if needs and projection is False:
            raise ValueError(
                f"Residual block maps {self.n_in} features to {n_out}, so x cannot be added to F(x); "
                "use projection='auto' (or make the block keep the width)"
            )
        if (projection is True or needs) and self.n_in is None:
            raise ValueError("Residual projection needs a block that starts with a sized layer (e.g. Dense)")
        self.projection = Dense(self.n_in, n_out, bias=False, rng=rng) if (projection is True or needs) else None

    def _block_output(self, size):
        if size is None:
            return None
        for i, layer in enumerate(self.block):
            try:
                size = layer.output_size(size)
            except ValueError as exc:
                raise ValueError(f"Residual block layer {i} ({type(layer).__name__}): {exc}") from None
        return size

    @classmethod
    def example(cls, rng, n_features=4):
        from .activations import Tanh

        return cls([Dense(n_features, 3, rng=rng), Tanh(), Dense(3, 5, rng=rng)], rng=rng)

    @classmethod
    def from_config(cls, config):
        block = [layer_from_spec(spec) for spec in config["block"]]
        return cls(block, projection=bool(config.get("projection", False)))

    @classmethod
    def shape_plan(cls, config):
        """As the constructor builds it: the block's layers (``0.W``...), then the projection
        ``W_s`` (``<len(block)>.W``, shape (block output, block input)) when there is one."""
        block = config.get("block")
        if not isinstance(block, list) or not block:
            raise ValueError("Residual needs a non-empty block of layers")
        plans = [spec_shape_plan(spec) for spec in block]
        tensors = {f"{j}.{name}": shape for j, plan in enumerate(plans) for name, shape in plan.tensors.items()}
        n_in = next((plan.n_in for plan in plans if plan.n_in), None)
        try:
            n_out = chain_plans(plans, n_in)
        except ValueError as exc:
            raise ValueError(f"Residual block {exc}") from None
        projection = bool(config.get("projection", False))
        if n_in is not None and n_out != n_in and not projection:
            raise ValueError(f"Residual block maps {n_in} features to {n_out}, so x cannot be added to F(x)")
        if not projection:
            return ShapePlan(tensors, n_in, n_out)
        if n_in is None:
            raise ValueError("Residual projection needs a block that starts with a sized layer (e.g. Dense)")
        tensors[f"{len(block)}.W"] = (n_out, n_in)
        return ShapePlan(tensors, n_in, n_out)

    def sublayers(self):
        return self.block + ([self.projection] if self.projection is not None else [])

    def parameters(self):
        return [p for layer in self.sublayers() for p in layer.parameters()]

    def buffers(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.sublayers()) for k, v in layer.buffers().items()}

    def check_buffer(self, name, value):
        index, _, inner = name.partition(".")  # "1.running_var": the block's second layer's buffer
        if index.isdigit() and int(index) < len(self.sublayers()):
            self.sublayers()[int(index)].check_buffer(inner, value)

    def cast(self, xp, dtype):
        for layer in self.sublayers():
            layer.cast(xp, dtype)

    def output_size(self, input_size):
        if self.n_in is not None and input_size != self.n_in:
            raise ValueError(f"Residual block takes {self.n_in} input features, got {input_size}")
        out = self._block_output(input_size)
        return out if self.projection is None else self.projection.n_out

    def forward(self, x, training=True):
        h = x
        for layer in self.block:
            h = layer.forward(h, training=training)
        skip = x if self.projection is None else self.projection.forward(x, training=training)
        return h + skip  # y = F(x) + x  (or + W_s x)

    def backward(self, dy):
        d = dy
        for layer in reversed(self.block):
            d = layer.backward(d)
        skip = dy if self.projection is None else self.projection.backward(dy)
        return d + skip  # dX = dF/dx·dY + dY

    def get_config(self):
        return {"block": [layer_to_spec(layer) for layer in self.block], "projection": self.projection is not None}

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.block)
        return f"Residual([{inner}]{', projection' if self.projection is not None else ''})"
