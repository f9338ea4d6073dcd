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
from .base import LAYERS, Layer, Parameter, layer_from_spec, layer_to_spec
from .dense import Dense

__all__ = [
    "ACTIVATIONS", "LAYERS", "Activation", "CustomActivation", "Dense", "Identity", "Layer",
    "LeakyReLU", "Parameter", "layer_from_spec", "layer_to_spec", "ReLU", "Sigmoid", "Softmax", "Tanh", "XTanh", "get_activation",
]
