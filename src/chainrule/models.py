"""Seed 002's "backpropagation in other models": linear regression, logistic regression and a
linear SVM, each a one-layer network (``Dense`` only) trained by the same backprop engine,
with the scikit-learn estimator interface of ``chainrule.estimators``.

The gradient each one follows is the seed's table: linear regression ``∂L/∂W = -2X(y - ŷ)/n``
(MSE), logistic regression ``∂L/∂W = Xᵀ(σ(XW + b) - y)/n`` (cross-entropy on the logit),
the SVM the hinge loss's ``-y x·1[y f(x) < 1]`` plus the L2 margin term.
"""

from __future__ import annotations

import numpy as np

from .estimators import NeuralNetClassifier, NeuralNetRegressor


class _OneLayer:
    """The shared shape: no hidden layers, full-batch gradient descent by default."""

    hidden_layer_sizes = ()
    activation = "identity"
    init = "glorot_uniform"
    batch_norm = False
    dropout = 0.0
    residual = False
    early_stopping = False
    validation_fraction = 0.1
    patience = 10
    dtype = "float64"
    device = "cpu"
    warm_start = False

    def _check_params(self):
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")

    @property
    def coef_(self):
        """Weights, shape (n_outputs, n_features) (the lecture's W)."""
        return self.network_.layers[0].W.value.copy()

    @property
    def intercept_(self):
        return self.network_.layers[0].b.value.copy()


class LinearRegressionGD(_OneLayer, NeuralNetRegressor):
    """Least squares by gradient descent on the mean squared error.

    Parameters
    ----------
    learning_rate : float
    epochs : int
    batch_size : int or None
        None: full batch (plain gradient descent).
    optimizer : str
    l2 : float
        Ridge penalty λ (the loss gains λ/2 ‖W‖²).
    random_state : int or None
    verbose : int
    """

    def __init__(self, learning_rate=0.1, epochs=1000, batch_size=None, optimizer="sgd", l2=0.0,
                 random_state=None, verbose=0):
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.l2 = l2
        self.random_state = random_state
        self.verbose = verbose
        self.loss = "mse"


class _MarginClassifier(_OneLayer, NeuralNetClassifier):
    """Shared by the linear classifiers: scikit-learn's ``C`` sets the L2 penalty so that the
    mean loss gains ``‖W‖² / (2 C n)`` (the objective of scikit-learn's linear models)."""

    _fixed_loss = None

    def __init__(self, C=1.0, learning_rate=0.5, epochs=2000, batch_size=None, optimizer="sgd",
                 random_state=None, verbose=0):
        self.C = C
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.random_state = random_state
        self.verbose = verbose
        self.loss = self._fixed_loss

    def _train(self, X, targets, n_outputs, sample_weight, epochs, reset):
        if not self.C > 0:
            raise ValueError(f"C must be > 0, got {self.C!r}")
        self.l2 = 1.0 / (self.C * X.shape[0])
        return super()._train(X, targets, n_outputs, sample_weight, epochs, reset)


class LogisticRegressionGD(_MarginClassifier):
    """Logistic (softmax for several classes) regression by gradient descent on the
    cross-entropy, with ``C`` as in ``sklearn.linear_model.LogisticRegression``."""


class LinearSVMGD(_MarginClassifier):
    """A linear support vector machine by (sub)gradient descent on the hinge loss
    ``mean(max(0, 1 - y f(x))) + ‖W‖²/(2 C n)``; several classes are one-vs-rest."""

    _fixed_loss = "hinge"

    def _loss_name(self):
        return "hinge"

    def _fit_encoded(self, X, y, sample_weight, epochs, reset):
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y, got 1 class ({self.classes_[0]!r})")
        encoded = self._encoder.transform(y)
        k = len(self.classes_)
        signs = np.where(encoded == 1, 1.0, -1.0)[:, None] if k == 2 else np.where(np.eye(k)[encoded] > 0, 1.0, -1.0)
        return self._train(X, signs, signs.shape[1], sample_weight, epochs, reset)

    def decision_function(self, X):
        """Signed margins f(x): shape (n,) for two classes, (n, k) for one-vs-rest."""
        out = self._raw_output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X):
        raise AttributeError("LinearSVMGD has no probabilities; use decision_function")
