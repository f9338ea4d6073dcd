"""scikit-learn estimators around the engine: ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

They follow scikit-learn's estimator API (``get_params``/``set_params``, ``fit``,
``partial_fit``, ``predict``, ``predict_proba``, ``score``), so they work in ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``. The classifier uses one sigmoid output with binary
cross-entropy for two classes and a softmax output with cross-entropy for more; any label type
(strings included) works. The regressor handles one or several outputs.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .callbacks import EarlyStopping
from .network import mlp
from .optim import get_optimizer


class _NeuralNet(BaseEstimator):
    """Shared parameters and training of the two estimators.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    activation : str
        Hidden activation (``chainrule.ACTIVATIONS`` names).
    init : str or None
        Weight initialiser (None: He for ReLU, Glorot otherwise).
    loss : str or None
        None picks the natural loss (bce / cross_entropy / mse).
    optimizer : str
        ``chainrule.OPTIMIZERS`` name.
    learning_rate : float
    batch_size : int or None
        None: full batch.
    epochs : int
        Passes over the data per ``fit`` (``partial_fit`` does one).
    early_stopping : bool
        Hold out ``validation_fraction`` and stop after ``patience`` epochs without improvement.
    validation_fraction : float
    patience : int
    l2 : float
        L2 penalty on the weights.
    batch_norm, dropout, residual
        Deep-network options, as in ``chainrule.mlp``.
    random_state : int or None
    dtype : {"float64", "float32"}
    device : {"cpu", "cuda"}
    verbose : int
    warm_start : bool
        Continue from the previous fit's weights.

    Attributes
    ----------
    network_ : Sequential
    loss_curve_ : list of float
        Training loss per epoch (all fits, for warm starts and partial_fit).
    validation_scores_ : list of float
        Validation accuracy / R² per epoch when early stopping is on.
    n_iter_ : int
        Epochs run.
    """

    _default_loss = "mse"

    def __init__(self, hidden_layer_sizes=(32,), activation="relu", init=None, loss=None, optimizer="adam",
                 learning_rate=1e-3, batch_size=32, epochs=200, early_stopping=False,
                 validation_fraction=0.1, patience=10, l2=0.0, batch_norm=False, dropout=0.0,
                 residual=False, random_state=None, dtype="float64", device="cpu", verbose=0,
                 warm_start=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.l2 = l2
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.residual = residual
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.verbose = verbose
        self.warm_start = warm_start

    # -- the network -------------------------------------------------------------------------
    def _build_network(self, n_inputs: int, n_outputs: int):
        """The network this estimator trains (one place to change the architecture)."""
        return mlp([n_inputs, *self.hidden_layer_sizes, n_outputs], activation=self.activation,
                   init=self.init, rng=self._rng, dtype=self.dtype, device=self.device, batch_norm=self.batch_norm,
                   dropout=self.dropout, residual=self.residual)

    def _train(self, X, targets, n_outputs, sample_weight, epochs, reset):
        if reset or not hasattr(self, "network_"):
            self._rng = np.random.default_rng(self.random_state)
            self.network_ = self._build_network(X.shape[1], n_outputs)
            self._optimizer = get_optimizer(self.optimizer, lr=self.learning_rate, l2=self.l2)
            self.loss_curve_, self.validation_scores_, self.n_iter_ = [], [], 0
        callbacks = [EarlyStopping(patience=self.patience)] if self.early_stopping else []
        batch = None if self.batch_size is None else min(self.batch_size, X.shape[0])
        if self.batch_norm and batch is not None and X.shape[0] % batch == 1:
            batch += 1  # never leave a last batch of one sample for batch norm
        history = self.network_.fit(
            X, targets, loss=self._loss_name(), optimizer=self._optimizer, epochs=epochs,
            batch_size=batch, validation_split=self.validation_fraction if self.early_stopping else 0.0,
            callbacks=callbacks, verbose=self.verbose, rng=self._rng, sample_weight=sample_weight,
        )
        self.loss_curve_ += history.loss
        self.validation_scores_ += history.val_metric
        self.n_iter_ += history.epochs
        return self

    def _loss_name(self):
        return self.loss or self._default_loss

    def _check_params(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, (int, np.integer)) else tuple(sizes)
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        self.hidden_layer_sizes = sizes

    def _raw_output(self, X):
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict(X)


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A feedforward network classifier trained by chainrule's backpropagation.

    Binary problems get one logit output and binary cross-entropy; multi-class problems get
    one logit per class and softmax cross-entropy. See ``_NeuralNet`` for the parameters.
    """

    _default_loss = None

    def _loss_name(self):
        return self.loss or ("bce" if len(self.classes_) == 2 else "cross_entropy")

    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or continue, with ``warm_start``)."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=True)
        check_classification_targets(y)
        self._encoder = LabelEncoder().fit(y)
        classes = self._encoder.classes_
        reset = not (self.warm_start and hasattr(self, "network_") and np.array_equal(classes, self.classes_))
        self.classes_ = classes
        return self._fit_encoded(X, y, sample_weight, self.epochs, reset)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on (X, y); ``classes`` is required on the first call."""
        first = not hasattr(self, "network_")
        if first:
            self._check_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._encoder = LabelEncoder().fit(classes)
            self.classes_ = self._encoder.classes_
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y has labels {unknown.tolist()} not in classes {self.classes_.tolist()}")
        return self._fit_encoded(X, y, sample_weight, 1, first)

    def _fit_encoded(self, X, y, sample_weight, epochs, reset):
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y, got 1 class ({self.classes_[0]!r})")
        encoded = self._encoder.transform(y)
        n_outputs = 1 if len(self.classes_) == 2 else len(self.classes_)
        return self._train(X, encoded, n_outputs, sample_weight, epochs, reset)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        out = self._raw_output(X)
        if out.shape[1] == 1:
            return np.column_stack([1.0 - out[:, 0], out[:, 0]])
        return out

    def predict(self, X):
        """The most probable class label of each row."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A feedforward network regressor (one or several outputs) trained by chainrule's
    backpropagation, with a linear output and MSE by default. See ``_NeuralNet``."""

    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or continue, with ``warm_start``)."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True)
        reset = not (self.warm_start and hasattr(self, "network_") and self._n_targets(y) == self.n_outputs_)
        return self._fit_numeric(X, y, sample_weight, self.epochs, reset)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y)."""
        first = not hasattr(self, "network_")
        if first:
            self._check_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True, reset=first)
        return self._fit_numeric(X, y, sample_weight, 1, first)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @staticmethod
    def _n_targets(y):
        return 1 if y.ndim == 1 else y.shape[1]

    def _fit_numeric(self, X, y, sample_weight, epochs, reset):
        self.n_outputs_ = self._n_targets(y)
        self._single_output = y.ndim == 1
        return self._train(X, y.reshape(len(y), -1), self.n_outputs_, sample_weight, epochs, reset)

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_outputs) like the training y."""
        out = self._raw_output(X)
        return out[:, 0] if self._single_output else out
