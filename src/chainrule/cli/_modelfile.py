"""Shared by ``predict`` and ``evaluate``: a model file as a model of table columns.

A model file holds either a network trained by ``chainrule train --data`` (its metadata
records the feature columns, feature and target scaling, the target column, the task and
the class labels) or a fitted scikit-learn estimator saved with ``estimator.save``. Both
become a ``TableModel``: raw feature columns in, labels or original units out.
"""

from __future__ import annotations

import numpy as np


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

    def output(self, X) -> np.ndarray:
        """Probabilities (classifiers), margins (hinge) or predictions in original units,
        shape (n, k)."""
        raise NotImplementedError

    def margins(self) -> bool:
        return self.network.loss is not None and self.network.loss.name == "hinge"

    def label_indices(self, X) -> np.ndarray:
        """Index into ``classes`` of each row's predicted class."""
        out = self.output(X)
        if out.shape[1] == 1:
            return (out[:, 0] > (0.0 if self.margins() else 0.5)).astype(int)
        return out.argmax(axis=1)

    def loss_value(self, X, y_index) -> float:
        """The model's own loss on rows with known class indices (classifiers)."""
        raise NotImplementedError

    def predictions_frame(self, X):
        """A DataFrame: ``prediction`` and, for classifiers, ``p_<class>`` (or ``margin``)."""
        import pandas as pd

        out = self.output(X)
        if self.task == "regression":
            if out.shape[1] == 1:
                return pd.DataFrame({"prediction": out[:, 0]})
            return pd.DataFrame({f"prediction_{i}": out[:, i] for i in range(out.shape[1])})
        frame = pd.DataFrame({"prediction": [self.classes[i] for i in self.label_indices(X)]})
        if self.margins():
            if out.shape[1] == 1:
                frame["margin"] = out[:, 0]
            else:
                for i, label in enumerate(self.classes):
                    frame[f"margin_{label}"] = out[:, i]
            return frame
        proba = np.column_stack([1 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out
        for i, label in enumerate(self.classes):
            frame[f"p_{label}"] = proba[:, i]
        return frame

    def metrics(self, X, y) -> dict:
        """Metrics on a labelled table: ``y`` holds class indices (classifiers) or values."""
        from ..metrics import r2_score

        out = {"rows": int(X.shape[0])}
        if self.task == "regression":
            pred = self.output(X)
            truth = np.asarray(y, dtype=float).reshape(pred.shape)
            error = pred - truth
            out.update(r2=float(r2_score(truth, pred)), mse=float(np.mean(error**2)),
                       rmse=float(np.sqrt(np.mean(error**2))), mae=float(np.mean(np.abs(error))))
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
    """A network written by ``chainrule train --data --save`` (or ``Sequential.save``)."""

    def __init__(self, net, metadata=None):
        meta = (getattr(net, "metadata", None) or {}) if metadata is None else metadata
        self.network = net
        self.features = meta.get("features")
        self.target = meta.get("target")
        self.task = meta.get("task") or ("regression" if net.loss is None or net.loss.task == "regression"
                                         else ("binary" if net.n_outputs == 1 else "multiclass"))
        classes = meta.get("classes")
        if self.task != "regression" and not classes:
            classes = list(range(max(2, net.n_outputs)))
        self.classes = classes
        if self.task != "regression":
            k, outputs = len(classes), net.n_outputs
            loss_task = net.loss.task if net.loss is not None else None
            if loss_task == "regression" or not (outputs == k or (k == 2 and outputs == 1)):
                raise ValueError(f"the model is a {self.task} model of {k} classes, but its network has {outputs} "
                                 f"output(s) trained with loss {getattr(net.loss, 'name', None)}: it cannot give "
                                 "class predictions (an older chainrule saved such files); train it again")
        d = net.n_inputs
        self.mean = np.asarray(meta.get("scaler_mean", np.zeros(d)), dtype=float)
        self.std = np.asarray(meta.get("scaler_std", np.ones(d)), dtype=float)
        self.target_mean = np.asarray(meta.get("target_mean", 0.0), dtype=float)
        self.target_std = np.asarray(meta.get("target_std", 1.0), dtype=float)
        if self.mean.shape != (d,) or self.std.shape != (d,) or not np.all(self.std > 0):
            raise ValueError(f"the model's feature scaling does not fit its {d} inputs")

    def scaled(self, X):
        return (X - self.mean) / self.std

    def output(self, X):
        out = self.network.predict(self.scaled(X))
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
        self.target = meta.get("target")
        if hasattr(estimator, "classes_"):
            self.classes = estimator.classes_.tolist()
            self.task = "binary" if len(self.classes) == 2 else "multiclass"
        else:
            self.classes, self.task = None, "regression"

    def _frame(self, X):
        if self.features is None:
            return X
        import pandas as pd

        return pd.DataFrame(X, columns=self.features)

    def output(self, X):
        X = self._frame(X)
        if self.task == "regression":
            out = self.estimator.predict(X)
            return out.reshape(len(out), -1)
        if self.margins():
            out = self.estimator.decision_function(X)
            return out.reshape(len(out), -1)
        proba = self.estimator.predict_proba(X)
        return proba[:, 1:] if proba.shape[1] == 2 else proba

    def loss_value(self, X, y_index):
        targets = self.estimator._targets(np.asarray(y_index))
        return float(self.network.evaluate(np.asarray(X, dtype=float), targets)["loss"])


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

    if model.task == "regression" and model.network.n_outputs > 1 and target is not None:
        raise ValueError(f"{model_path} predicts {model.network.n_outputs} targets; evaluating it on a table "
                         "supports single-target models only")
    # a model fitted on an array takes the columns by position: its recorded target is not one of them
    ignore = (model.target,) if target is None and model.features is None and model.target else ()
    table = load_table(data_path, target, task="regression" if model.task == "regression" else "classification",
                       features=model.features, classes=model.classes, ignore=ignore)
    if table.X.shape[1] != model.n_features:
        raise ValueError(f"{data_path} has {table.X.shape[1]} feature columns but {model_path} takes "
                         f"{model.n_features}")
    return table.X, table.y
