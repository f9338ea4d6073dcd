"""Model files: weights in safetensors, architecture as JSON in the same file's header.

A model file is a plain safetensors file. Its tensors are the network's parameters and
buffers, named by where they live (``layers.0.W``, ``layers.0.b``, ``layers.3.1.W`` for the
second layer inside the residual block at position 3, ``layers.2.running_mean``); ``W`` keeps
the ``(n_out, n_in)`` layout of PyTorch's ``nn.Linear.weight``. Its metadata holds one JSON
document under the key ``"chainrule"``: format marker and version, chainrule's version, the
layer specs, dtype, the loss, a training summary, a SHA-256 of the tensor data, and the
caller's metadata (feature scaling, class labels...).

Nothing is ever unpickled and loading runs no code: layers are rebuilt only from the
registry of chainrule's own classes. Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from .backend import to_numpy

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024


class ModelFileError(ValueError):
    """The file is not a readable chainrule model (names the file and what is wrong)."""


def tensors_of(net) -> dict[str, np.ndarray]:
    """Every parameter and buffer of ``net`` by its path name, as contiguous NumPy arrays."""
    out: dict[str, np.ndarray] = {}

    def visit(layer, prefix):
        for p in layer.parameters() if not layer.sublayers() else []:
            out[f"{prefix}.{p.name}"] = np.ascontiguousarray(to_numpy(p.value))
        for name, value in (layer.buffers().items() if not layer.sublayers() else []):
            out[f"{prefix}.{name}"] = np.ascontiguousarray(to_numpy(value))
        for j, sub in enumerate(layer.sublayers()):
            visit(sub, f"{prefix}.{j}")

    for i, layer in enumerate(net.layers):
        visit(layer, f"layers.{i}")
    return out


def _targets(net) -> dict:
    """Path name -> (owner, attribute kind, key) for assigning loaded arrays in place."""
    out = {}

    def visit(layer, prefix):
        subs = layer.sublayers()
        if not subs:
            for p in layer.parameters():
                out[f"{prefix}.{p.name}"] = p
            for name, value in layer.buffers().items():
                out[f"{prefix}.{name}"] = value
        for j, sub in enumerate(subs):
            visit(sub, f"{prefix}.{j}")

    for i, layer in enumerate(net.layers):
        visit(layer, f"layers.{i}")
    return out


def _checksum(tensors: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].tobytes())
    return digest.hexdigest()


def save_model(net, path, **metadata) -> Path:
    """Write ``net`` to ``path`` atomically.

    Parameters
    ----------
    net : Sequential
    path : str or Path
        Conventionally ``*.chainrule`` (any name works).
    **metadata
        JSON-serialisable extras stored with the model (e.g. ``scaler_mean``, ``classes``).

    Returns
    -------
    Path
    """
    from safetensors.numpy import save_file

    from . import __version__
    from .layers import layer_to_spec

    path = Path(path)
    specs = [layer_to_spec(layer) for layer in net.layers]
    tensors = tensors_of(net)
    history = net.history
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "chainrule_version": __version__,
        "dtype": net.dtype.name,
        "layers": specs,
        "loss": None if net.loss is None else {"name": net.loss.name, "config": net.loss.get_config()},
        "training": None if history is None else {
            "epochs": history.epochs,
            "final_loss": history.loss[-1] if history.loss else None,
            "final_val_loss": history.val_loss[-1] if history.val_loss else None,
            "metric": history.metric_name,
            "final_metric": history.metric[-1] if history.metric else None,
            "stop_reason": history.stop_reason,
        },
        "sha256": _checksum(tensors),
        "metadata": metadata,
    }
    try:
        header = json.dumps(document, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None
    if not path.parent.exists():
        raise FileNotFoundError(f"directory does not exist: {path.parent}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata={"chainrule": header})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_header(path) -> dict:
    """The chainrule JSON document of a model file, after checking that it is one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such model file: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file")
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = handle.read(8)
        if len(start) < 8:
            raise ModelFileError(f"{path} is not a chainrule model file: it is {'empty' if size == 0 else f'only {size} bytes'}")
        (length,) = struct.unpack("<Q", start)
        if length > MAX_HEADER or length > size - 8:
            if start[:1] == b"\x80" or start[:2] == b"PK":
                raise ModelFileError(
                    f"{path} is not a chainrule model file: it looks like a pickle or zip archive "
                    "(chainrule never loads pickles)"
                )
            raise ModelFileError(f"{path} is not a chainrule model file (not safetensors, or truncated)")
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{path} is not a chainrule model file: its header is not valid JSON") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or "chainrule" not in meta:
        raise ModelFileError(f"{path} is a safetensors file from another tool: it has no chainrule architecture")
    try:
        document = json.loads(meta["chainrule"])
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: the chainrule architecture record is not valid JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: unknown format marker {document.get('format') if isinstance(document, dict) else document!r}")
    if document.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {document.get('format_version')!r} is not supported "
            f"(this chainrule reads version {FORMAT_VERSION})"
        )
    return document


def load_model(path):
    """Rebuild a ``Sequential`` from a model file written by ``save_model``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign files, each with the reason.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from .layers import layer_from_spec
    from .losses import LOSSES
    from .network import Sequential

    path = Path(path)
    document = read_header(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupted: {exc}") from None
    if _checksum(tensors) != document.get("sha256"):
        raise ModelFileError(f"{path} is corrupted: the weights do not match their checksum")
    try:
        layers = [layer_from_spec(spec) for spec in document["layers"]]
        net = Sequential(layers, dtype=document["dtype"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the architecture record is invalid ({exc})") from None
    targets = _targets(net)
    if set(targets) != set(tensors):
        missing, extra = sorted(set(targets) - set(tensors)), sorted(set(tensors) - set(targets))
        raise ModelFileError(f"{path}: weights do not match the architecture (missing {missing}, unexpected {extra})")
    for name, target in targets.items():
        value = tensors[name]
        array = target.value if hasattr(target, "value") else target
        if value.shape != tuple(array.shape):
            raise ModelFileError(f"{path}: {name} has shape {value.shape}, the architecture needs {tuple(array.shape)}")
        array[...] = value
    loss = document.get("loss")
    if loss is not None:
        try:
            net.loss = LOSSES.get(loss["name"])(**loss.get("config", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: the loss record is invalid ({exc})") from None
    net.metadata = document.get("metadata", {})
    net.training_summary = document.get("training")
    return net
