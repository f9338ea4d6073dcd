"""Shared by ``predict`` and ``evaluate``: a model file as a model of table columns.

A model file holds either a network trained by ``chainrule train --data`` (its metadata
records the feature columns, feature and target scaling, the target column, the task and
the class labels) or a fitted scikit-learn estimator saved with ``estimator.save``. Both
become a ``TableModel``: raw feature columns in, labels or original units out.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..datasets.tabular import HEADER_NOT_COUNTED


class TableModel:
    """A loaded model with the preprocessing of its file.

    Attributes
    ----------
    features : list of str or None
        The feature columns, in order (None: every column but the target, by position).
    n_features : int
    target : str or None
        The target column recorded in the file.
    task : {"binary", "multiclass", "regression"}
    classes : list or None
        Class labels, in output order.
    network : Sequential
    """

    features: list | None
    target: str | None
    task: str
    classes: list | None

    @property
    def n_features(self) -> int:
        return self.network.n_inputs

    def raw(self, X) -> np.ndarray:
        """One pass of the model, shape (n, k): a classifier's outputs before the loss's link
        (logits or margins), a regression model's predictions in the target's units."""
        raise NotImplementedError

    def output(self, X) -> np.ndarray:
        """The outputs through the loss's link (σ of each logit for BCE, one column for two
        classes; softmax for cross-entropy), margins (hinge) or predictions in original units,
        shape (n, k)."""
        return self._output_from(self.raw(X))

    def probabilities(self, X) -> np.ndarray:
        """Class probabilities, shape (n, len(classes)), each computed from the logits."""
        return self._probabilities_from(self.raw(X))

    def margins(self) -> bool:
        return self.network.loss is not None and self.network.loss.name == "hinge"

    def label_indices(self, X) -> np.ndarray:
        """Index into ``classes`` of each row's predicted class."""
        return self._indices(self.raw(X))

    def _output_from(self, raw) -> np.ndarray:
        """``output`` from ``raw``'s array: the loss's link applied (σ or softmax), margins
        and regression predictions as they are."""
        loss = self.network.loss
        if self.task == "regression" or self.margins() or loss is None:
            return raw
        with np.errstate(over="ignore", under="ignore"):
            return loss.link(raw)

    def _probabilities_from(self, raw) -> np.ndarray:
        loss = self.network.loss
        if loss is None:  # a network saved before any fit: its outputs as they are
            return np.column_stack([1 - raw[:, 0], raw[:, 0]]) if raw.shape[1] == 1 else raw
        with np.errstate(over="ignore", under="ignore"):
            if self.task == "multilabel":
                return loss.label_probabilities(raw)
            return loss.class_probabilities(raw)

    def _indices(self, raw) -> np.ndarray:
        """``label_indices`` from ``raw``'s array: the class of a positive logit or margin, or
        of the largest output, as ``Sequential.predict_classes`` decides (a probability of
        0.5 can still be class 1: σ(z) rounds to 0.5 for |z| < 1e-17)."""
        threshold = 0.5 if self.network.loss is None else 0.0  # unfitted: the outputs are all there is
        if raw.shape[1] == 1:
            return (raw[:, 0] > threshold).astype(int)
        return raw.argmax(axis=1)

    def loss_value(self, X, y_index) -> float:
        """The model's own loss on rows with known class indices (classifiers)."""
        raise NotImplementedError

    def predictions_frame(self, X):
        """A DataFrame: ``prediction`` and, for classifiers, ``p_<class>`` (or ``margin``);
        one pass of the model."""
        import pandas as pd

        raw = self.raw(X)
        if self.task == "multilabel":
            return self._multilabel_frame(raw)
        if self.task == "regression":
            if raw.shape[1] == 1:
                return pd.DataFrame({"prediction": raw[:, 0]})
            return pd.DataFrame({f"prediction_{i}": raw[:, i] for i in range(raw.shape[1])})
        frame = pd.DataFrame({"prediction": [self.classes[i] for i in self._indices(raw)]})
        if self.margins():
            if raw.shape[1] == 1:
                frame["margin"] = raw[:, 0]
            else:
                for i, label in enumerate(self.classes):
                    frame[f"margin_{label}"] = raw[:, i]
            return frame
        proba = self._probabilities_from(raw)
        for i, label in enumerate(self.classes):
            frame[f"p_{label}"] = proba[:, i]
        return frame

    def _multilabel_frame(self, raw):
        """A multilabel classifier's rows: ``prediction_<label>`` (0/1: a positive logit or
        margin) and ``p_<label>`` (or ``margin_<label>``) for each label column."""
        import pandas as pd

        values = self._output_from(raw)
        frame = pd.DataFrame({f"prediction_{label}": (raw[:, i] > 0).astype(np.int64)
                              for i, label in enumerate(self.classes)})
        name = "margin" if self.margins() else "p"
        for i, label in enumerate(self.classes):
            frame[f"{name}_{label}"] = values[:, i]
        return frame

    def metrics(self, X, y) -> dict:
        """Metrics on a labelled table: ``y`` holds class indices (classifiers) or values. R² is
        None where it is undefined (fewer than 2 rows)."""
        from ..metrics import r2_score

        out = {"rows": int(X.shape[0])}
        if self.task == "regression":
            pred = self.output(X)
            truth = np.asarray(y, dtype=float).reshape(pred.shape)
            with np.errstate(over="ignore", invalid="ignore"):  # predictions past ~1e154: inf, not warnings
                error = pred - truth
                out.update(r2=float(r2_score(truth, pred)) if len(truth) >= 2 else None,  # undefined for one row
                           mse=float(np.mean(error**2)), rmse=float(np.sqrt(np.mean(error**2))),
                           mae=float(np.mean(np.abs(error))))
            return out
        predicted = self.label_indices(X)
        k = len(self.classes)
        counts = np.zeros((k, k), dtype=int)
        np.add.at(counts, (np.asarray(y, dtype=int), predicted), 1)
        out.update(loss=self.loss_value(X, y), loss_name=self.network.loss.name if self.network.loss else None,
                   accuracy=float(np.mean(predicted == y)),
                   confusion_matrix={"labels": list(self.classes), "counts": counts.tolist()})
        return out


class NetworkFile(TableModel):
    """A network written by ``chainrule train --data --save`` (or ``Sequential.save``).

    Raises
    ------
    ValueError
        Metadata that does not describe the network (each field is type-checked: a file
        may have been written by hand), or a class model whose network cannot give classes.
    """

    def __init__(self, net, metadata=None):
        meta = (getattr(net, "metadata", None) or {}) if metadata is None else metadata
        self.network = net
        d = net.n_inputs
        self.features = _names(meta, "features", d)
        self.target = _optional(meta, "target", str, "a column name")
        self.task = _optional(meta, "task", str, "binary, multiclass or regression") or (
            "regression" if net.loss is None or net.loss.task == "regression"
            else ("binary" if net.n_outputs == 1 else "multiclass"))
        if self.task not in TASKS:
            raise ValueError(f"metadata task must be one of {', '.join(TASKS)}, got {self.task!r}")
        classes = _labels(meta)
        if self.task != "regression" and classes is None:
            classes = list(range(max(2, net.n_outputs)))
        if self.task != "regression":
            _check_classes(classes)
        self.classes = classes
        if self.task != "regression":
            k, outputs = len(classes), net.n_outputs
            loss_task = net.loss.task if net.loss is not None else None
            if loss_task == "regression" or not (outputs == k or (k == 2 and outputs == 1)):
                raise ValueError(f"the model is a {self.task} model of {k} classes, but its network has {outputs} "
                                 f"output(s) trained with loss {getattr(net.loss, 'name', None)}: it cannot give "
                                 "class predictions (an older chainrule saved such files); train it again")
        self.mean = _scaling(meta, "scaler_mean", np.zeros(d), ((d,),))
        self.std = _scaling(meta, "scaler_std", np.ones(d), ((d,),), positive=True)
        outputs = ((), (net.n_outputs,))  # one value for every output, or one per output
        self.target_mean = _scaling(meta, "target_mean", np.asarray(0.0), outputs)
        self.target_std = _scaling(meta, "target_std", np.asarray(1.0), outputs, positive=True)

    def scaled(self, X):
        """``(X - mean) / std`` with the stored scaling; a ValueError naming the column and the
        data row where a finite value overflows there (|x| near 1e308)."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = (X - self.mean) / self.std
        bad = ~np.isfinite(out)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            name = self.features[col] if self.features else f"feature {col + 1}"
            raise ValueError(f"feature column {name!r} holds {X[row, col]:.6g} in data row {row + 1}"
                             f"{HEADER_NOT_COUNTED}: too large for "
                             f"the model's scaling (mean {float(self.mean[col]):.6g}, std {float(self.std[col]):.6g}), "
                             "it overflows")
        return out

    def raw(self, X):
        out = self.network.predict(self.scaled(X), link=False)
        if self.task == "regression":
            return out * self.target_std + self.target_mean
        return out

    def loss_value(self, X, y_index):
        y = np.where(np.asarray(y_index) > 0, 1, -1) if self.margins() else y_index
        return float(self.network.evaluate(self.scaled(X), y)["loss"])


class EstimatorFile(TableModel):
    """A fitted chainrule estimator saved with ``estimator.save``."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.network = estimator.network_
        meta = self.network.metadata or {}
        names = getattr(estimator, "feature_names_in_", None)
        self.features = None if names is None else [str(n) for n in names]
        self.target = _optional(meta, "target", str, "a column name")
        if getattr(estimator, "_multilabel", False):  # one 0/1 decision per label column
            self.classes = [int(c) for c in estimator.classes_]
            self.task = "multilabel"
        elif hasattr(estimator, "classes_"):
            self.classes = _check_classes(estimator.classes_.tolist(), "the estimator's classes")
            self.task = "binary" if len(self.classes) == 2 else "multiclass"
        else:
            self.classes, self.task = None, "regression"

    def _frame(self, X):
        if self.features is None:
            return X
        import pandas as pd

        return pd.DataFrame(X, columns=self.features)

    def raw(self, X):
        X = self._frame(X)
        if self.task == "regression":
            out = self.estimator.predict(X)
            return out.reshape(len(out), -1)
        return self.estimator._raw_output(X, link=False)

    def loss_value(self, X, y_index):
        targets = self.estimator._targets(np.asarray(y_index))
        return float(self.network.evaluate(np.asarray(X, dtype=float), targets)["loss"])


TASKS = ("binary", "multiclass", "regression")


def _optional(meta: dict, key: str, kind: type, what: str):
    """``meta[key]``, None when absent, else of type ``kind``."""
    value = meta.get(key)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"metadata {key} must be {what}, got {value!r}")
    return value


def _names(meta: dict, key: str, count: int):
    """A list of ``count`` distinct column names, or None."""
    names = meta.get(key)
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"metadata {key} must be a list of column names, got {names!r}")
    if len(names) != count or len(set(names)) != count:
        raise ValueError(f"metadata {key} must name the network's {count} input columns once each, got {names!r}")
    return names


def _labels(meta: dict):
    """The class labels (distinct strings, finite numbers or booleans), or None."""
    labels = meta.get("classes")
    if labels is None:
        return None
    if not isinstance(labels, list) or not all(isinstance(v, (str, numbers.Real)) for v in labels):
        raise ValueError(f"metadata classes must be a list of labels (strings or numbers), got {labels!r}")
    if any(isinstance(v, float) and not np.isfinite(v) for v in labels):
        raise ValueError(f"metadata classes must not hold NaN or infinity, got {labels!r}")
    if len({(type(v), v) for v in labels}) != len(labels):
        raise ValueError(f"metadata classes must be distinct, got {labels!r}")
    return labels


def _check_classes(labels: list, what: str = "metadata classes") -> list:
    """``labels`` after refusing what a classifier's predictions cannot be written with: fewer
    than 2 classes (the outputs index past them), or text that is not valid Unicode (a lone
    surrogate such as "\\ud800", which JSON can spell but UTF-8 cannot encode)."""
    if len(labels) < 2:
        raise ValueError(f"{what} must name at least 2 classes for a classifier, got {labels!r}")
    for label in labels:
        if isinstance(label, str):
            try:
                label.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{what} hold the label {label!r}, which is not valid Unicode text "
                                 "(a lone surrogate); it cannot be written as UTF-8") from None
    return labels


def _scaling(meta: dict, key: str, default: np.ndarray, shapes: tuple, positive: bool = False) -> np.ndarray:
    """A scaling vector (or scalar) of finite floats whose shape is one of ``shapes``
    (> 0 when ``positive``); ``default`` when absent."""
    value = meta.get(key)
    if value is None:
        return default
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        raise ValueError(f"metadata {key} must hold numbers, got {value!r}")
    try:
        array = np.asarray(value, dtype=float)
    except OverflowError:
        raise ValueError(f"metadata {key} holds an integer too large for a float") from None
    if array.shape not in shapes:
        counts = sorted({int(np.prod(shape)) for shape in shapes})
        sizes = " or ".join(map(str, counts)) + (" number" if counts == [1] else " numbers")
        raise ValueError(f"metadata {key} must hold {sizes} for this network, got {value!r}")
    if not np.all(np.isfinite(array)) or (positive and not np.all(array > 0)):
        raise ValueError(f"metadata {key} must be finite{' and > 0' if positive else ''}, got {value!r}")
    return array


def open_model(path) -> TableModel:
    """Load a model file as a ``TableModel``.

    Raises
    ------
    FileNotFoundError, OSError
        No such file, or one that cannot be opened (each names the file).
    ModelFileError
        Anything else, naming the file in one line: a file that is not a chainrule model,
        metadata that does not describe the network, and any other failure to load (the
        command line prints a line, never a traceback).
    """
    from .. import load
    from ..io import ModelFileError
    from ..network import Sequential

    try:
        model = load(path)
        return NetworkFile(model) if isinstance(model, Sequential) else EstimatorFile(model)
    except (ModelFileError, OSError, MemoryError):
        raise
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        raise ModelFileError(f"{path}: {_first_line(exc)}") from None
    except Exception as exc:  # a failure nobody foresaw: still one line that names the file
        raise ModelFileError(f"{path} could not be loaded ({type(exc).__name__}: {_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def read_table_for(model: TableModel, model_path, data_path, target=None):
    """Read the model's feature columns (and ``target``) from a table.

    Returns
    -------
    X : ndarray, shape (n, d)
        Raw feature values, in the model's column order.
    y : ndarray or None
        Class indices into ``model.classes``, or target values.
    """
    from ..datasets import load_table
    from ._output import print_warnings

    if model.task == "regression" and model.network.n_outputs > 1 and target is not None:
        raise ValueError(f"{model_path} predicts {model.network.n_outputs} targets; evaluating it on a table "
                         "supports single-target models only")
    # a model fitted on an array takes the columns by position: its recorded target is not one of them
    ignore = (model.target,) if target is None and model.features is None and model.target else ()
    table = load_table(data_path, target, task="regression" if model.task == "regression" else "classification",
                       features=model.features, classes=model.classes, ignore=ignore, warn=False)
    if table.X.shape[1] != model.n_features:
        raise ValueError(f"{data_path} has {table.X.shape[1]} feature columns but {model_path} takes "
                         f"{model.n_features}")
    print_warnings(table.warnings)  # after the checks: an error stays one line
    return table.X, table.y
