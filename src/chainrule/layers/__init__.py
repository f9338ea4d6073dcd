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
from .base import LAYERS, Layer, Parameter
from .dense import Dense

__all__ = [
    "ACTIVATIONS", "LAYERS", "Activation", "CustomActivation", "Dense", "Identity", "Layer",
    "LeakyReLU", "Parameter", "ReLU", "Sigmoid", "Softmax", "Tanh", "XTanh", "get_activation",
]
