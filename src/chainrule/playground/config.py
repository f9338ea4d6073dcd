"""The playground's settings: their bounds, their defaults, and one parser for all of them.

The page keeps the whole setup in its URL as a query string (``?dataset=spiral&layers=8,8&...``)
and sends the same keys to the server, so one function checks a shared link, a form change and
a hand-written API call alike. Every value is bounded; a bad one gets a ``ValueError`` naming the
setting, the value and what is allowed, which the page shows as it is.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, replace

DATASETS = ("circle", "xor", "gauss", "spiral", "moons", "linear", "sine", "csv")
MULTICLASS_DATASETS = ("gauss", "spiral")  # the generators that can draw 3 or 4 classes
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "xtanh")
LOSSES = ("bce", "cross_entropy", "mse", "hinge")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
PROBLEMS = ("classification", "regression")
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
FEATURES_1D = ("x1", "x1sq", "sinx1")  # what a one-input dataset (sine) can offer

MAX_LAYERS, MAX_NEURONS = 6, 8
LR_RANGE = (1e-5, 10.0)
RATE_RANGE = (0.0, 10.0)
DROPOUT_RANGE = (0.0, 0.9)
BATCH_RANGE = (1, 1000)
NOISE_RANGE = (0, 50)
RATIO_RANGE = (10, 90)
POINTS_RANGE = (50, 1000)
CLASSES_RANGE = (2, 4)
SEED_RANGE = (0, 2**31 - 1)


@dataclass(frozen=True)
class Config:
    """One playground setup. Field names are the URL's query keys.

    Attributes
    ----------
    dataset : str
        One of ``DATASETS``; "csv" means the session's uploaded file.
    problem : {"classification", "regression"}
        Set by the built-in datasets themselves (sine is regression, the rest classification);
        the user's choice for an uploaded CSV.
    noise : int
        Noise level in percent, 0-50.
    ratio : int
        Percentage of the points used for training (the rest are the test set), 10-90.
    points : int
        Number of generated points, 50-1000.
    classes : int
        Number of classes for gauss and spiral, 2-4.
    seed : int
        Seeds the data, the initial weights and the shuffling: same seed, same run.
    layers : tuple of int
        Hidden layer widths, 0-6 layers of 1-8 neurons.
    act : tuple of str
        One activation per hidden layer.
    loss, opt : str
        Loss and optimizer names (chainrule registry names).
    lr : float
        Learning rate in [1e-5, 10].
    batch : int
        Mini-batch size, 1-1000 (at least the training-set size means full batch).
    reg : {"none", "l1", "l2"}
    rate : float
        Regularisation strength in [0, 10].
    dropout : float
        Drop probability of a Dropout layer after every hidden activation, in [0, 0.9]
        (0: no dropout).
    features : tuple of str
        The network's inputs, a non-empty subset of ``FEATURES``.
    """

    dataset: str = "circle"
    problem: str = "classification"
    noise: int = 10
    ratio: int = 50
    points: int = 400
    classes: int = 2
    seed: int = 0
    layers: tuple = (4, 2)
    act: tuple = ("tanh", "tanh")
    loss: str = "bce"
    opt: str = "sgd"
    lr: float = 0.03
    batch: int = 10
    reg: str = "none"
    rate: float = 0.0
    dropout: float = 0.0
    features: tuple = ("x1", "x2")

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression" (a CSV's class count is checked on upload)."""
        if self.problem == "regression":
            return "regression"
        if self.dataset in MULTICLASS_DATASETS and self.classes > 2:
            return "multiclass"
        return "binary"

    def to_dict(self) -> dict:
        """JSON-ready settings, lists written as the URL writes them."""
        out = asdict(self)
        out["layers"] = list(self.layers)
        out["act"] = list(self.act)
        out["features"] = list(self.features)
        return out

    def data_key(self) -> tuple:
        """The settings that decide the data set (a change regenerates it)."""
        return (self.dataset, self.problem, self.noise, self.ratio, self.points, self.classes, self.seed)


DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


def options() -> dict:
    """Choices and bounds, for the page to build its controls from."""
    return {
        "datasets": list(DATASETS), "multiclass_datasets": list(MULTICLASS_DATASETS),
        "activations": list(ACTIVATIONS), "losses": list(LOSSES), "optimizers": list(OPTIMIZERS),
        "regularizations": list(REGULARIZATIONS), "problems": list(PROBLEMS),
        "features": list(FEATURES), "features_1d": list(FEATURES_1D),
        "max_layers": MAX_LAYERS, "max_neurons": MAX_NEURONS, "lr": list(LR_RANGE),
        "rate": list(RATE_RANGE), "dropout": list(DROPOUT_RANGE), "batch": list(BATCH_RANGE), "noise": list(NOISE_RANGE),
        "ratio": list(RATIO_RANGE), "points": list(POINTS_RANGE), "classes": list(CLASSES_RANGE),
        "seed": list(SEED_RANGE), "default_loss": DEFAULT_LOSS, "defaults": Config().to_dict(),
    }


def parse_config(values, base: Config | None = None) -> Config:
    """Check ``values`` (a mapping of setting -> value, as numbers, lists or URL strings) and
    return the resulting ``Config``; settings not given keep ``base``'s (default: defaults),
    except that a loss or feature set not given which does not fit the data set is replaced
    by one that does (``DEFAULT_LOSS`` of the task; the one-input features for sine). A value
    that is given and does not fit is refused.

    Raises
    ------
    TypeError
        ``values`` is not a mapping.
    ValueError
        An unknown setting, or a value out of its range or choices (the message names it).
    TypeError
        A value of the wrong kind (a list where a number belongs, ...).
    """
    if not isinstance(values, dict):
        raise TypeError(f"settings must be a JSON object, got {type(values).__name__}")
    base = base or Config()
    known = set(Config().to_dict())
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}")
    given = dict(values)
    new = {}
    for key, (kind, *spec) in _SPECS.items():
        if key in given:
            new[key] = kind(key, given[key], *spec)
    if "layers" in new and "act" not in new:
        # a new depth with no activations given: keep the old ones, pad with the last (or tanh)
        old = list(base.act)
        fill = old[-1] if old else "tanh"
        new["act"] = tuple((old + [fill] * MAX_LAYERS)[: len(new["layers"])])
    config = replace(base, **new)
    if config.dataset != "csv":  # the built-in generators decide the problem themselves
        config = replace(config, problem="regression" if config.dataset == "sine" else "classification")
    config = _fit_unset(config, new)
    _check_consistent(config)
    return config


def _fit_unset(config: Config, given: dict) -> Config:
    """Adjust the settings not in ``given`` that do not fit the data set ("missing settings
    take defaults": ``?dataset=sine`` or ``?dataset=spiral&classes=3`` alone are complete)."""
    if "loss" not in given and config.dataset != "csv":  # a CSV's task is known once its file is read
        config = replace(config, loss=fitting_loss(config.loss, config.task, config.classes))
    if "features" not in given and config.dataset == "sine":
        kept = tuple(f for f in config.features if f in FEATURES_1D)
        config = replace(config, features=kept or ("x1",))
    return config


def _choice(name, value, choices):
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {_show(value)}")
    return value.strip().lower()


def _number(name, value, low, high, integer):
    shown = value
    if isinstance(value, str):
        text = shown = value.strip()
        try:
            value = int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number between {low} and {high}; got {_show(text)}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number between {low} and {high}; got {_show(value)}")
    # a Python int compares exactly with the bounds whatever its size (math.isfinite would
    # overflow converting a 400-digit one to a float)
    finite = isinstance(value, numbers.Integral) or math.isfinite(value)
    if not finite or not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {_show(shown)}")
    if integer:
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number between {low} and {high}; got {_show(value)}")
        return int(value)
    return float(value)


def _int(name, value, low, high):
    return _number(name, value, low, high, True)


def _float(name, value, low, high):
    return _number(name, value, low, high, False)


def _list(value, name, limit):
    if isinstance(value, str):
        text = value.strip()
        items = [] if text in ("", "none") else [part.strip() for part in text.split(",")]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise TypeError(f"{name} must be a comma-separated list; got {_show(value)}")
    if len(items) > limit:
        raise ValueError(f"{name} has {len(items)} entries; at most {limit} are allowed")
    return items


def _layers(name, value):
    items = _list(value, name, MAX_LAYERS)
    sizes = tuple(_int(f"{name} (hidden layer {i + 1} width)", item, 1, MAX_NEURONS) for i, item in enumerate(items))
    return sizes


def _acts(name, value):
    items = _list(value, name, MAX_LAYERS)
    return tuple(_choice(f"{name} (hidden layer {i + 1} activation)", item, ACTIVATIONS) for i, item in enumerate(items))


def _features(name, value):
    items = _list(value, name, len(FEATURES))
    chosen = [_choice(f"{name} entry", item, FEATURES) for item in items]
    if not chosen:
        raise ValueError("features: choose at least one input feature")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"features lists a feature twice: {', '.join(chosen)}")
    return tuple(f for f in FEATURES if f in chosen)  # canonical order


_SPECS = {
    "dataset": (_choice, DATASETS),
    "problem": (_choice, PROBLEMS),
    "noise": (_int, *NOISE_RANGE),
    "ratio": (_int, *RATIO_RANGE),
    "points": (_int, *POINTS_RANGE),
    "classes": (_int, *CLASSES_RANGE),
    "seed": (_int, *SEED_RANGE),
    "layers": (_layers,),
    "act": (_acts,),
    "loss": (_choice, LOSSES),
    "opt": (_choice, OPTIMIZERS),
    "lr": (_float, *LR_RANGE),
    "batch": (_int, *BATCH_RANGE),
    "reg": (_choice, REGULARIZATIONS),
    "rate": (_float, *RATE_RANGE),
    "dropout": (_float, *DROPOUT_RANGE),
    "features": (_features,),
}


def _check_consistent(config: Config) -> None:
    """Rules that tie settings together; each message says how to fix it."""
    if len(config.act) != len(config.layers):
        raise ValueError(
            f"act gives {len(config.act)} activation(s) for {len(config.layers)} hidden layer(s); "
            "give one per hidden layer"
        )
    if config.dataset == "sine":
        extra = [f for f in config.features if f not in FEATURES_1D]
        if extra:
            raise ValueError(
                f"the sine dataset has one input, so feature {extra[0]} is not available; "
                f"choose from {', '.join(FEATURES_1D)}"
            )
    if config.dataset != "csv":
        check_loss(config.loss, config.task, config.classes)


def fitting_loss(loss: str, task: str, classes: int) -> str:
    """``loss`` when it suits the task, else the task's default loss (``DEFAULT_LOSS``)."""
    try:
        check_loss(loss, task, classes)
    except ValueError:
        return DEFAULT_LOSS[task]
    return loss


def check_loss(loss: str, task: str, classes: int) -> None:
    """Raise unless ``loss`` suits the task ("binary", "multiclass", "regression")."""
    if task == "regression" and loss != "mse":
        raise ValueError(f"loss {loss} is for classification; a regression problem uses mse")
    if task == "multiclass" and loss in ("bce", "hinge"):
        raise ValueError(f"loss {loss} separates two classes; with {classes} classes use cross_entropy or mse")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
