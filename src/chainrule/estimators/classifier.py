"""``NeuralNetClassifier``: a feedforward network classifier with scikit-learn's interface."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ..losses import BINARY, LOSSES, MULTICLASS, Hinge
from .base import NeuralNetBase
from .fit_state import all_or_nothing
from .docs import ATTRIBUTES, INPUT, indent, parameters
from .labels import check_classes, check_multilabel_classes, validate_labels


def outputs_for(loss_cls, n_classes: int) -> int:
    """The network outputs ``n_classes`` need under a classification loss: one logit for two
    classes under a binary loss (BCE, hinge), one per class otherwise (cross-entropy, hinge
    one-vs-rest). Training and model files both ask here."""
    return 1 if n_classes == 2 and loss_cls.task != MULTICLASS else n_classes


def multilabel_loss_error(loss_cls) -> str | None:
    """Why ``loss_cls`` cannot train a multilabel classifier (None: it can). A multilabel
    classifier needs one independent decision per label: binary cross-entropy (a sigmoid per
    output) or hinge (a ±1 margin per output); softmax cross-entropy picks one label per row."""
    if loss_cls.task == BINARY:
        return None
    return (f"loss {loss_cls.name!r} picks one class per row; a multilabel y needs one decision per label: "
            "use loss=None (binary cross-entropy, a sigmoid per label) or 'hinge'")


def two_classes_only(loss_cls) -> bool:
    """A binary loss without a one-vs-rest form (BCE): it cannot train more than 2 classes."""
    return loss_cls.task == BINARY and not issubclass(loss_cls, Hinge)


def _has_probabilities(estimator) -> bool:
    # a fitted estimator answers for the loss it was trained with, whatever ``loss`` says now
    return estimator._fitted_loss() != "hinge"


def _has_margins(estimator) -> bool:
    return estimator._fitted_loss() == "hinge"


_LOSS_DEFAULT = ("\"bce\" (binary cross-entropy on one logit) for two classes and for multilabel y, "
                 "\"cross_entropy\" (softmax) for more classes. \"log_loss\", scikit-learn's name, means the "
                 "same natural choice, as in scikit-learn; \"bce\" and its other aliases are for two classes "
                 "(or multilabel y) only.")


class NeuralNetClassifier(ClassifierMixin, NeuralNetBase):
    __doc__ = f"""A feedforward network classifier trained by chainrule's backpropagation.

    Two classes get one logit output with binary cross-entropy (sigmoid link); more get one
    logit per class with softmax cross-entropy. ``loss="cross_entropy"`` forces the softmax
    head for two classes too; ``loss="hinge"`` trains a margin classifier on ±1 targets
    (one-vs-rest for several classes), which has ``decision_function`` instead of
    ``predict_proba``. Predictions follow the loss the network was fitted with: a ``loss``
    set after the fit applies to the next new network.

    Labels are those scikit-learn's classifiers take (``check_classification_targets``):
    integers, floats with integral values, booleans, strings (also in an object array or a
    pandas categorical) and datetimes. Refused, as by ``MLPClassifier``: continuous values,
    bytes, numbers in an object array (scikit-learn's type "unknown": convert them with
    ``astype(int)``), None, and labels mixing numbers and strings. A model file stores
    numbers and strings only (not datetimes).

    A 2-D ``y`` of 0/1 (or True/False) values, shape (n_samples, n_labels), is a multilabel
    problem, as in ``MLPClassifier``: one sigmoid output per label with binary
    cross-entropy (the mean over samples and labels) or, with ``loss="hinge"``, one ±1
    margin per label; ``classes_`` is ``arange(n_labels)`` and ``predict`` returns a 0/1
    array of ``y``'s shape. Several multi-class targets are for
    ``sklearn.multioutput.MultiOutputClassifier``.

{indent(parameters(_LOSS_DEFAULT))}
    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The class labels, sorted; ``predict`` returns values of this array. For multilabel
        ``y``: ``arange(n_labels)``, the columns of ``y``.
{indent(ATTRIBUTES)}
    Notes
    -----
{indent(INPUT)}
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
        the labels (bce for two classes and multilabel, cross_entropy for more) when ``loss``
        is None or scikit-learn's "log_loss"."""
        loss = self._canonical_loss()
        if loss is not None and not self._means_natural_loss():
            return loss
        return "bce" if len(getattr(self, "classes_", ())) == 2 or self._is_multilabel() else "cross_entropy"

    def _means_natural_loss(self) -> bool:
        """``loss="log_loss"``: scikit-learn's name for the log loss of any number of classes."""
        return isinstance(self.loss, str) and self.loss.lower().replace("-", "_") == "log_loss"

    def _is_multilabel(self) -> bool:
        return bool(getattr(self, "_multilabel", False))

    # -- fitting -------------------------------------------------------------------------------
    @all_or_nothing
    def fit(self, X, y, sample_weight=None):
        """Train from scratch (or continue the previous network, with ``warm_start``).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)
            Training inputs (sparse: made dense).
        y : array-like, shape (n_samples,) or (n_samples, n_labels)
            Class labels (see the class docstring for the kinds accepted), or a 0/1
            multilabel indicator matrix.
        sample_weight : float or array-like, shape (n_samples,), optional
            Non-negative weight of each sample in the loss (a number: the same for all).

        Returns
        -------
        self : NeuralNetClassifier
            The fitted estimator.

        Raises
        ------
        chainrule.DivergenceError
            The loss blew up; the network keeps its last good weights and the curves the
            epochs up to them.
        """
        self._check_params()
        warm = self._warm()
        X, y, multilabel = validate_labels(self, X, y, reset=not warm)
        if multilabel:
            classes = np.arange(y.shape[1])
        else:
            check_classification_targets(y)
            encoder = LabelEncoder().fit(y)
            classes = encoder.classes_
        if warm and (multilabel != self._is_multilabel() or not np.array_equal(classes, self.classes_)):
            raise ValueError(f"warm_start needs the classes of the previous fit ({self._describe_classes()}), "
                             f"got {self._describe_classes(classes, multilabel)}")
        self._multilabel, self.classes_ = multilabel, classes
        if not multilabel:
            self._encoder = encoder
        return self._fit_labels(X, y, sample_weight, self.epochs, reset=not warm)

    @all_or_nothing
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on ``(X, y)``. The parameters are checked at every call;
        ``early_stopping=True`` is refused (as in scikit-learn's MLP).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)
        y : array-like, shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multilabel indicator matrix.
        classes : array-like, shape (n_classes,), optional
            Every label there will be: required on the first call, checked against the
            first call's on later ones. One-dimensional, distinct, non-empty and without
            NaN or None. For multilabel ``y``: ``arange(n_labels)``.
        sample_weight : float or array-like, shape (n_samples,), optional

        Returns
        -------
        self : NeuralNetClassifier
        """
        self._check_partial_fit()
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if classes is not None:
            classes = check_classes(classes)
            if not first and not np.array_equal(np.sort(classes), self.classes_):
                raise ValueError(f"classes {np.sort(classes).tolist()} differ from those of the first call "
                                 f"({self.classes_.tolist()})")
        X, y, multilabel = validate_labels(self, X, y, reset=first)
        if first:
            self._start_partial_fit(classes, y, multilabel)
        elif multilabel != self._is_multilabel():
            raise ValueError(f"partial_fit continues a classifier fitted on {self._describe_classes()}, "
                             f"got {self._describe_classes(np.arange(y.shape[1]) if multilabel else None, multilabel)}")
        if multilabel:
            check_multilabel_classes(self.classes_, y.shape[1])
        else:
            check_classification_targets(y)
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(f"y has labels {unknown.tolist()} not in classes {self.classes_.tolist()}")
        return self._fit_labels(X, y, sample_weight, 1, reset=first)

    def _start_partial_fit(self, classes, y, multilabel: bool) -> None:
        """The first ``partial_fit``: ``classes_`` from ``classes`` (the label columns'
        indices for multilabel ``y``)."""
        self._multilabel = multilabel
        if multilabel:
            check_multilabel_classes(classes, y.shape[1])
            self.classes_ = np.arange(y.shape[1])
            return
        self._encoder = LabelEncoder().fit(classes)
        self.classes_ = self._encoder.classes_

    def _describe_classes(self, classes=None, multilabel=None) -> str:
        classes = self.classes_ if classes is None else classes
        multilabel = self._is_multilabel() if multilabel is None else multilabel
        return f"{len(classes)} multilabel columns" if multilabel else f"classes {classes.tolist()}"

    def _fit_labels(self, X, y, sample_weight, epochs, reset):
        loss_cls = LOSSES.get(self._loss_name())
        if self._is_multilabel():
            problem = multilabel_loss_error(loss_cls)
            if problem:
                raise ValueError(problem)
            return self._train(X, self._targets(y), y.shape[1], sample_weight, epochs, reset)
        if len(self.classes_) < 2:
            raise ValueError(f"the classifier needs at least 2 classes in y, got 1 class ({self.classes_.tolist()[0]!r})")
        if two_classes_only(loss_cls) and len(self.classes_) > 2:
            raise ValueError(f"loss {self.loss!r} is for two classes but y has {len(self.classes_)}; "
                             "use loss='cross_entropy', 'log_loss' or None")
        encoded = self._encoder.transform(y)
        return self._train(X, self._targets(encoded), self._n_outputs(), sample_weight, epochs, reset,
                           classes=encoded)

    def _n_outputs(self) -> int:
        """One logit for two classes (bce, hinge), one per class otherwise, one per label
        for multilabel ``y``."""
        if self._is_multilabel():
            return len(self.classes_)
        return outputs_for(LOSSES.get(self._loss_name()), len(self.classes_))

    def _targets(self, encoded):
        """Targets in the encoding the loss takes: 0/1 (bce; a 0/1 column per label for
        multilabel), indices (cross-entropy), ±1 (hinge; one ±1 column per class for several
        classes, per label for multilabel)."""
        if self._is_multilabel():
            return np.where(encoded > 0, 1.0, -1.0) if self._loss_name() == "hinge" else encoded.astype(float)
        if self._loss_name() != "hinge":
            return encoded
        if len(self.classes_) == 2:
            return np.where(encoded == 1, 1.0, -1.0)
        return np.where(np.eye(len(self.classes_))[encoded] > 0, 1.0, -1.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # -- prediction ----------------------------------------------------------------------------
    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
            Columns in ``classes_`` order; for multilabel ``y``, each label's own probability
            (the rows need not sum to 1).
        """
        return self._class_probabilities(X, log=False)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of ``predict_proba``, computed from the logits: finite where a
        probability underflows to 0 (log σ(-40) = -40, not log 0).

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_classes)
        """
        return self._class_probabilities(X, log=True)

    def _class_probabilities(self, X, log: bool):
        logits = self._raw_output(X, link=False)
        with np.errstate(over="ignore", under="ignore"):
            if self._is_multilabel():
                return self.network_.loss.label_probabilities(logits, log=log)
            return self.network_.loss.class_probabilities(logits, log=log)

    @available_if(_has_margins)
    def decision_function(self, X):
        """Signed margins f(x) of a hinge-loss classifier.

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,) or (n_samples, n_classes)
            (n,) for two classes (positive means ``classes_[1]``), (n, n_classes)
            one-vs-rest otherwise, (n, n_labels) for multilabel ``y`` (positive means the
            label is on).
        """
        out = self._raw_output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """The predicted class of each row.

        Parameters
        ----------
        X : array-like or sparse matrix, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples,) or, for multilabel ``y``, (n_samples, n_labels)
            Values of ``classes_``; for multilabel, 0/1 integers (a label is on where its
            logit or margin is positive).
        """
        if self._is_multilabel():
            return (self._raw_output(X, link=False) > 0).astype(np.int64)
        if _has_margins(self):
            scores = self.decision_function(X)
            index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        else:  # the loss's own decision from the logits, as in fit's accuracy (σ(z) rounds to 0.5 near z = 0)
            logits = self._raw_output(X, link=False)  # checks the fit first
            index = np.asarray(self.network_.loss.decide(logits))
        return self.classes_[index]
