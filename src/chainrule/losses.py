"""Losses: ``forward(y_pred, y_true) -> float`` and ``backward() -> dL/dy_pred``.

Conventions (the public contract):

* ``MSE`` is ``mean((y_pred - y_true)**2)`` over all elements.
* ``SumSquaredError`` is ``½ Σ (y_pred - y_true)²`` summed over samples and outputs, the
  convention of seeds 000/001 and of Rumelhart, Hinton & Williams (1986).
* ``BinaryCrossEntropy`` and ``CrossEntropy`` take *logits* and fuse the final
  sigmoid/softmax; their forward is computed stably and their gradient is ``(p - y)/n``.
* With ``sample_weight`` a mean-reduced loss becomes ``Σ wᵢ lᵢ / Σ wᵢ`` and a
  sum-reduced one ``Σ wᵢ lᵢ``.
"""

from __future__ import annotations

import math

import numpy as np

from .backend import fused, namespace, to_numpy
from .registry import Registry
from .validation import check_sample_weight

LOSSES = Registry("loss")

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"


class Loss:
    """Base class. Subclasses implement ``_forward(y_pred, y_true)`` returning the
    element-wise loss (before reduction) and ``_backward()`` returning its gradient."""

    name: str | None = None
    aliases: tuple[str, ...] = ()
    reduction = "mean"
    task = REGRESSION
    formula = ""
    convention = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LOSSES.add_if_named(cls)

    squared_error_sum = None  # Σ(ŷ - y)² of the last evaluate, where a loss has it for free
    squares_errors = False  # the loss sums squared errors: fit refuses targets whose squares overflow

    def uninformed(self, n_outputs: int) -> float | None:
        """The loss of a network whose outputs are all 0 (logits: equal probabilities), for
        losses where that is a fixed number; None otherwise (regression)."""
        return None

    def __init__(self):
        self._scale = None

    # -- public API -------------------------------------------------------------------
    def forward(self, y_pred, y_true, sample_weight=None) -> float:
        """The loss value for a batch.

        Parameters
        ----------
        y_pred : ndarray, shape (n, k)
            Network outputs (logits for the cross-entropies).
        y_true : ndarray, shape (n, k) or (n,)
            Targets, checked against what this loss accepts.
        sample_weight : ndarray, shape (n,), optional
            Non-negative weights per sample.
        """
        if y_pred.ndim == 1:
            y_pred = y_pred.reshape(-1, 1)
        if hasattr(y_true, "__cuda_array_interface__"):
            y_true = to_numpy(y_true)  # targets are checked on the host
        y_true = self.check_targets(y_true, y_pred.shape[1])
        if y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(f"y_pred has {y_pred.shape[0]} samples but y_true has {y_true.shape[0]}")
        xp = namespace(y_pred)
        y_true = xp.asarray(y_true, dtype=y_true.dtype if self.integer_targets(y_true) else y_pred.dtype)
        weights = None
        if sample_weight is not None:
            weights = check_sample_weight(sample_weight, y_pred.shape[0])
            weights = xp.asarray(weights, dtype=y_pred.dtype)
        return self.evaluate(y_pred, y_true, self.scale_for(y_pred.shape[0], weights))

    def backward(self):
        """dL/dy_pred for the last ``forward``, shape (n, k)."""
        if self._scale is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._backward()

    def link(self, y_pred):
        """Map raw network outputs to predictions (probabilities for classifiers)."""
        return y_pred

    def decide(self, y_pred):
        """Class labels from raw outputs (classification losses)."""
        if y_pred.shape[1] == 1:
            return (y_pred[:, 0] > 0.5).astype(np.int64)
        return y_pred.argmax(axis=1)

    def class_probabilities(self, y_pred, log: bool = False):
        """Class probabilities, shape (n, classes), from raw outputs (n, k): the link's
        columns, or 1 - p and p for one column; ``log`` takes their logarithm (clipped away
        from log 0). BCE and cross-entropy compute both from the logits instead."""
        p = self.link(y_pred)
        xp = namespace(p)
        if p.shape[1] == 1:
            p = xp.stack([1.0 - p[:, 0], p[:, 0]], axis=1)
        return xp.log(xp.clip(p, np.finfo(p.dtype).tiny, None)) if log else p

    # -- used by fit: validation once, then the unchecked fast path -------------------------
    def check_targets(self, y_true, n_outputs: int):
        """Validate targets against this loss and the network's output width; return
        them as a 2-D float array (or 1-D integer labels for ``CrossEntropy``)."""
        y = np.asarray(y_true) if isinstance(y_true, (list, tuple)) else y_true
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ValueError(
                f"targets have shape {tuple(y_true.shape)} but the network has {n_outputs} output(s)"
            )
        return y

    def integer_targets(self, y) -> bool:
        return False

    def scale_for(self, n: int, weights=None, total: float | None = None):
        """Per-sample factor of the reduction: 1/n or 1 (scalar), or a (n, 1) column;
        ``total`` is ``weights.sum()`` when the caller knows it (no device sync)."""
        if weights is None:
            return 1.0 / n if self.reduction == "mean" else 1.0
        total = float(weights.sum()) if total is None else float(total)
        if total <= 0:
            raise ValueError("sample_weight sums to zero; at least one sample needs a positive weight")
        w = weights.reshape(-1, 1)
        return w / total if self.reduction == "mean" else w

    def evaluate(self, y_pred, y_true, scale) -> float:
        """Loss value with a precomputed reduction ``scale`` and no target checks."""
        total, factor = self.evaluate_lazy(y_pred, y_true, scale)
        return float(total) * factor

    def evaluate_lazy(self, y_pred, y_true, scale):
        """Like ``evaluate`` but returns ``(total, factor)``: a 0-d array on ``y_pred``'s
        device and a float whose product is the loss value, so a GPU fit need not copy
        every batch's loss to the host."""
        self._scale = scale
        self.squared_error_sum = None
        elementwise = self._forward(y_pred, y_true)
        if isinstance(scale, float):
            return elementwise.sum(), scale
        return (elementwise * scale).sum(), 1.0

    def _forward(self, y_pred, y_true):
        raise NotImplementedError

    def _backward(self):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_range(name, y, allowed: str, ok) -> None:
    if not ok.all():
        bad = y[~ok].ravel()[0]
        shown = bad.item() if hasattr(bad, "item") else bad  # 0.0, not np.float64(0.0)
        raise ValueError(f"{name} needs targets {allowed}, got {shown!r}")


class MSE(Loss):
    """Mean squared error over all elements: ``mean((ŷ - y)²)``; dL/dŷ = 2(ŷ - y)/(n k)."""

    name, aliases = "mse", ("mean_squared_error",)
    squares_errors = True
    formula = "L = (1/(n k)) Σ (ŷ - y)²"
    convention = "MSE: mean of (ŷ - y)² over all n·k elements; dL/dŷ = 2(ŷ - y)/(n·k)"

    def _forward(self, y_pred, y_true):
        self._diff = y_pred - y_true
        self._k = y_pred.shape[1]
        return self._diff * self._diff / self._k

    def evaluate(self, y_pred, y_true, scale):
        if not isinstance(scale, float):
            return super().evaluate(y_pred, y_true, scale)
        self._scale, self._k = scale, y_pred.shape[1]
        d = self._diff = y_pred - y_true
        self.squared_error_sum = float(namespace(d).vdot(d, d))
        return self.squared_error_sum * (scale / self._k)

    def _backward(self):
        return self._diff * ((2.0 / self._k) * self._scale)


class SumSquaredError(Loss):
    """``½ Σ (ŷ - y)²`` over samples and outputs (seeds 000/001, Rumelhart et al. 1986);
    dL/dŷ = ŷ - y."""

    name, aliases = "sse", ("sum_squared_error", "half_sse")
    reduction = "sum"
    squares_errors = True
    formula = "E = ½ Σ (ŷ - y)²"
    convention = "½·sum of squared errors over all samples and outputs; dE/dŷ = ŷ - y"

    def _forward(self, y_pred, y_true):
        self._diff = y_pred - y_true
        return 0.5 * self._diff * self._diff

    def evaluate(self, y_pred, y_true, scale):
        if not isinstance(scale, float):
            return super().evaluate(y_pred, y_true, scale)
        self._scale = scale
        d = self._diff = y_pred - y_true
        self.squared_error_sum = float(namespace(d).vdot(d, d))
        return 0.5 * self.squared_error_sum * scale

    def _backward(self):
        if isinstance(self._scale, float) and self._scale == 1.0:
            return self._diff
        return self._diff * self._scale


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on logits z: ``mean(softplus(z) - y z)``, with p = σ(z);
    dL/dz = (p - y)/(n k). Targets in [0, 1] (0/1 labels or soft labels)."""

    name, aliases = "bce", ("binary_cross_entropy", "binary_crossentropy", "log_loss")
    task = BINARY
    formula = "L = -(1/(n k)) Σ [y log σ(z) + (1 - y) log(1 - σ(z))]"
    convention = ("binary cross-entropy on logits z, mean over all n·k elements (k outputs, one per label); "
                  "dL/dz = (σ(z) - y)/(n·k)")

    def check_targets(self, y_true, n_outputs):
        y = super().check_targets(y_true, n_outputs)
        _check_range("BinaryCrossEntropy", y, "in [0, 1] (class labels 0 and 1)", (y >= 0) & (y <= 1))
        return y

    def uninformed(self, n_outputs):
        return math.log(2.0)

    def _forward(self, z, y):
        xp = namespace(z)
        e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
        self._p = xp.where(z >= 0, 1.0, e) / (1.0 + e)
        self._y = y
        self._k = z.shape[1]
        return (xp.maximum(z, 0) - z * y + xp.log1p(e)) / self._k

    def _backward(self):
        return (self._p - self._y) * (self._scale / self._k)

    def link(self, z):
        xp = namespace(z)
        e = xp.exp(-xp.abs(z))
        return xp.where(z >= 0, 1.0, e) / (1.0 + e)

    def decide(self, z):
        out = (z > 0).astype(np.int64)
        return out[:, 0] if out.shape[1] == 1 else out

    def class_probabilities(self, z, log: bool = False):
        """P(class 0) and P(class 1), shape (n, 2), from one logit column z of shape (n, 1):
        σ(-z) and σ(z), each from its own logit (1 - σ(z) is 0 once σ(z) rounds to 1);
        ``log``: log σ(∓z), finite for every finite z."""
        if z.shape[1] != 1:
            raise ValueError(f"class probabilities need one logit column (two classes), got {z.shape[1]} "
                             "(bce on several outputs is multi-label: use label_probabilities)")
        return namespace(z).concatenate([self.label_probabilities(-z, log), self.label_probabilities(z, log)], axis=1)

    def label_probabilities(self, z, log: bool = False):
        """Each output's own probability σ(z), shape (n, k), from the logits z (one column
        per label of a multi-label head); ``log``: log σ(z) = -softplus(-z) =
        -(max(-z, 0) + log(1 + e^(-|z|))), finite for every finite z."""
        if not log:
            return self.link(z)
        xp = namespace(z)
        return -(xp.maximum(-z, 0) + xp.log1p(xp.exp(-xp.abs(z))))


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits z (rows are samples): ``mean(logΣe^z - z_y)``;
    dL/dz = (softmax(z) - onehot(y))/n. Targets: integer labels (n,) or one-hot (n, k)."""

    name, aliases = "cross_entropy", ("ce", "categorical_cross_entropy", "softmax_cross_entropy")
    task = MULTICLASS
    _grad = None  # the gradient, when a fused GPU kernel computed it with the loss
    formula = "L = -(1/n) Σ_i log softmax(z_i)[y_i]"
    convention = "softmax cross-entropy on logits, mean over samples; dL/dz = (softmax(z) - onehot(y))/n"

    def uninformed(self, n_outputs):
        return math.log(n_outputs) if n_outputs >= 2 else None

    def check_targets(self, y_true, n_outputs):
        y = y_true
        if n_outputs < 2:
            raise ValueError("CrossEntropy needs a network with at least 2 outputs; use BinaryCrossEntropy for one")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 1:
            if not np.issubdtype(y.dtype, np.integer):
                as_int = namespace(y).rint(y)
                _check_range("CrossEntropy", y, "to be integer class labels", as_int == y)
                y = as_int.astype(np.int64)
            _check_range("CrossEntropy", y, f"in 0..{n_outputs - 1} (one per output)", (y >= 0) & (y < n_outputs))
            return y.astype(np.int64, copy=False)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ValueError(f"one-hot targets must have shape (n, {n_outputs}), got {tuple(y.shape)}")
        _check_range("CrossEntropy", y, "one-hot rows with entries in [0, 1]", (y >= 0) & (y <= 1))
        sums = y.sum(axis=1)
        xp = namespace(sums)
        if not bool(xp.allclose(sums, 1.0)):
            raise ValueError(f"one-hot target rows must sum to 1, got a row summing to {sums[~xp.isclose(sums, 1)][0]}")
        return y

    def integer_targets(self, y):
        return y.ndim == 1

    def _forward(self, z, y):
        kernels = fused(z)
        self._grad = None
        if kernels is not None and y.ndim == 1 and isinstance(self._scale, float):
            # one GPU kernel: per-row loss and the gradient (softmax - onehot)·scale
            self._y = y
            losses, self._grad = kernels.softmax_cross_entropy(z, y, self._scale)
            return losses
        xp = namespace(z)
        shifted = z - z.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        self._p = e / total
        self._y = y
        log_total = xp.log(total)
        if y.ndim == 1:
            rows = xp.arange(z.shape[0])
            return log_total - shifted[rows, y][:, None]
        return log_total * y.sum(axis=1, keepdims=True) - (y * shifted).sum(axis=1, keepdims=True)

    def _backward(self):
        if self._grad is not None:
            return self._grad
        y = self._y
        if y.ndim == 1:
            grad = self._p.copy()
            grad[namespace(grad).arange(grad.shape[0]), y] -= 1.0
        else:
            grad = self._p * y.sum(axis=1, keepdims=True) - y
        grad *= self._scale
        return grad

    def link(self, z):
        xp = namespace(z)
        e = xp.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, z):
        return z.argmax(axis=1)

    def class_probabilities(self, z, log: bool = False):
        """softmax(z), shape (n, k); ``log``: log softmax(z) = z - logΣe^z, computed from the
        logits (finite where the probability underflows to 0)."""
        if not log:
            return self.link(z)
        xp = namespace(z)
        shifted = z - z.max(axis=1, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


class Hinge(Loss):
    """Hinge loss for labels ±1: ``mean(max(0, 1 - y f))``; dL/df = -y·1[y f < 1]/(n k).
    With k > 1 outputs it is one-vs-rest: a +1 in the column of each sample's class, -1
    elsewhere; the decision (and accuracy) is the class of the largest margin."""

    name, aliases = "hinge", ("svm",)
    task = BINARY
    one_vs_rest = True  # several outputs: one ±1 column per class, a sample's class is its largest margin
    formula = "L = (1/(n k)) Σ max(0, 1 - y f(x))"
    convention = "hinge loss, labels ±1, mean over all n·k elements; dL/df = -y·1[y f < 1]/(n·k)"

    def uninformed(self, n_outputs):
        return 1.0

    def check_targets(self, y_true, n_outputs):
        y = super().check_targets(y_true, n_outputs)
        _check_range("Hinge", y, "of -1 or +1 (map class 0 to -1)", (y == 1) | (y == -1))
        return y

    def _forward(self, f, y):
        self._y = y
        self._k = f.shape[1]
        margin = 1.0 - y * f
        self._active = margin > 0
        return namespace(f).maximum(margin, 0) / self._k

    def _backward(self):
        return -self._y * self._active * (self._scale / self._k)

    def decide(self, f):
        """+1 where the margin is positive, else -1 (one output, as scikit-learn's SVMs); the
        class of the largest margin for several outputs (one-vs-rest), shape (n,)."""
        if f.shape[1] > 1:
            return f.argmax(axis=1)
        return namespace(f).where(f[:, 0] > 0, 1, -1)


class Huber(Loss):
    """Huber loss: ½r² for |r| <= δ, δ(|r| - ½δ) beyond; mean over elements;
    dL/dŷ = clip(r, -δ, δ)/(n k) with r = ŷ - y.

    Parameters
    ----------
    delta : float
        Where the loss turns from quadratic to linear (> 0).
    """

    name, aliases = "huber", ("smooth_l1",)
    formula = "L = mean(½r² if |r| ≤ δ else δ(|r| - ½δ))"
    convention = "Huber loss, mean over all elements; dL/dŷ = clip(ŷ - y, -δ, δ)/(n·k)"

    def __init__(self, delta: float = 1.0):
        super().__init__()
        from .validation import check_positive

        self.delta = check_positive("Huber delta", delta)

    def _forward(self, y_pred, y_true):
        xp = namespace(y_pred)
        r = y_pred - y_true
        self._r, self._k = r, y_pred.shape[1]
        a = xp.abs(r)
        d = self.delta
        return xp.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d)) / self._k

    def _backward(self):
        xp = namespace(self._r)
        return xp.clip(self._r, -self.delta, self.delta) * (self._scale / self._k)

    def get_config(self):
        return {"delta": self.delta}


def get_loss(spec) -> Loss:
    """A Loss from a registry name or an instance."""
    return LOSSES.create(spec, base=Loss)


__all__ = [
    "LOSSES", "Loss", "MSE", "SumSquaredError", "BinaryCrossEntropy", "CrossEntropy", "Hinge",
    "Huber", "get_loss",
]
