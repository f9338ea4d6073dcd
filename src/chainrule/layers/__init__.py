"""Layers: the contract (``Layer``, ``Parameter``), ``Dense`` and the activations."""

from .activations import (
    ACTIVATIONS,
    Activation,
    CustomActivation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    XTanh,
    get_activation,
)
from .base import LAYERS, Layer, Parameter, ShapePlan, layer_from_spec, layer_to_spec, spec_shape_plan
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout
from .residual import Residual

__all__ = [
    "ACTIVATIONS", "LAYERS", "Activation", "BatchNorm", "CustomActivation", "Dense", "Dropout", "Identity", "Layer",
    "LeakyReLU", "Parameter", "layer_from_spec", "layer_to_spec", "ReLU", "Residual", "ShapePlan", "Sigmoid", "Softmax",
    "spec_shape_plan", "Tanh", "XTanh", "get_activation",
]
