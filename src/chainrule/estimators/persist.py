"""Estimators in model files: a JSON record of the constructor parameters and the fitted
state (classes, feature names) beside the network's weights, and the training curves as
tensors (``chainrule.io_curves``; in the record itself in version-1 records).

Only the estimator classes listed in ``ESTIMATORS`` can be restored, and only with their
own constructor parameters; nothing from the file is imported or executed.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..io_curves import check_curves_agree, curves_from_tensors

# version 2: loss_curve_ and validation_scores_ are tensors (version 1 kept them as JSON lists,
# whose header could pass the 16 MiB cap after some 800 000 epochs); both still load
RECORD_VERSION = 2
READABLE_RECORD_VERSIONS = (1, 2)


def estimator_classes() -> dict[str, type]:
    """The estimator classes a model file may name (chainrule's own, nothing else)."""
    from ..models import LinearRegressionGD, LinearSVMGD, LogisticRegressionGD
    from .classifier import NeuralNetClassifier
    from .regressor import NeuralNetRegressor

    classes = [NeuralNetClassifier, NeuralNetRegressor, LinearRegressionGD, LogisticRegressionGD, LinearSVMGD]
    return {cls.__name__: cls for cls in classes}


def _json_param(name, value):
    """A constructor parameter as JSON (tuples become lists, NumPy booleans booleans, a NumPy
    dtype its name; generators cannot be saved)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if name == "dtype" and isinstance(value, (np.dtype, type)):
        return np.dtype(value).name  # np.float32, np.dtype("float32"): "float32"; float: "float64"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (tuple, list, np.ndarray)) and all(isinstance(v, numbers.Integral) for v in value):
        return [int(v) for v in value]
    if name == "random_state":
        return None  # a RandomState/Generator object: it only seeds future fits
    raise TypeError(f"parameter {name}={value!r} cannot be stored in a model file (use numbers and names)")


def _optional_float(value):
    return None if value is None else float(value)


def _labels_record(classes: np.ndarray) -> dict:
    if classes.dtype.kind not in "biufUO":
        raise TypeError(f"class labels of dtype {classes.dtype} cannot be stored in a model file "
                        "(use numbers or strings)")
    values = classes.tolist()
    if classes.dtype == object and not all(isinstance(v, (str, bool, int, float)) for v in values):
        raise TypeError(f"class labels {values!r} cannot be stored in a model file (use numbers or strings)")
    return {"values": values, "dtype": "object" if classes.dtype == object else classes.dtype.str}


def estimator_record(estimator) -> dict:
    """The JSON record of a fitted chainrule estimator (weights and curves are stored
    separately: ``chainrule.io_curves.curve_tensors``)."""
    from sklearn.utils.validation import check_is_fitted

    name = type(estimator).__name__
    if estimator_classes().get(name) is not type(estimator):
        raise TypeError(f"{name} is not one of chainrule's estimators ({', '.join(estimator_classes())}); "
                        "save its .network_ instead")
    check_is_fitted(estimator, "network_")
    # the device is where training runs, not part of the file (a model loads on the CPU unless
    # load is given another device); dtype=None is checked against the network's device
    estimator._check_same_network("save writes get_params() beside the fitted network", "fit again first",
                                  ignore=("device",))
    _check_state_matches_network(estimator)
    params = {key: _json_param(key, value) for key, value in estimator.get_params(deep=False).items()}
    state = {
        "n_features_in_": int(estimator.n_features_in_),
        "best_validation_score_": _optional_float(getattr(estimator, "best_validation_score_", None)),
        "n_iter_": int(estimator.n_iter_),
    }
    if hasattr(estimator, "feature_names_in_"):
        state["feature_names_in_"] = [str(v) for v in estimator.feature_names_in_]
    if hasattr(estimator, "classes_"):
        state["classes_"] = _labels_record(estimator.classes_)
        if estimator._is_multilabel():
            state["multilabel"] = True  # absent: single-label (files written before multilabel)
    if hasattr(estimator, "n_outputs_"):
        state["n_outputs_"] = int(estimator.n_outputs_)
        state["single_output"] = bool(estimator._single_output)
    return {"version": RECORD_VERSION, "class": name, "params": params, "state": state}


def _check_state_matches_network(estimator) -> None:
    """Refuse to save a fitted state that does not describe the estimator's network (a file
    that could not be loaded, or would map outputs to the wrong classes)."""
    network, problems = estimator.network_, []
    if estimator.n_features_in_ != network.n_inputs:
        problems.append(f"n_features_in_={estimator.n_features_in_}, the network takes {network.n_inputs}")
    if hasattr(estimator, "classes_") and network.n_outputs != estimator._n_outputs():
        problems.append(f"{len(estimator.classes_)} classes, the network has {network.n_outputs} outputs")
    if hasattr(estimator, "n_outputs_") and estimator.n_outputs_ != network.n_outputs:
        problems.append(f"n_outputs_={estimator.n_outputs_}, the network has {network.n_outputs} outputs")
    if problems:
        raise ValueError(f"cannot save {type(estimator).__name__}: its fitted state does not match its network "
                         f"({'; '.join(problems)}); fit it again")


def _check_fitted_loss(estimator, network, where: str) -> None:
    """The loss the network was trained with (which predictions follow) must suit the
    estimator: a classification loss with the outputs its classes need and no final
    sigmoid/softmax it applies itself, or a regression loss."""
    from ..losses import REGRESSION
    from ..train_data import check_loss_head
    from .classifier import outputs_for, two_classes_only

    loss = network.loss
    if loss is None:
        raise ValueError(f"{where}: the file has no loss record, which the estimator's predictions follow")
    name = loss.name
    if (loss.task == REGRESSION) != (estimator._task == "regression"):
        raise ValueError(f"{where}: {type(estimator).__name__} needs a {estimator._task} loss, the network "
                         f"was trained with {name!r}")
    if estimator._task == "classification" and estimator._is_multilabel():
        from .classifier import multilabel_loss_error

        problem = multilabel_loss_error(type(loss))
        if problem:
            raise ValueError(f"{where}: {problem}")
        if network.n_outputs != len(estimator.classes_):
            raise ValueError(f"{where}: {len(estimator.classes_)} multilabel columns need as many network "
                             f"outputs, the network has {network.n_outputs}")
    elif estimator._task == "classification":
        k = len(estimator.classes_)
        if two_classes_only(type(loss)) and k != 2:
            raise ValueError(f"{where}: loss {name!r} is for 2 classes, the record has {k}")
        needed = outputs_for(type(loss), k)
        if network.n_outputs != needed:
            raise ValueError(f"{where}: {k} classes under loss {name!r} need {needed} network output(s), "
                             f"the network has {network.n_outputs}")
    check_loss_head(network, network.loss)


#: Layer config keys that hold a width.
_WIDTH_KEYS = ("n_in", "n_out", "n_features")


def _check_parameters_describe(estimator, network, where: str) -> None:
    """The network the recorded parameters build must be the file's, layer for layer (types
    and configs; weights aside): otherwise ``get_params``, ``clone`` and a re-saved file
    would describe another network.

    Both are compared at small widths: every width is replaced by its rank among the
    network's widths (input, hidden, output), which keeps what depends on widths being
    equal (a residual block's projection), so the check builds a network of a few dozen
    weights on the CPU whatever size the file's is, or its record claims."""
    from .inputs import hidden_sizes
    from ..layers import layer_to_spec

    hidden = hidden_sizes(estimator.hidden_layer_sizes)
    if len(hidden) > len(network.layers):  # every hidden layer adds at least one: refused before building
        raise ValueError(f"{where}: hidden_layer_sizes records {len(hidden)} hidden layers but the file's network "
                         f"has {len(network.layers)} layers in all")
    widths = [network.n_inputs, *hidden, network.n_outputs]
    rank = {width: i for i, width in enumerate(sorted(set(widths)), start=1)}
    reference = estimator._build_network(rank[widths[0]], rank[widths[-1]], hidden=[rank[w] for w in widths[1:-1]],
                                         device="cpu")
    expected = _either_bias_before_batch_norm([layer_to_spec(layer) for layer in reference.layers])
    found = _either_bias_before_batch_norm(_at_ranks([layer_to_spec(layer) for layer in network.layers], rank))
    if found != expected:
        shown = ", ".join(f"{key}={getattr(estimator, key)!r}" for key in
                          ("hidden_layer_sizes", "activation", "batch_norm", "dropout", "residual"))
        raise ValueError(f"{where}: the parameters ({shown}) build another network than the file's layers "
                         "(chainrule.load_network(path) reads the network alone)")


def _either_bias_before_batch_norm(value):
    """``value`` (layer specs, nested) with the bias flag of every Dense that feeds a BatchNorm
    left open: files saved before 2026-12-02 gave those layers a bias (which BatchNorm's mean
    subtraction cancels); both layouts are the network the parameters describe."""
    if isinstance(value, dict):
        return {key: _either_bias_before_batch_norm(item) for key, item in value.items()}
    if not isinstance(value, list):
        return value
    specs = [_either_bias_before_batch_norm(item) for item in value]
    for spec, following in zip(specs, specs[1:]):
        if (isinstance(spec, dict) and isinstance(following, dict) and spec.get("type") == "dense"
                and following.get("type") == "batch_norm" and isinstance(spec.get("config"), dict)):
            spec["config"] = {**spec["config"], "bias": "either"}
    return specs


def _at_ranks(value, rank: dict):
    """``value`` (layer specs, nested) with every width replaced by its rank (None where a
    width is not among the ranked ones: then the specs cannot match)."""
    if isinstance(value, dict):
        return {key: (rank.get(item) if key in _WIDTH_KEYS and type(item) is int else _at_ranks(item, rank))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_at_ranks(item, rank) for item in value]
    return value


def _list_of(record: dict, key: str, kind, where: str) -> list:
    values = record.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{where}: {key} must be a list of {'numbers' if kind is numbers.Real else kind.__name__}")
    return values


def _float(value, key: str, where: str) -> float:
    """A record's number as a float; a JSON integer past the float range (1e400) is a
    ValueError naming the field (``float`` raises OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: {key} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{where}: {key} holds an integer too large for a float") from None


def _floats(record: dict, key: str, where: str) -> list:
    """A record's list of numbers (absent: empty) as floats."""
    return [_float(v, key, where) for v in _list_of(record, key, numbers.Real, where)]


def estimator_from_record(record, network, curves=None):
    """Rebuild a fitted estimator around ``network`` from ``estimator_record`` output and
    the file's curve tensors ``curves`` (name -> array; none for a version-1 record, which
    holds its curves itself).

    The estimator describes the network it holds: its ``device`` is the network's (where
    the file was loaded, not where it was trained), its ``dtype`` stays as recorded (None
    included) where that means the network's dtype on this device and is the network's
    otherwise (a float32 GPU model loaded on the CPU has ``dtype="float32"``). Its fitted
    loss, which predictions follow, is the network's (the file's ``loss`` record): a file
    written before ``save`` refused a ``loss`` set after the fit may record another
    ``loss`` parameter, which then applies to the next new network only, as it would have
    before saving.

    The record holds no optimizer state or random generator: continued training
    (``partial_fit``, a warm ``fit``) starts a fresh optimizer and a generator seeded anew
    from ``random_state``, unlike a pickled estimator, which keeps both.

    Raises
    ------
    ValueError
        The record names an unknown class, unknown or invalid parameters, or a state that
        does not match the network; curves missing, in the wrong place or of lengths that
        disagree with ``n_iter_`` (version 2).
    """
    from sklearn.preprocessing import LabelEncoder

    from .inputs import as_generator

    where = "estimator record"
    version = record.get("version") if isinstance(record, dict) else None
    if type(version) is not int or version not in READABLE_RECORD_VERSIONS:
        newer = type(version) is int and version > RECORD_VERSION
        raise ValueError(f"{where}: unsupported version {version if isinstance(record, dict) else record!r}"
                         + (f" (this chainrule reads versions {' and '.join(map(str, READABLE_RECORD_VERSIONS))}); "
                            "it was written by a newer chainrule: upgrade chainrule to read it" if newer else ""))
    cls = estimator_classes().get(record.get("class")) if isinstance(record.get("class"), str) else None
    if cls is None:
        raise ValueError(f"{where}: unknown estimator class {record.get('class')!r} "
                         f"(chainrule restores only {', '.join(estimator_classes())})")
    params, state = record.get("params"), record.get("state")
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise TypeError(f"{where}: params and state must be objects")
    allowed = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: {cls.__name__} has no parameter(s) {', '.join(unknown)}")
    if isinstance(params.get("hidden_layer_sizes"), list):
        params = {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
    estimator = cls(**params)
    estimator._check_params()
    estimator.device = network.device  # (for the one-layer models, not a parameter: an attribute)
    if estimator._dtype() != network.dtype:
        estimator.dtype = network.dtype.name

    n_features = state.get("n_features_in_")
    if not isinstance(n_features, int) or n_features != network.n_inputs:
        raise ValueError(f"{where}: n_features_in_={n_features!r} does not match the network's {network.n_inputs} inputs")
    estimator.n_features_in_ = n_features
    if "feature_names_in_" in state:
        names = _list_of(state, "feature_names_in_", str, where)
        if len(names) != n_features or len(set(names)) != n_features:
            raise ValueError(f"{where}: feature_names_in_ must be {n_features} distinct names, got {names!r}")
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    best = state.get("best_validation_score_")  # absent from files written before it was recorded
    estimator.best_validation_score_ = None if best is None else _float(best, "best_validation_score_", where)
    n_iter = state.get("n_iter_", 0)
    if not isinstance(n_iter, int) or n_iter < 0:
        raise ValueError(f"{where}: n_iter_ must be a non-negative integer, got {n_iter!r}")
    estimator.n_iter_ = n_iter
    estimator.loss_curve_, estimator.validation_scores_ = _restore_curves(version, state, curves or {}, n_iter, where)

    if cls._task == "classification":
        estimator.classes_ = _restore_labels(state.get("classes_"), where)
        estimator._multilabel = _restore_multilabel(state, estimator.classes_, where)
        estimator._encoder = LabelEncoder()
        estimator._encoder.classes_ = estimator.classes_
        expected = estimator._n_outputs()
        if network.n_outputs != expected:
            raise ValueError(f"{where}: {len(estimator.classes_)} classes need {expected} network output(s), "
                             f"the network has {network.n_outputs}")
    else:
        n_outputs = state.get("n_outputs_")
        if not isinstance(n_outputs, int) or n_outputs != network.n_outputs:
            raise ValueError(f"{where}: n_outputs_={n_outputs!r} does not match the network's {network.n_outputs} outputs")
        estimator.n_outputs_ = n_outputs
        single = state.get("single_output", n_outputs == 1)
        if not isinstance(single, bool) or (single and n_outputs != 1):
            raise ValueError(f"{where}: single_output must be true or false (true for one output), got {single!r}")
        estimator._single_output = single
    _check_fitted_loss(estimator, network, where)
    estimator._rng = as_generator(estimator.random_state)
    _check_parameters_describe(estimator, network, where)
    estimator.network_ = network
    # the network as loaded (device and dtype above, the loss it was trained with: the file's
    # loss record, which predictions follow) is what a partial_fit or warm fit continues
    estimator._built_with = estimator._network_params()
    if network.loss is not None:
        estimator._built_with["loss"] = network.loss.name
    estimator._rng = as_generator(estimator.random_state)
    estimator._optimizer = None  # not in the file: a later partial_fit / warm fit starts a fresh one
    return estimator


def _restore_curves(version: int, state: dict, curves: dict, n_iter: int, where: str) -> tuple[list, list]:
    """``loss_curve_`` and ``validation_scores_``: a version-1 record's JSON lists (checked
    as they always were), or a version-2 file's tensors, whose lengths must agree with
    ``n_iter_`` and with each other as a fit leaves them."""
    if version == 1:
        if curves:
            raise ValueError(f"{where}: a version 1 record keeps its curves itself, but the file also holds "
                             f"tensor(s) {', '.join(sorted(curves))}")
        return _floats(state, "loss_curve_", where), _floats(state, "validation_scores_", where)
    losses, scores = curves_from_tensors(state, curves, where)
    check_curves_agree(n_iter, losses, scores, where)
    return losses, scores


def _restore_multilabel(state: dict, classes: np.ndarray, where: str) -> bool:
    """The record's ``multilabel`` flag (absent: False); a multilabel classifier's classes
    are the label columns' indices, ``arange(n_labels)``."""
    multilabel = state.get("multilabel", False)
    if not isinstance(multilabel, bool):
        raise ValueError(f"{where}: multilabel must be true or false, got {multilabel!r}")
    if multilabel and not np.array_equal(classes, np.arange(len(classes))):
        raise ValueError(f"{where}: a multilabel classifier's classes_ must be 0 .. n_labels - 1, "
                         f"got {classes.tolist()!r}")
    return multilabel


def _restore_labels(record, where: str) -> np.ndarray:
    if not isinstance(record, dict) or not isinstance(record.get("values"), list):
        raise TypeError(f"{where}: classes_ must be an object with a list of values")
    values, dtype = record["values"], record.get("dtype")
    if len(values) < 2 or not all(isinstance(v, (str, bool, int, float)) for v in values):
        raise ValueError(f"{where}: classes_ must hold at least 2 numbers or strings, got {values!r}")
    if any(isinstance(v, float) and not np.isfinite(v) for v in values):
        raise ValueError(f"{where}: classes_ must not hold NaN or infinity, got {values!r}")
    if any(isinstance(v, str) and not _encodable(v) for v in values):
        raise ValueError(f"{where}: classes_ holds a label that is not valid Unicode text (a lone surrogate)")
    labels = _labels_array(values, dtype, where)
    _check_sorted_and_distinct(labels, where)
    return labels


def _encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (JSON's ``\\ud800`` escapes decode to lone
    surrogates, which cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _labels_array(values: list, dtype, where: str) -> np.ndarray:
    if dtype == "object":
        labels = np.empty(len(values), dtype=object)
        labels[:] = values
        return labels
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{where}: classes_ has an invalid dtype {dtype!r}") from None
    if kind.kind not in "biufU" or kind.itemsize > 4096:
        raise ValueError(f"{where}: classes_ has an unsupported dtype {dtype!r}")
    try:
        labels = np.asarray(values, dtype=kind)
    except (TypeError, ValueError, OverflowError):
        labels = None
    if labels is None or labels.tolist() != values:  # 0.5 as an int64 label would be 0, "ab" as <U1 "a"
        raise ValueError(f"{where}: classes_ values do not fit dtype {dtype}: {values!r}")
    return labels


def _check_sorted_and_distinct(labels: np.ndarray, where: str) -> None:
    """Class labels as a fit leaves them: sorted and distinct (``np.unique``), which the label
    encoder's ``searchsorted`` relies on: unsorted labels would be mapped to the wrong outputs."""
    try:
        ordered = np.unique(labels)
    except TypeError:
        raise ValueError(f"{where}: classes_ must be labels of one sortable kind, got {labels.tolist()!r}") from None
    if len(ordered) != len(labels) or not all(a == b for a, b in zip(ordered.tolist(), labels.tolist())):
        raise ValueError(f"{where}: classes_ must be sorted and distinct, got {labels.tolist()!r}")
