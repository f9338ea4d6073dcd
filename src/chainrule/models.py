"""Seed 002's "backpropagation in other models": linear regression, logistic regression and a
linear SVM, each a one-layer network (one ``Dense`` layer, no hidden layer) trained by the
same backprop engine, with the scikit-learn estimator interface of ``chainrule.estimators``.

The gradient each one follows is the seed's table: linear regression ``∂L/∂W = -2Xᵀ(y - ŷ)/n``
(MSE), logistic regression ``∂L/∂W = Xᵀ(σ(XWᵀ + b) - y)/n`` (cross-entropy on the logit),
the SVM the hinge loss's ``-y x·1[y f(x) < 1]`` plus the L2 margin term.

By default they take plain full-batch gradient descent with the step ``1/L``, where ``L``
bounds the curvature of the loss (``L = c·λ_max(X̃ᵀX̃/n) + λ``, ``X̃ = [X, 1]``, ``c`` = 2 for
MSE, 1/4 for the logistic loss, 1/2 for softmax, 1 for the hinge): the step that makes
gradient descent converge on a convex loss without tuning.
"""

from __future__ import annotations

import warnings

import numpy as np

from .backend import to_numpy
from .caller import caller_stacklevel
from .estimators import NeuralNetClassifier, NeuralNetRegressor
from .validation import check_sample_weight
from .validation import check_positive

# A run whose loss still fell by more than this fraction over its last twentieth of epochs (at
# least 10) has not converged: gradient descent at 1/L on a convex loss flattens out long before.
CONVERGENCE_TOLERANCE = 1e-3

CURVATURE = {"mse": 2.0, "sse": 2.0, "huber": 1.0, "bce": 0.25, "cross_entropy": 0.5, "hinge": 1.0}


def top_eigenvalue(X, sample_weight=None, iterations: int = 60) -> float:
    """Largest eigenvalue of the weighted second-moment matrix of ``[X, 1]`` (power iteration,
    never forming the matrix).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    sample_weight : ndarray, shape (n,), optional
    """
    n = X.shape[0]
    w = np.full(n, 1.0 / n) if sample_weight is None else sample_weight / sample_weight.sum()
    A = np.column_stack([np.asarray(X, dtype=np.float64), np.ones(n)])
    v = np.full(A.shape[1], 1.0 / np.sqrt(A.shape[1]))
    value = 0.0
    for _ in range(iterations):
        u = A.T @ (w * (A @ v))
        value = float(np.linalg.norm(u))
        if value == 0.0:
            return 1.0
        v = u / value
    return value


class _OneLayer:
    """The shared shape: no hidden layer, full-batch gradient descent, ``learning_rate="auto"``."""

    hidden_layer_sizes = ()
    activation = "identity"
    init = "glorot_uniform"
    batch_norm = False
    dropout = 0.0
    residual = False
    early_stopping = False
    validation_fraction = 0.1
    patience = 10
    dtype = None  # the device's default: float64 on the CPU
    device = "cpu"
    warm_start = False
    l2 = 0.0

    def _record(self, history, validated: bool) -> None:
        super()._record(history, validated)
        self._warn_unless_converged(history.loss)

    def _warn_unless_converged(self, losses) -> None:
        """scikit-learn's ``ConvergenceWarning`` when a fit (not a one-epoch ``partial_fit``)
        ends with its loss still falling (see ``CONVERGENCE_TOLERANCE``)."""
        if len(losses) < 20:
            return
        window = max(10, len(losses) // 20)
        before, last = losses[-window - 1], losses[-1]
        drop = (before - last) / max(abs(last), 1e-12)
        if drop > CONVERGENCE_TOLERANCE:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(f"{type(self).__name__} did not converge in {len(losses)} epochs: its loss still fell by "
                          f"{drop:.2%} over the last {window}; raise epochs", ConvergenceWarning,
                          stacklevel=caller_stacklevel())

    def _check_learning_rate(self) -> None:
        if not (isinstance(self.learning_rate, str) and self.learning_rate == "auto"):
            check_positive("learning_rate", self.learning_rate)

    def _learning_rate(self, X, sample_weight):
        """``1/L`` for plain gradient descent when ``learning_rate="auto"`` (the optimizer's
        own default step for the others)."""
        if not (isinstance(self.learning_rate, str) and self.learning_rate == "auto"):
            return float(self.learning_rate)
        if self.optimizer.lower() != "sgd":
            return None
        weights = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
        curvature = CURVATURE.get(self._loss_name(), 2.0) * top_eigenvalue(X, weights)
        return 1.0 / (curvature + self._l2_penalty(X, sample_weight))

    @property
    def coef_(self):
        """Weights, shape (n_outputs, n_features) (the lecture's W)."""
        return to_numpy(self.network_.layers[0].W.value).copy()

    @property
    def intercept_(self):
        """Biases, shape (n_outputs,)."""
        return to_numpy(self.network_.layers[0].b.value).copy()


class LinearRegressionGD(_OneLayer, NeuralNetRegressor):
    """Least squares by gradient descent on the mean squared error.

    Parameters
    ----------
    learning_rate : float or "auto", default "auto"
        "auto": ``1/L`` with ``L = 2 λ_max(X̃ᵀX̃/n) + l2`` (plain gradient descent).
    epochs : int, default 1000
    batch_size : int or None, default None
        None: full batch (plain gradient descent).
    optimizer : str, default "sgd"
    l2 : float, default 0
        Ridge penalty λ (the loss gains λ/2 ‖W‖²).
    random_state : int or None
        Seeds the initial weights (the minimum does not depend on them).
    verbose : int

    Attributes
    ----------
    coef_ : ndarray, shape (n_outputs, n_features)
    intercept_ : ndarray, shape (n_outputs,)
    """

    loss = "mse"

    def __init__(self, learning_rate="auto", epochs=1000, batch_size=None, optimizer="sgd", l2=0.0,
                 random_state=None, verbose=0):
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.l2 = l2
        self.random_state = random_state
        self.verbose = verbose


class _MarginClassifier(_OneLayer, NeuralNetClassifier):
    """Shared by the linear classifiers: scikit-learn's ``C`` sets the L2 penalty so that the
    weighted mean loss gains ``‖W‖² / (2 C Σw)`` — the objective ``C Σ wᵢ lossᵢ + ½‖W‖²`` of
    scikit-learn's linear models, divided by ``C Σw``."""

    loss = None

    def __init__(self, C=1.0, learning_rate="auto", epochs=1000, batch_size=None, optimizer="sgd",
                 random_state=None, verbose=0):
        self.C = C
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        check_positive("C", self.C)

    def _l2_penalty(self, X, sample_weight) -> float:
        total = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        return 1.0 / (float(self.C) * total)


class LogisticRegressionGD(_MarginClassifier):
    """Logistic regression (softmax regression for several classes) by gradient descent on the
    cross-entropy, with ``C`` as in ``sklearn.linear_model.LogisticRegression``.

    Parameters
    ----------
    C : float, default 1
        Inverse regularisation strength.
    learning_rate : float or "auto", default "auto"
    epochs : int, default 1000
    batch_size : int or None, default None
    optimizer : str, default "sgd"
    random_state : int or None
    verbose : int
    """


class LinearSVMGD(_MarginClassifier):
    """A linear support vector machine by (sub)gradient descent on the hinge loss
    ``mean(max(0, 1 - y f(x))) + ‖W‖²/(2 C n k)`` over the n·k margins, where k is the
    number of margins per sample (1 for two classes, the number of classes otherwise): several
    classes are one-vs-rest, each with the objective ``C Σᵢ lossᵢ + ½‖w‖²`` of
    scikit-learn's ``LinearSVC(loss="hinge")``.
    ``decision_function`` gives the margins (there are no probabilities).

    Parameters
    ----------
    C : float, default 1
    learning_rate : float or "auto", default "auto"
    epochs : int, default 1000
    batch_size : int or None, default None
    optimizer : str, default "sgd"
    random_state : int or None
    verbose : int
    """

    loss = "hinge"

    def _l2_penalty(self, X, sample_weight) -> float:
        # the hinge loss averages over the k one-vs-rest margins of each sample as well: the
        # penalty shares that 1/k so each class keeps scikit-learn's C (not C/k)
        return super()._l2_penalty(X, sample_weight) / self.network_.n_outputs
