"""chainrule: feedforward neural networks trained by backpropagation written out by hand.

Samples are rows: ``X`` has shape (n_samples, n_features). ``Dense(n_in, n_out)`` holds
``W`` of shape (n_out, n_in) and computes ``Z = X Wᵀ + b`` (the lecture's ``z = W x + b``).
"""

from . import inspect, losses, optim
from .callbacks import (Callback, DivergenceError, EarlyStopping, EpochHook, ProgressBar, StopOnDivergence,
                        TrainingInterrupted)
from .initializers import (
    INITIALIZERS,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    SmallNormal,
    StandardNormal,
    SymmetricUniform,
)
from .layers import (
    ACTIVATIONS,
    LAYERS,
    Activation,
    BatchNorm,
    CustomActivation,
    Dense,
    Dropout,
    Identity,
    Layer,
    LeakyReLU,
    Parameter,
    ReLU,
    Residual,
    Sigmoid,
    Softmax,
    Tanh,
    XTanh,
)
from .losses import LOSSES
from .network import Sequential, mlp
from .optim import OPTIMIZERS
from .train import History

__version__ = "0.1.0"


def load(path, device=None):
    """Load a model file (no pickle, no code run): the ``Sequential`` written by
    ``Sequential.save``, or the fitted estimator written by an estimator's ``save``.

    ``device`` is where the network goes: None (the CPU, wherever the model was trained)
    or "cuda"; a loaded estimator's ``device`` parameter says which. Training a loaded
    estimator on (``partial_fit``, a warm ``fit``) starts a fresh optimizer and random
    generator: the file holds neither. See ``chainrule.io.load_model``."""
    from .io import load_model

    return load_model(path, device=device)


#: Submodules imported on first use (``cr.plot.loss_curve(...)`` after ``import chainrule as cr``),
#: so that importing chainrule does not import matplotlib, scikit-learn or the playground.
_LAZY_SUBMODULES = ("datasets", "estimators", "io", "metrics", "models", "plot")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))


__all__ = [
    "ACTIVATIONS", "INITIALIZERS", "LAYERS", "LOSSES", "OPTIMIZERS", "Activation", "BatchNorm", "Callback",
    "CustomActivation", "Dense", "DivergenceError", "Dropout", "GlorotNormal", "GlorotUniform",
    "HeNormal", "HeUniform", "SmallNormal", "StandardNormal", "SymmetricUniform", "EarlyStopping", "EpochHook", "History",
    "Identity", "Layer", "LeakyReLU", "Parameter", "ProgressBar", "ReLU", "Residual", "Sequential", "Sigmoid",
    "Softmax", "StopOnDivergence", "Tanh", "TrainingInterrupted", "XTanh", "inspect", "load", "losses", "mlp", "optim", "__version__",
]
