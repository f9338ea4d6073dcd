"""``NeuralNetRegressor``: a feedforward network regressor with scikit-learn's interface."""

from __future__ import annotations

import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from ..callbacks import DivergenceError
from ..train_data import check_target_range
from .base import NeuralNetBase
from .fit_state import all_or_nothing
from .inputs import FLOAT_DTYPES, SPARSE_FORMATS, dense
from .docs import ATTRIBUTES, INPUT, indent, parameters


class NeuralNetRegressor(RegressorMixin, NeuralNetBase):
    __doc__ = f"""A feedforward network regressor (one or several outputs) trained by chainrule's
    backpropagation: linear output units and the mean squared error by default (any
    regression loss of ``chainrule.LOSSES``: mse, sse, huber).

{indent(parameters('"mse", the mean squared error.'))}
    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
{indent(ATTRIBUTES)}
    Notes
    -----
{indent(INPUT)}
    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-3, 3, 200).reshape(-1, 1)
    >>> reg = NeuralNetRegressor(hidden_layer_sizes=(16,), activation="tanh", learning_rate=1e-2,
    ...                          epochs=200, random_state=0).fit(X, np.sin(X[:, 0]))
    >>> reg.score(X, np.sin(X[:, 0])) > 0.95
    True
    """

    @all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or continue the previous network, with ``warm_start``).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)
            Training inputs (sparse: made dense).
        y : array-like, shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.
        sample_weight : float or array-like, shape (n_samples,), optional
            Non-negative weight of each sample in the loss (a number weighs every sample
            alike).

        Returns
        -------
        self : NeuralNetRegressor
            The fitted estimator.

        Raises
        ------
        chainrule.DivergenceError
            The loss blew up; the network keeps its last good weights and the curves the
            epochs up to them.
        """
        self._check_params()
        warm = self._warm()
        X, y = self._validate_xy(X, y, reset=not warm)
        if warm and self._n_targets(y) != self.n_outputs_:
            raise ValueError(f"warm_start needs {self.n_outputs_} target(s) as in the previous fit, "
                             f"got {self._n_targets(y)}")
        return self._fit_numeric(X, y, sample_weight, self.epochs, reset=not warm)

    @all_or_nothing
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``(X, y)``, continuing the current network (made on the first call).
        The parameters are checked at every call; ``early_stopping=True`` is refused (as in
        scikit-learn's MLP).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)
        y : array-like, shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : float or array-like, shape (n_samples,), optional

        Returns
        -------
        self : NeuralNetRegressor
        """
        self._check_partial_fit()
        first = not hasattr(self, "network_")
        X, y = self._validate_xy(X, y, reset=first)
        if not first and self._n_targets(y) != self.n_outputs_:
            raise ValueError(f"y has {self._n_targets(y)} target(s), the network predicts {self.n_outputs_}")
        return self._fit_numeric(X, y, sample_weight, 1, reset=first)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _validate_xy(self, X, y, reset: bool):
        """``X`` and ``y`` checked by scikit-learn, and ``y`` dense and numeric (numbers stored
        as objects are converted, as scikit-learn converts them; strings are refused)."""
        if sp.issparse(y):
            raise TypeError(f"y must be a dense array, got a sparse {type(y).__name__} (use y.toarray())")
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, multi_output=True,
                             y_numeric=True, reset=reset)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y must be numeric, got dtype {y.dtype}")
        return dense(X), y

    @staticmethod
    def _n_targets(y) -> int:
        return 1 if y.ndim == 1 else y.shape[1]

    def _fit_numeric(self, X, y, sample_weight, epochs, reset):
        check_target_range("y", y, self._dtype())  # before the network is built
        if reset:
            self.n_outputs_ = self._n_targets(y)
        # predict's shape follows the latest y that trained, (n,) or (n, 1): also a run that
        # diverged (it keeps its last good weights), not one refused before any work
        try:
            self._train(X, y.reshape(len(y), -1), self.n_outputs_, sample_weight, epochs, reset)
        except DivergenceError:
            self._single_output = y.ndim == 1
            raise
        self._single_output = y.ndim == 1
        return self

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_outputs) like the ``y`` of the
        latest ``fit`` or ``partial_fit``: a single target given as a column stays a column, as
        in ``LinearRegression`` (``MLPRegressor`` returns shape (n_samples,) either way).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,) or (n_samples, n_outputs)
            In the wider of the network's dtype and ``X``'s float dtype.
        """
        out = self._raw_output(X)
        return out[:, 0] if self._single_output else out
