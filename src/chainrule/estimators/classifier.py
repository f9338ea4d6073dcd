"""``NeuralNetClassifier``: a feedforward network classifier with scikit-learn's interface."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ..losses import BINARY, LOSSES, MULTICLASS, Hinge
from .base import FLOAT_DTYPES, NeuralNetBase, all_or_nothing


def outputs_for(loss_cls, n_classes: int) -> int:
    """The network outputs ``n_classes`` need under a classification loss: one logit for two
    classes under a binary loss (BCE, hinge), one per class otherwise (cross-entropy, hinge
    one-vs-rest). Training and model files both ask here."""
    return 1 if n_classes == 2 and loss_cls.task != MULTICLASS else n_classes


def two_classes_only(loss_cls) -> bool:
    """A binary loss without a one-vs-rest form (BCE): it cannot train more than 2 classes."""
    return loss_cls.task == BINARY and not issubclass(loss_cls, Hinge)


def _has_probabilities(estimator) -> bool:
    # a fitted estimator answers for the loss it was trained with, whatever ``loss`` says now
    return estimator._fitted_loss() != "hinge"


def _has_margins(estimator) -> bool:
    return estimator._fitted_loss() == "hinge"


class NeuralNetClassifier(ClassifierMixin, NeuralNetBase):
    """A feedforward network classifier trained by chainrule's backpropagation.

    Two classes get one logit output with binary cross-entropy (sigmoid link); more get one
    logit per class with softmax cross-entropy. ``loss="cross_entropy"`` forces the softmax
    head for two classes too; ``loss="hinge"`` trains a margin classifier on ±1 targets
    (one-vs-rest for several classes), which has ``decision_function`` instead of
    ``predict_proba``. Any label type works (ints, strings, ...). The parameters are those
    of ``chainrule.estimators.NeuralNetBase``. Predictions follow the loss the network was
    fitted with: a ``loss`` set after the fit applies to the next new network.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The class labels, sorted; ``predict`` returns values of this array.
    network_, loss_curve_, validation_scores_, best_validation_score_, n_iter_
        See ``NeuralNetBase``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=50, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _task = "classification"

    def _loss_name(self) -> str:
        """The canonical loss name: ``loss``'s (aliases resolved), or the natural one for
        the number of classes (bce for two, cross_entropy for more)."""
        loss = self._canonical_loss()
        if loss is not None:
            return loss
        return "bce" if len(getattr(self, "classes_", ())) == 2 else "cross_entropy"

    # -- fitting -------------------------------------------------------------------------------
    @all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or continue the previous network, with ``warm_start``).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
            Class labels of any type.
        sample_weight : float or array-like, shape (n_samples,), optional
            Non-negative weight of each sample in the loss (a number: the same for all).
        """
        self._check_params()
        warm = self._warm()
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES, reset=not warm)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if warm and not np.array_equal(encoder.classes_, self.classes_):
            raise ValueError(f"warm_start needs the classes of the previous fit ({self.classes_.tolist()}), "
                             f"got {encoder.classes_.tolist()}")
        self._encoder, self.classes_ = encoder, encoder.classes_
        return self._fit_labels(X, y, sample_weight, self.epochs, reset=not warm)

    @all_or_nothing
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on ``(X, y)``; ``classes`` (every label there will be) is required on the
        first call. The parameters are checked at every call; ``early_stopping=True`` is
        refused (as in scikit-learn's MLP)."""
        self._check_partial_fit()
        first = not hasattr(self, "network_")
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._encoder = LabelEncoder().fit(np.asarray(classes))
            self.classes_ = self._encoder.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes).tolist()} differ from those of the first call "
                             f"({self.classes_.tolist()})")
        X, y = validate_data(self, X, y, dtype=FLOAT_DTYPES, reset=first)
        check_classification_targets(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y has labels {unknown.tolist()} not in classes {self.classes_.tolist()}")
        return self._fit_labels(X, y, sample_weight, 1, reset=first)

    def _fit_labels(self, X, y, sample_weight, epochs, reset):
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y, got 1 class ({self.classes_.tolist()[0]!r})")
        if two_classes_only(LOSSES.get(self._loss_name())) and len(self.classes_) > 2:
            raise ValueError(f"loss {self.loss!r} is for two classes but y has {len(self.classes_)}; "
                             "use loss='cross_entropy' or None")
        encoded = self._encoder.transform(y)
        return self._train(X, self._targets(encoded), self._n_outputs(), sample_weight, epochs, reset,
                           classes=encoded)

    def _n_outputs(self) -> int:
        """One logit for two classes (bce, hinge), one per class otherwise."""
        return outputs_for(LOSSES.get(self._loss_name()), len(self.classes_))

    def _targets(self, encoded):
        """Class indices in the encoding the loss takes: 0/1 (bce), indices (cross-entropy),
        ±1 (hinge; one ±1 column per class for several classes)."""
        if self._loss_name() != "hinge":
            return encoded
        if len(self.classes_) == 2:
            return np.where(encoded == 1, 1.0, -1.0)
        return np.where(np.eye(len(self.classes_))[encoded] > 0, 1.0, -1.0)

    # -- prediction ----------------------------------------------------------------------------
    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        return self._class_probabilities(X, log=False)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``, shape (n_samples, n_classes), computed from the
        logits: finite where a probability underflows to 0 (log σ(-40) = -40, not log 0)."""
        return self._class_probabilities(X, log=True)

    def _class_probabilities(self, X, log: bool):
        logits = self._raw_output(X, link=False)
        with np.errstate(over="ignore", under="ignore"):
            return self.network_.loss.class_probabilities(logits, log=log)

    @available_if(_has_margins)
    def decision_function(self, X):
        """Signed margins f(x) of a hinge-loss classifier: shape (n,) for two classes
        (positive means ``classes_[1]``), (n, n_classes) one-vs-rest otherwise."""
        out = self._raw_output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """The predicted class label of each row, shape (n_samples,)."""
        if _has_margins(self):
            scores = self.decision_function(X)
            index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        else:  # the loss's own decision from the logits, as in fit's accuracy (σ(z) rounds to 0.5 near z = 0)
            logits = self._raw_output(X, link=False)  # checks the fit first
            index = np.asarray(self.network_.loss.decide(logits))
        return self.classes_[index]
