"""The JSON description of a small network and one step on it (``chainrule explain --config``).

::

    {
      "x": [1, 2],                                   one example, or a list of rows
      "y": 0.8,                                      target(s) in the loss's format
      "layers": [
        {"W": [[0.5, 0.3], [0.2, 0.8]], "b": [0.1, 0.4], "activation": "sigmoid"},
        {"W": [[0.9, 0.7]], "b": [0.2], "activation": "sigmoid"}
      ],
      "loss": "mse",                                 optional, default "mse"
      "lr": 0.1,                                     optional, default 0.1
      "description": "..."                           optional
    }

``W`` is in the lecture's ``z = W x + b`` layout, shape (n_out, n_in); ``b`` may be omitted
(or null) for a layer without bias; ``activation`` defaults to ``"identity"`` (linear).
Every problem is reported in one line naming the layer and the field.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOP_FIELDS = ("x", "y", "layers", "loss", "lr", "description")
LAYER_FIELDS = ("W", "b", "activation")


@dataclass
class ExplainConfig:
    """A parsed config.

    Attributes
    ----------
    x : ndarray, shape (n, n_inputs)
    y : ndarray
        Targets with one row per example (a scalar becomes shape (1, 1)), checked against
        the network and the loss.
    layers : list of dict
        ``{"W": ndarray (n_out, n_in), "b": ndarray (n_out,) or None, "activation": str}``.
    loss : str
    lr : float
    description : str
    """

    x: np.ndarray
    y: np.ndarray
    layers: list
    loss: str
    lr: float
    description: str = ""

    def network(self):
        """A float64 ``Sequential`` of ``Dense.from_arrays`` layers and activations."""
        return build_network(self.layers)


def load_config(source, where: str | None = None) -> ExplainConfig:
    """Read and check a config from a path or an already-parsed dict.

    Raises
    ------
    ValueError, TypeError
        One line naming the file, the layer and the field; OSError when unreadable.
    """
    if isinstance(source, dict):
        return parse_config(source, where or "config")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); save "
                         "the config as UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return parse_config(data, where or str(path))


def parse_config(data, where: str = "config") -> ExplainConfig:
    """Check a parsed JSON object; see the module docstring for the format."""
    from ..layers import ACTIVATIONS
    from ..losses import LOSSES

    if not isinstance(data, dict):
        raise TypeError(f"{where}: expected a JSON object with x, y, layers, got {type(data).__name__}")
    unknown = [k for k in data if k not in TOP_FIELDS]
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (expected {', '.join(TOP_FIELDS)})")
    for key in ("x", "y", "layers"):
        if key not in data:
            raise ValueError(f"{where}: missing field {key!r}")
    x = _numbers(data["x"], f"{where}: field 'x'", ndim=(1, 2))
    x = x.reshape(1, -1) if x.ndim == 1 else x
    y = _numbers(data["y"], f"{where}: field 'y'", ndim=(0, 1, 2))
    loss = data.get("loss", "mse")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"{where}: field 'loss': unknown loss {loss!r}; choose one of: {', '.join(LOSSES.names())}")
    lr = data.get("lr", 0.1)
    real = not isinstance(lr, bool) and isinstance(lr, numbers.Real)
    if not real or not np.isfinite(_float(lr, f"{where}: field 'lr'")) or lr <= 0:
        raise ValueError(f"{where}: field 'lr': must be a number > 0, got {lr!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise TypeError(f"{where}: field 'description': must be a string, got {description!r}")
    layers_data = data["layers"]
    if not isinstance(layers_data, list) or not layers_data:
        raise ValueError(f"{where}: field 'layers': must be a non-empty list of {{\"W\", \"b\", \"activation\"}} objects")
    layers = []
    n_prev, prev_name = x.shape[1], f"x has {x.shape[1]} feature(s)"
    for l, spec in enumerate(layers_data, start=1):
        at = f"{where}: layer {l}"
        if not isinstance(spec, dict):
            raise TypeError(f"{at}: expected an object with W, b, activation, got {type(spec).__name__}")
        unknown = [k for k in spec if k not in LAYER_FIELDS]
        if unknown:
            raise ValueError(f"{at}: unknown field {unknown[0]!r} (expected {', '.join(LAYER_FIELDS)})")
        if "W" not in spec:
            raise ValueError(f"{at}: missing field 'W'")
        W = _numbers(spec["W"], f"{at}: field 'W'", ndim=(2,))
        if W.shape[1] != n_prev:
            raise ValueError(f"{at}: field 'W': has {W.shape[1]} column(s) (inputs) but {prev_name}; "
                             f"W must have shape (n_out, {n_prev})")
        b = spec.get("b")
        if b is not None:
            b = _numbers(b, f"{at}: field 'b'", ndim=(0, 1)).reshape(-1)
            if b.shape[0] != W.shape[0]:
                raise ValueError(f"{at}: field 'b': has {b.shape[0]} entr{'y' if b.shape[0] == 1 else 'ies'} "
                                 f"but W has {W.shape[0]} row(s)")
        activation = spec.get("activation", "identity")
        if not isinstance(activation, str):
            raise TypeError(f"{at}: field 'activation': must be a name, got {activation!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"{at}: field 'activation': unknown activation {activation!r}; "
                             f"choose one of: {', '.join(ACTIVATIONS.names())}")
        layers.append({"W": W, "b": b, "activation": activation})
        n_prev, prev_name = W.shape[0], f"layer {l} has {W.shape[0]} output(s)"
    config = ExplainConfig(x=x, y=y, layers=layers, loss=loss, lr=float(lr), description=description)
    config.y = _check_targets(config, where)
    return config


def build_network(layers):
    """A float64 ``Sequential`` from ``[{"W", "b", "activation"}, ...]`` (arrays already checked)."""
    from ..layers import Dense, get_activation
    from ..network import Sequential

    out = []
    for spec in layers:
        out.append(Dense.from_arrays(spec["W"], spec["b"]))
        if spec["activation"] not in ("identity", "linear", "none"):
            out.append(get_activation(spec["activation"]))
    return Sequential(out, dtype="float64")


def _check_targets(config: ExplainConfig, where: str) -> np.ndarray:
    """The targets with one row per example (checked against the loss), or a one-line error."""
    from ..losses import get_loss

    loss = get_loss(config.loss)
    n_out = config.layers[-1]["W"].shape[0]
    if loss.name == "cross_entropy" and n_out < 2:
        raise ValueError(f"{where}: layer {len(config.layers)}: field 'W': loss cross_entropy needs at least 2 "
                         f"outputs, but W has {n_out} row(s); use loss bce for one output")
    y = config.y
    if y.ndim == 0:
        y = y.reshape(1, 1)
    elif y.ndim == 1 and config.x.shape[0] == 1 and n_out > 1 and not loss.integer_targets(y):
        y = y.reshape(1, -1)
    if y.shape[0] != config.x.shape[0]:
        raise ValueError(f"{where}: field 'y': has {y.shape[0]} target(s) but x has {config.x.shape[0]} example(s)"
                         f"{_one_hot_hint(y, config.x.shape[0], n_out)}")
    try:
        loss.check_targets(y, n_out)
    except ValueError as exc:
        raise ValueError(f"{where}: field 'y': {exc} (loss {config.loss})") from None
    if config.loss in ("bce", "cross_entropy") and config.layers[-1]["activation"] in ("sigmoid", "softmax"):
        raise ValueError(f"{where}: layer {len(config.layers)}: field 'activation': loss {config.loss} takes "
                         f"logits and applies the {config.layers[-1]['activation']} itself; use \"identity\"")
    return y


def _one_hot_hint(y: np.ndarray, n_examples: int, n_out: int) -> str:
    """For one example whose target is written as a one-hot row ``[0, 1, 0]`` (read as three
    class indices): how to write it instead."""
    if n_examples != 1 or y.ndim != 1 or y.shape[0] != n_out or sorted(y.tolist()) != [0.0] * (n_out - 1) + [1.0]:
        return ""
    row = ", ".join(str(int(v)) for v in y)
    return (f"; for one example with the one-hot target [{row}], write it as a row [[{row}]] or as the class index "
            f"{int(np.argmax(y))}")


def _numbers(value, what: str, ndim) -> np.ndarray:
    """A finite float array from nested JSON lists, with a one-line error naming ``what``."""
    def check(v, path):
        if isinstance(v, list):
            return [check(item, f"{path}[{i}]") for i, item in enumerate(v)]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{what}: {path or 'value'} is {v!r}, not a number")
        if not np.isfinite(_float(v, f"{what}: {path or 'value'}")):
            raise ValueError(f"{what}: {path or 'value'} is {v!r}, not a finite number")
        return v

    checked = check(value, "")
    try:
        array = np.array(checked, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{what}: rows have different lengths") from None
    if array.ndim not in ndim:
        wanted = " or ".join({0: "a number", 1: "a list of numbers", 2: "a list of rows (a matrix)"}[d] for d in ndim)
        raise ValueError(f"{what}: expected {wanted}, got {array.ndim}-D data of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what}: is empty")
    return array


def _float(value, what: str) -> float:
    """``float(value)``, or a ValueError naming ``what`` for an integer too large for a float
    (JSON integers have any number of digits)."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{what} is an integer too large for a float (over 1.8e308)") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


__all__ = ["ExplainConfig", "build_network", "load_config", "parse_config"]
