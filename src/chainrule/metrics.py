"""Per-epoch metrics for ``History``: accuracy for classification losses, R² otherwise.

Each metric accumulates over the batches of an epoch and is exact for full-batch runs.
"""

from __future__ import annotations

import numpy as np

from .backend import namespace, to_numpy
from .losses import REGRESSION, Loss

METRICS = ("accuracy", "r2")


def default_metric(loss: Loss) -> str:
    """``"accuracy"`` for classification losses, ``"r2"`` for regression losses."""
    return "r2" if loss.task == REGRESSION else "accuracy"


def make_metric(name, loss: Loss, y_all):
    """Build the metric named ``name`` ("auto", "accuracy", "r2" or None) for a fit."""
    if name is None:
        return None
    if name == "auto":
        name = default_metric(loss)
    if name == "accuracy":
        return Accuracy(loss)
    if name == "r2":
        return RSquared(y_all)
    raise ValueError(f"unknown metric {name!r}; choose one of auto, {', '.join(METRICS)} or None")


class Accuracy:
    """Fraction of correctly classified samples (elements, for multi-label BCE outputs;
    samples by their largest margin for one-vs-rest hinge outputs)."""

    name = "accuracy"

    def __init__(self, loss: Loss):
        self.loss = loss
        self.reset()

    def reset(self):
        self._correct = 0.0
        self._count = 0

    def labels(self, y):
        """Reference labels from targets in the loss's format."""
        if y.ndim == 2 and y.shape[1] > 1 and (self.loss.task == "multiclass" or getattr(self.loss, "one_vs_rest", False)):
            return y.argmax(axis=1)
        if y.ndim == 2 and y.shape[1] == 1:
            return y[:, 0]
        return y

    def update(self, out, y, loss=None) -> None:
        predicted = self.loss.decide(out)
        truth = self.labels(y)
        hits = predicted == truth
        if type(hits) is np.ndarray:
            self._correct += np.count_nonzero(hits)
        else:  # a device array: keep the count on the device (no copy to the host per batch)
            self._correct = hits.sum() + self._correct
        self._count += truth.size

    def result(self) -> float:
        return float(self._correct) / self._count if self._count else float("nan")


class RSquared:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs
    (``uniform_average``, as scikit-learn's ``r2_score``); an output whose target is
    constant scores 1 when predicted exactly and 0 otherwise (scikit-learn's
    ``force_finite`` rule). Undefined (NaN) for fewer than two samples, as in scikit-learn."""

    name = "r2"

    def __init__(self, y_all):
        y = y_all.reshape(y_all.shape[0], -1)
        self._n_samples = y.shape[0]
        ss_tot = np.asarray(to_numpy(((y - y.mean(axis=0)) ** 2).sum(axis=0)), dtype=float)
        self._constant = ss_tot == 0
        self._ss_tot = np.where(self._constant, 1.0, ss_tot)
        self.reset()

    def reset(self):
        self._ss_res = 0.0

    def update(self, out, y, loss=None) -> None:
        """Add a batch; ``loss`` may supply Σ(ŷ - y)² it already computed."""
        if out.shape[1] == 1:
            known = getattr(loss, "squared_error_sum", None)
            if known is None:
                d = out - y.reshape(out.shape)
                known = namespace(d).vdot(d, d)
                known = float(known) if type(d) is np.ndarray else known  # device: sum there
            self._ss_res = known + self._ss_res
        else:
            d = out - y.reshape(out.shape)
            self._ss_res = namespace(d).einsum("ij,ij->j", d, d) + self._ss_res  # Σ per column, no d² array

    def result(self) -> float:
        self._ss_res = to_numpy(self._ss_res) if not isinstance(self._ss_res, float) else self._ss_res
        if self._n_samples < 2:
            return float("nan")
        if self._ss_tot.size == 1:  # one output, once per epoch: Python floats, no array passes
            ss_res = float(self._ss_res)
            if self._constant[0]:
                return 1.0 if ss_res == 0 else 0.0
            return 1.0 - ss_res / float(self._ss_tot[0])
        ss_res = np.asarray(self._ss_res, dtype=float).reshape(-1)
        r2 = 1.0 - ss_res / self._ss_tot
        if self._constant.any():
            r2 = np.where(self._constant, np.where(ss_res == 0, 1.0, 0.0), r2)
        return float(np.mean(r2))


def accuracy_score(y_true, y_pred) -> float:
    """Plain accuracy of two label arrays."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float((y_true == y_pred).mean())


def r2_score(y_true, y_pred) -> float:
    """R², averaged uniformly over outputs."""
    y_true = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    metric = RSquared(y_true)
    metric.update(np.asarray(y_pred, dtype=float).reshape(y_true.shape), y_true)
    return metric.result()
