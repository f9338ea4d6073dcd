"""Model files: weights in safetensors, architecture as JSON in the same file's header.

A model file is a plain safetensors file. Its tensors are the network's parameters and
buffers, named by where they live (``layers.0.W``, ``layers.0.b``, ``layers.3.1.W`` for the
second layer inside the residual block at position 3, ``layers.2.running_mean``); ``W`` keeps
the ``(n_out, n_in)`` layout of PyTorch's ``nn.Linear.weight``. Its metadata holds one JSON
document under the key ``"chainrule"``: format marker and version, chainrule's version, the
layer specs, dtype, the loss, a training summary, a SHA-256 of the record and the tensors
(``io_format.checksum``), and the caller's metadata (feature scaling, class labels...).

A fitted scikit-learn estimator of ``chainrule.estimators`` / ``chainrule.models`` is saved
the same way, with one more JSON record (``"estimator"``: class name, constructor parameters,
class labels, feature names) and its training curves as two more tensors (``io_curves``);
``load_model`` then returns the estimator.

A file loads on the CPU unless ``load_model``/``load_network`` are given ``device="cuda"``,
whatever device the model was trained on, and keeps its dtype on either (a float32 model
trained on a GPU is a float32 network on the CPU).

Nothing is ever unpickled and loading runs no code: layers are rebuilt only from the
registry of chainrule's own classes, estimators only from chainrule's own estimator classes.
Writes are atomic (temporary file in the same directory, flushed to disk, then renamed:
``chainrule.atomic``); a new file gets the usual permissions (``0o666`` less the umask), a
replaced one keeps its own (and its owner where allowed); a symbolic link's target is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .atomic import replacing
from .backend import array_module, assign, resolve_device, to_numpy
from .io_curves import curve_tensors, split_curves
from .io_format import FORMAT, FORMAT_VERSION, ModelFileError, checksum, read_file_header
from .io_limits import MAX_METADATA_DEPTH, check_header_size, check_nesting

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_METADATA_DEPTH", "ModelFileError", "load_model", "load_network",
           "read_header", "save_model", "tensors_of"]


def _walk(net):
    """(path name, layer) for every leaf layer, descending into ``sublayers()``."""
    def visit(layer, prefix):
        subs = layer.sublayers()
        if not subs:
            yield prefix, layer
        for j, sub in enumerate(subs):
            yield from visit(sub, f"{prefix}.{j}")

    for i, layer in enumerate(net.layers):
        yield from visit(layer, f"layers.{i}")


def tensors_of(net) -> dict[str, np.ndarray]:
    """Every parameter and buffer of ``net`` by its path name, as contiguous NumPy arrays.

    Parameters are named ``<path>.<Parameter.name>`` and buffers ``<path>.<buffer name>``,
    where ``<path>`` is ``layers.<i>`` (``layers.<i>.<j>`` inside a block), so any layer
    that declares ``parameters()``, ``buffers()`` and ``sublayers()`` is saved without
    changes here.
    """
    out: dict[str, np.ndarray] = {}
    for prefix, layer in _walk(net):
        for p in layer.parameters():
            out[f"{prefix}.{p.name}"] = np.ascontiguousarray(to_numpy(p.value))
        for name, value in layer.buffers().items():
            out[f"{prefix}.{name}"] = np.ascontiguousarray(to_numpy(value))
    return out


def _targets(net) -> dict:
    """Path name -> the Parameter or buffer array to assign a loaded tensor into."""
    out = {}
    for prefix, layer in _walk(net):
        for p in layer.parameters():
            out[f"{prefix}.{p.name}"] = p
        for name, value in layer.buffers().items():
            out[f"{prefix}.{name}"] = value
    return out


def _network_and_record(model):
    """The network to save and, for a chainrule estimator, its JSON record and its curves'
    tensors (none for a network)."""
    from .network import Sequential

    if isinstance(model, Sequential):
        return model, None, {}
    if hasattr(model, "get_params") and hasattr(model, "fit"):
        from .estimators.persist import estimator_record

        record = estimator_record(model)
        return model.network_, record, curve_tensors(model)
    raise TypeError(f"save_model needs a chainrule Sequential or a fitted chainrule estimator, "
                    f"got {type(model).__name__}")


def save_model(model, path, **metadata) -> Path:
    """Write a network or a fitted chainrule estimator to ``path`` atomically.

    Parameters
    ----------
    model : Sequential or chainrule estimator
        A ``Sequential``, or a fitted ``NeuralNetClassifier``/``NeuralNetRegressor``/
        ``LinearRegressionGD``/``LogisticRegressionGD``/``LinearSVMGD``.
    path : str or Path
        Conventionally ``*.chainrule`` (any name works).
    **metadata
        JSON-serialisable extras stored with the model (e.g. ``scaler_mean``, ``classes``);
        ``load_model`` puts them back as ``net.metadata``. A loaded model's ``metadata`` is
        written again, the keywords adding keys or replacing them.

    Returns
    -------
    Path

    Raises
    ------
    TypeError
        Unsaveable model (unfitted, foreign estimator) or metadata that is not JSON.
    ValueError
        A layer that cannot be rebuilt from a file (``CustomActivation``); a parameter or
        buffer holding NaN or infinities; an estimator's curves that disagree with its
        ``n_iter_`` or with each other; metadata that would make the header larger than
        the loader reads (16 MiB), or that nests lists and dicts more than
        ``MAX_METADATA_DEPTH`` (100) levels deep.
    FileNotFoundError
        The directory does not exist.
    OSError
        The file could not be written (a full disk: ``errno.ENOSPC``), naming ``path``; the
        file that was there is left as it was and no temporary file remains.
    ValueError, PermissionError
        ``path`` is an existing FIFO or device (never replaced), or a file or directory
        this process may not write (see ``chainrule.atomic.replacing``).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    from . import __version__
    from .layers import layer_to_spec

    path = Path(path)
    net, record, curves = _network_and_record(model)
    # a loaded model keeps what its file said (a CLI model's feature names and scaling), unless replaced
    metadata = {**(getattr(net, "metadata", None) or {}), **metadata}
    check_nesting(metadata)
    specs = [layer_to_spec(layer) for layer in net.layers]
    tensors = tensors_of(net)
    name = _first_not_finite(tensors)
    if name is not None:
        raise ValueError(f"cannot save {path}: tensor {name} holds NaN or infinite values (did the training diverge?)")
    tensors.update(curves)  # NaN is a curve's "no validation this epoch"
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
            # early stopping saved the best epoch's weights, not the last epoch's
            "restored_epoch": None if history.best_epoch is None else history.best_epoch + 1,
            # measured on the saved weights only when they are those the epoch ended with
            "restored_val_loss": (history.val_loss[history.best_epoch]
                                  if history.restored_from == "end" and history.val_loss else None),
        },
        "metadata": metadata,
    }
    if record is not None:
        document["estimator"] = record
    try:
        document = json.loads(json.dumps(document, allow_nan=True))  # hashed as the loader will read it
    except (TypeError, ValueError) as exc:
        raise TypeError(f"model metadata must be JSON-serialisable: {exc}") from None
    document["sha256"] = checksum(document, tensors)
    header = json.dumps(document, allow_nan=True)
    check_header_size(header, len(tensors), document)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name such as {path / 'model.chainrule'}")
    if not path.parent.exists():
        raise FileNotFoundError(f"directory does not exist: {path.parent}")
    with replacing(path, fsync=True) as tmp:
        try:
            save_file(tensors, str(tmp), metadata={"chainrule": header})
        except SafetensorError as exc:  # safetensors' writer reports a failed write (disk full) this way
            raise _write_error(exc, path) from None
    return path


def _write_error(exc: Exception, path: Path) -> OSError:
    """safetensors' ``SafetensorError`` for a failed write as an ``OSError`` naming ``path``,
    with the operating system's error number where the message gives it ("os error 28")."""
    import os
    import re

    found = re.search(r"os error (\d+)", str(exc))
    if found:
        number = int(found.group(1))
        return OSError(number, os.strerror(number), str(path))
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return OSError(f"{path} could not be written ({reason})")


def _first_not_finite(tensors: dict):
    """The name of the first tensor holding NaN or an infinity, or None."""
    return next((name for name, array in sorted(tensors.items()) if not np.isfinite(array).all()), None)


def _is_count(value) -> bool:
    return type(value) is int and value >= 0


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text(value) -> bool:
    return isinstance(value, str)


_TRAINING_FIELDS = {"epochs": (_is_count, "a count"), "final_loss": (_is_number, "a number"),
                    "final_val_loss": (_is_number, "a number"), "final_metric": (_is_number, "a number"),
                    "metric": (_is_text, "text"), "stop_reason": (_is_text, "text"),
                    "restored_epoch": (_is_count, "a count"), "restored_val_loss": (_is_number, "a number")}


def _training_summary(path, training):
    """The ``training`` record, type-checked: null, or an object whose known fields are
    null or of their kind."""
    if training is None:
        return None
    if not isinstance(training, dict):
        raise ModelFileError(f"{path}: the training record must be an object or null, got {training!r}")
    for key, (valid, kind) in _TRAINING_FIELDS.items():
        value = training.get(key)
        if value is not None and not valid(value):
            raise ModelFileError(f"{path}: the training record's {key} must be {kind} or null, got {value!r}")
    return training


def read_header(path) -> dict:
    """The chainrule JSON document of a model file, after checking that it is one
    (no tensor is read and nothing is built)."""
    return read_file_header(path)[1]


def load_network(path, device=None):
    """The ``Sequential`` stored in a model file (for an estimator's file: its network).

    The network carries ``metadata`` (the saved extras), ``training_summary`` and ``loss``.

    Parameters
    ----------
    path : str or Path
    device : {None, "cpu", "cuda"}, default None
        Where the network is put: None is the CPU, whatever device the model was trained
        on; "cuda" needs CuPy and a GPU. The file's dtype is kept either way.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign files, each with the reason.
    ValueError, RuntimeError
        An unknown device; "cuda" without CuPy or a GPU (before the file is read).
    """
    return _read(path, device)[0]


def load_model(path, device=None):
    """Load a model file: the fitted estimator when the file holds one (written by
    ``estimator.save``), otherwise the ``Sequential``.

    Parameters
    ----------
    path : str or Path
    device : {None, "cpu", "cuda"}, default None
        Where the network is put: None is the CPU, whatever device the model was trained
        on (a file loads anywhere); "cuda" puts it on the GPU (CuPy). The file's dtype is
        kept either way. A loaded estimator's ``device`` parameter is this device, so
        ``get_params`` describes the network it holds and ``partial_fit`` or a warm ``fit``
        continue there; its ``dtype`` is the recorded one, made explicit where None would
        mean another dtype on this device (a float32 GPU model on the CPU has
        ``dtype="float32"``).

    Notes
    -----
    A file holds no optimizer state and no random generator: a loaded estimator's
    ``partial_fit`` or warm ``fit`` continues the weights with a fresh optimizer (Adam's
    moments and step count start again) and a generator seeded anew from ``random_state``,
    so it does not train on exactly as the saved estimator would have (a pickled copy keeps
    both).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign files, each with the reason.
    ValueError, RuntimeError
        An unknown device; "cuda" without CuPy or a GPU (before the file is read).
    """
    net, document, curves = _read(path, device)
    record = document.get("estimator")
    if record is None:
        return net
    from .estimators.persist import estimator_from_record

    try:
        return estimator_from_record(record, net, curves)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {exc}") from None


def _read(path, device=None):
    """The network of a model file, its record and an estimator's curve tensors (by name)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from .layers import layer_from_spec
    from .losses import LOSSES
    from .network import Sequential

    device = resolve_device(device)
    array_module(device)  # "cuda" without CuPy or a GPU: say so before reading anything
    path = Path(path)
    _, document = read_file_header(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupted: {exc}") from None
    if checksum(document, tensors) != document.get("sha256"):
        what = "the weights do not" if document["format_version"] == 1 else "its record or weights do not"
        raise ModelFileError(f"{path} is corrupted: {what} match their checksum")
    tensors, curves = split_curves(tensors)
    name = _first_not_finite(tensors)
    if name is not None:
        raise ModelFileError(f"{path}: tensor {name} holds NaN or infinite values")
    try:
        layers = [layer_from_spec(spec) for spec in document["layers"]]
        net = Sequential(layers, dtype=document["dtype"], device=device)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the architecture record is invalid ({exc})") from None
    targets = _targets(net)
    if set(targets) != set(tensors):  # read_file_header compared the plan; this is the network built
        raise ModelFileError(f"{path}: weights do not match the network built from the architecture")
    for name, target in targets.items():
        value = tensors[name]
        array = target.value if hasattr(target, "value") else target
        if value.shape != tuple(array.shape):
            raise ModelFileError(f"{path}: {name} has shape {value.shape}, the architecture needs {tuple(array.shape)}")
        assign(array, value)  # onto the network's device
    for prefix, layer in _walk(net):
        for name, value in layer.buffers().items():
            try:
                layer.check_buffer(name, value)
            except ValueError as exc:
                raise ModelFileError(f"{path}: {prefix}.{name} is invalid ({exc})") from None
    loss = document.get("loss")
    if loss is not None:
        try:
            net.loss = LOSSES.get(loss["name"])(**loss.get("config", {}))
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise ModelFileError(f"{path}: the loss record is invalid ({exc})") from None
    metadata = document.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: the metadata record must be an object, got {type(metadata).__name__}")
    net.metadata = metadata
    net.training_summary = _training_summary(path, document.get("training"))
    return net, document, curves
