"""Per-epoch metrics for ``History``: accuracy for classification losses, R² otherwise.

Each metric accumulates over the batches of an epoch and is exact for full-batch runs.
With sample weights both are weighted as the loss is (scikit-learn's ``accuracy_score``
and ``r2_score`` with ``sample_weight``): a sample of weight 0 counts for nothing.
"""

from __future__ import annotations

import numpy as np

from .backend import namespace, to_numpy
from .losses import REGRESSION, Loss

METRICS = ("accuracy", "subset_accuracy", "r2")


def default_metric(loss: Loss) -> str:
    """``"accuracy"`` for classification losses, ``"r2"`` for regression losses."""
    return "r2" if loss.task == REGRESSION else "accuracy"


def make_metric(name, loss: Loss, y_all, weights=None):
    """Build the metric named ``name`` ("auto", "accuracy", "r2" or None) for a fit on the
    targets ``y_all`` with the sample ``weights`` (shape (n,), or None) they are weighted by."""
    if name is None:
        return None
    if name == "auto":
        name = default_metric(loss)
    if name == "accuracy":
        return Accuracy(loss)
    if name == "subset_accuracy":
        return SubsetAccuracy(loss)
    if name == "r2":
        return RSquared(y_all, weights)
    raise ValueError(f"unknown metric {name!r}; choose one of auto, {', '.join(METRICS)} or None")


class Accuracy:
    """Fraction of correctly classified samples (elements, for multi-label BCE outputs;
    samples by their largest margin for one-vs-rest hinge outputs); with sample weights,
    the weighted fraction ``Σ w·correct / Σ w``."""

    name = "accuracy"

    def __init__(self, loss: Loss):
        self.loss = loss
        self.reset()

    def reset(self):
        self._correct = 0.0
        self._count = 0.0

    def labels(self, y):
        """Reference labels from targets in the loss's format."""
        if y.ndim == 2 and y.shape[1] > 1 and (self.loss.task == "multiclass" or getattr(self.loss, "one_vs_rest", False)):
            return y.argmax(axis=1)
        if y.ndim == 2 and y.shape[1] == 1:
            return y[:, 0]
        return y

    def update(self, out, y, loss=None, weights=None) -> None:
        """Add a batch: outputs ``out`` (n, k), targets ``y``, sample ``weights`` (n,) or None."""
        predicted = self.loss.decide(out)
        truth = self.labels(y)
        hits = predicted == truth
        if weights is not None:
            w = weights.reshape((-1,) + (1,) * (hits.ndim - 1))  # a sample's weight for each of its elements
            correct, count = (hits * w).sum(), weights.sum() * (hits.size // max(hits.shape[0], 1))
        elif type(hits) is np.ndarray:
            correct, count = np.count_nonzero(hits), truth.size
        else:
            correct, count = hits.sum(), truth.size
        if type(hits) is np.ndarray:
            correct, count = float(correct), float(count)
        # on a device the sums stay there (no copy to the host per batch)
        self._correct, self._count = correct + self._correct, count + self._count

    def result(self) -> float:
        count = float(self._count)
        return float(self._correct) / count if count else float("nan")


class SubsetAccuracy(Accuracy):
    """Multi-label accuracy: the fraction of samples whose every label is decided right
    (scikit-learn's ``accuracy_score`` on label matrices). A label is on where its output is
    positive (a BCE logit above 0, a hinge margin above 0) and where its target is positive
    (1 of 0/1, +1 of ±1); with sample weights, ``Σ w·all_right / Σ w``."""

    name = "subset_accuracy"

    def update(self, out, y, loss=None, weights=None) -> None:
        """Add a batch: outputs ``out`` (n, k), targets ``y`` (n, k), sample ``weights`` (n,) or None."""
        rows = ((out > 0) == (y.reshape(out.shape) > 0)).all(axis=1)
        if weights is not None:
            correct, count = (rows * weights).sum(), weights.sum()
        else:
            correct, count = rows.sum(), rows.shape[0]
        if type(rows) is np.ndarray:
            correct, count = float(correct), float(count)
        self._correct, self._count = correct + self._correct, count + self._count


class RSquared:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs
    (``uniform_average``, as scikit-learn's ``r2_score``); an output whose target is
    constant scores 1 when predicted exactly and 0 otherwise (scikit-learn's
    ``force_finite`` rule). Undefined (NaN) for fewer than two samples, as in scikit-learn.

    With sample weights ``w``: ``SS_res = Σ w (ŷ - y)²`` and ``SS_tot = Σ w (y - ȳ_w)²``
    about the weighted mean ``ȳ_w`` (scikit-learn's ``r2_score(..., sample_weight=w)``).

    Parameters
    ----------
    y_all : ndarray, shape (n,) or (n, k)
        Every target the epoch's batches will bring (SS_tot is theirs).
    weights : ndarray, shape (n,), optional
        Their sample weights; ``update`` must then be given each batch's.
    """

    name = "r2"

    def __init__(self, y_all, weights=None):
        y = y_all.reshape(y_all.shape[0], -1)
        self._n_samples = y.shape[0]
        if weights is None:
            ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        else:
            w = weights.reshape(-1, 1)
            mean = (w * y).sum(axis=0) / w.sum()
            ss_tot = (w * (y - mean) ** 2).sum(axis=0)
        ss_tot = np.asarray(to_numpy(ss_tot), dtype=float)
        self._constant = ss_tot == 0
        self._ss_tot = np.where(self._constant, 1.0, ss_tot)
        self.reset()

    def reset(self):
        self._ss_res = 0.0

    def update(self, out, y, loss=None, weights=None) -> None:
        """Add a batch: outputs ``out`` (n, k), targets ``y``, sample ``weights`` (n,) or None;
        ``loss`` may supply the unweighted Σ(ŷ - y)² it already computed."""
        d = None
        if weights is not None:
            d = out - y.reshape(out.shape)
            part = namespace(d).einsum("ij,ij,i->j", d, d, weights)  # Σ w d² per column
        elif out.shape[1] == 1:
            part = getattr(loss, "squared_error_sum", None)
            if part is None:
                d = out - y.reshape(out.shape)
                part = namespace(d).vdot(d, d)
        else:
            d = out - y.reshape(out.shape)
            part = namespace(d).einsum("ij,ij->j", d, d)  # Σ per column, no d² array
        if d is not None and type(d) is np.ndarray:
            part = float(part) if np.ndim(part) == 0 else part
        self._ss_res = part + self._ss_res  # on a device: summed there

    def result(self) -> float:
        self._ss_res = to_numpy(self._ss_res) if not isinstance(self._ss_res, float) else self._ss_res
        if self._n_samples < 2:
            return float("nan")
        ss_res = np.asarray(self._ss_res, dtype=float).reshape(-1)
        if self._ss_tot.size == 1:  # one output, once per epoch: Python floats, no array passes
            ss_res = float(ss_res[0])
            if self._constant[0]:
                return 1.0 if ss_res == 0 else 0.0
            return 1.0 - ss_res / float(self._ss_tot[0])
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
