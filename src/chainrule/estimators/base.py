"""The shared base of chainrule's scikit-learn estimators: parameters, their checks, the
network an estimator trains, the training itself, and saving to a model file.

Extension points for subclasses (and for new layer kinds):

- ``_build_network(n_inputs, n_outputs)`` is the one place the architecture is made, and
  ``_network_params()`` lists the parameters it reads (a continued network refuses changes
  to them), so a new layer option goes into both;
- ``_loss_name()`` picks the loss (its canonical registry name), ``_learning_rate(X, sample_weight)`` the step size and
  ``_l2_penalty(X, sample_weight)`` the L2 coefficient handed to the optimizer;
- ``_check_params()`` validates every constructor argument before any work starts.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import kernels_cpu
from ..backend import resolve_device, resolve_dtype
from ..caller import caller_stacklevel
from ..callbacks import DivergenceError, EarlyStopping, TrainingInterrupted
from ..initializers import INITIALIZERS
from ..layers import ACTIVATIONS
from ..losses import LOSSES
from ..network import mlp
from ..train import batch_bounds
from ..optim import OPTIMIZERS, get_optimizer
from ..validation import as_float_array, check_fraction, check_positive, check_sample_weight
from .docs import ATTRIBUTES, INPUT, indent, parameters
from .fit_state import TRAINED, _DivergenceFromStart, _kept_score, _PenaltyCurve
from .holdout import holdout_size, holdout_split
from .inputs import FLOAT_DTYPES, SPARSE_FORMATS, as_generator, dense, hidden_sizes

class NeuralNetBase(BaseEstimator):
    __doc__ = f"""Shared parameters and training of ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

{indent(parameters("the subclass's (mse for the regressor; bce or cross_entropy for the classifier)."))}
    Attributes
    ----------
{indent(ATTRIBUTES)}
    Notes
    -----
{indent(INPUT)}
    """

    _task = "regression"  # which losses fit this estimator: "regression" or "classification"

    def __init__(self, hidden_layer_sizes=(32,), activation="relu", init=None, loss=None, optimizer="adam",
                 learning_rate=1e-3, batch_size=32, epochs=200, early_stopping=False,
                 validation_fraction=0.1, patience=10, l2=0.0, batch_norm=False, dropout=0.0,
                 residual=False, random_state=None, dtype=None, device="cpu", verbose=0,
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

    # -- parameters ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise ValueError/TypeError naming the first bad constructor argument."""
        hidden_sizes(self.hidden_layer_sizes)
        ACTIVATIONS.get(self.activation)
        if self.init is not None:
            INITIALIZERS.get(self.init)
        if self.loss is not None:
            self._check_loss(LOSSES.get(self.loss))
        OPTIMIZERS.get(self.optimizer)
        self._check_learning_rate()
        if self.batch_size is not None:
            check_positive("batch_size", self.batch_size, integer=True)
        check_positive("epochs", self.epochs, integer=True)
        for name in ("early_stopping", "batch_norm", "residual", "warm_start"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        # checked with or without early stopping, as scikit-learn's MLP checks it ([0, 1))
        if not check_fraction("validation_fraction", self.validation_fraction) and self.early_stopping:
            raise ValueError(f"validation_fraction must be in (0, 1) with early stopping, got {self.validation_fraction!r}")
        check_positive("patience", self.patience, integer=True, allow_zero=True)
        check_positive("l2", self.l2, allow_zero=True)
        if self._decoupled_decay() and isinstance(self.learning_rate, numbers.Real):
            self._check_decay(float(self.learning_rate), float(self.l2))
        check_fraction("dropout", self.dropout)
        self._dtype()
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {self.verbose!r}")
        as_generator(self.random_state)

    def _check_partial_fit(self) -> None:
        """``partial_fit``'s checks, at every call (parameters may have changed since the last)."""
        self._check_params()
        self._check_same_network("partial_fit continues the fitted network",
                                 "call fit with warm_start=False to start a new network")
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True (nor does scikit-learn's MLP): "
                             "it trains one epoch on the batch it is given and holds nothing out; "
                             "set early_stopping=False")

    def _dtype(self) -> np.dtype:
        """The dtype the network is built in: ``dtype``, or the device's default for None
        (float64 on the CPU, float32 on a GPU)."""
        return resolve_dtype(self.dtype, resolve_device(self.device))

    def _network_params(self) -> dict:
        """The parameters that define the network, canonical ("ReLU" is "relu", 8 is (8,)):
        what continuing a network (``warm_start``, ``partial_fit``) must leave as they were."""
        device = resolve_device(self.device)
        return {
            "hidden_layer_sizes": hidden_sizes(self.hidden_layer_sizes),
            "activation": ACTIVATIONS.get(self.activation).name,
            "init": None if self.init is None else INITIALIZERS.get(self.init).name,
            "loss": self._loss_name(),
            "batch_norm": bool(self.batch_norm),
            "dropout": float(self.dropout),
            "residual": bool(self.residual),
            "dtype": resolve_dtype(self.dtype, device).name,
            "device": device,
        }

    def _check_same_network(self, action: str, remedy: str, ignore=()) -> None:
        """Raise, before ``action`` uses the fitted network, when a parameter that defines the
        network (other than those in ``ignore``) changed since it was built: get_params and
        model files would describe a network the estimator does not have."""
        built = getattr(self, "_built_with", None)
        if built is None or not hasattr(self, "network_"):
            return
        now = self._network_params()
        if "device" in ignore:  # dtype=None then means the default of the device the network is on
            now["dtype"] = resolve_dtype(self.dtype, built.get("device")).name
        changed = [f"{name} ({built.get(name)!r} -> {value!r})" for name, value in now.items()
                   if value != built.get(name) and name not in ignore]
        if changed:
            raise ValueError(f"{action}, but {', '.join(changed)} changed since it was built; {remedy}, "
                             "or set them back")

    def _check_loss(self, loss_cls) -> None:
        is_regression = loss_cls.task == "regression"
        if is_regression != (self._task == "regression"):
            kind = "a regression" if is_regression else "a classification"
            raise ValueError(f"loss {self.loss!r} is {kind} loss; {type(self).__name__} needs a "
                             f"{self._task} loss")

    def _check_learning_rate(self) -> None:
        check_positive("learning_rate", self.learning_rate)

    # -- extension points ----------------------------------------------------------------------
    def _build_network(self, n_inputs: int, n_outputs: int, hidden=None, device=None):
        """The network this estimator trains (the one place that sets the architecture);
        ``hidden`` and ``device`` replace ``hidden_layer_sizes`` and ``device`` (a model file's
        check builds the same architecture at small widths on the CPU)."""
        hidden = hidden_sizes(self.hidden_layer_sizes) if hidden is None else hidden
        return mlp([n_inputs, *hidden, n_outputs], activation=self.activation,
                   init=self.init, rng=self._rng, dtype=self._dtype(), device=device or self.device,
                   batch_norm=self.batch_norm, dropout=self.dropout, residual=self.residual)

    def _loss_name(self) -> str:
        """The canonical name of the loss (``"mse"`` by default), whatever alias names it."""
        return self._canonical_loss() or "mse"

    def _fitted_loss(self) -> str:
        """The canonical name of the loss the fitted network was trained with, which its
        outputs follow (``loss`` may have been set to another since, for the next new
        network); before a fit, the loss ``loss`` names."""
        if hasattr(self, "network_"):
            if self.network_.loss is not None:  # set by the network's fit, and by model files
                return self.network_.loss.name
            built = getattr(self, "_built_with", None)
            if built is not None:
                return built["loss"]
        return self._loss_name()

    def _canonical_loss(self) -> str | None:
        """``loss`` as its registry name ("Hinge", "svm" -> "hinge"); None stays None."""
        if self.loss is None:
            return None
        try:
            return LOSSES.get(self.loss).name
        except (TypeError, ValueError):
            return self.loss  # an unknown name: _check_params reports it when fit starts

    def _learning_rate(self, X, sample_weight) -> float:
        return float(self.learning_rate)

    def _l2_penalty(self, X, sample_weight) -> float:
        return float(self.l2)

    # -- training ------------------------------------------------------------------------------
    def _train(self, X, targets, n_outputs: int, sample_weight, epochs: int, reset: bool, classes=None):
        """Run ``epochs`` epochs on ``(X, targets)`` (targets already in the loss's encoding;
        ``classes``, each row's class index, stratifies early stopping's validation split)."""
        if isinstance(sample_weight, numbers.Real):  # one weight for every sample, as scikit-learn allows
            sample_weight = np.full(X.shape[0], float(sample_weight))
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        # what fit would refuse, refused before the network is built or the optimizer changed (a
        # failed fit leaves the estimator as it was: all_or_nothing restores attributes, not objects)
        if X.dtype != self._dtype():  # validate_data checked finiteness: only a narrowing cast can overflow
            X = as_float_array("X", X, self._dtype(), ndim=(2,))  # a value beyond float32's range, named
        kernels_cpu.check_setting()
        batch_bounds(X.shape[0], min(int(self.batch_size or X.shape[0]), X.shape[0]), 2 if self.batch_norm else 1)
        n_val = self._n_validation(X.shape[0]) if self.early_stopping else 0
        self._prepare_network(X.shape[1], n_outputs, reset)
        self._prepare_optimizer(X, sample_weight)
        (X, targets, sample_weight), validation = self._split(X, targets, sample_weight, n_val, classes)
        penalty = self._penalty_curve(X, sample_weight)
        try:
            history = self._run_epochs(X, targets, sample_weight, validation, epochs, penalty)
        except DivergenceError as error:  # the epochs that ran count, up to the weights kept
            if error.history is not None:
                self._append_curves(error.history, validation is not None, penalty)
                self.best_validation_score_ = None
            raise
        except TrainingInterrupted as interrupt:  # as scikit-learn's MLP: stop, keep the epochs that ended, warn
            history = interrupt.history
            if not history.epochs:  # none ended: the estimator stays as it was, and Ctrl-C stops the caller
                raise
            vars(self)[TRAINED] = True
            self._append_curves(history, validation is not None, penalty)
            self.best_validation_score_ = _kept_score(history) if validation is not None else None
            warnings.warn(f"training interrupted by the user: {history.stop_reason}", UserWarning,
                          stacklevel=caller_stacklevel())
            return self
        vars(self)[TRAINED] = True
        self._append_curves(history, validation is not None, penalty)
        self._record(history, validated=validation is not None)
        return self

    def _penalty_curve(self, X, sample_weight):
        """The callback that measures the L2 penalty the loss gains each epoch, or None
        without one (``l2=0``, or AdamW, whose decay is decoupled from the loss)."""
        if self._decoupled_decay():
            return None
        l2 = self._l2_penalty(X, sample_weight)
        return _PenaltyCurve(l2) if l2 else None

    def _decoupled_decay(self) -> bool:
        """True when ``l2`` is AdamW's decoupled weight decay instead of a loss penalty."""
        return OPTIMIZERS.get(self.optimizer).name == "adamw"

    def _prepare_network(self, n_features: int, n_outputs: int, reset: bool) -> None:
        """Build a new network (and reset the curves), or check the one to continue."""
        if reset or not hasattr(self, "network_"):
            self._rng = as_generator(self.random_state)
            self.network_ = self._build_network(n_features, n_outputs)
            self._built_with = self._network_params()
            self.loss_curve_, self.validation_scores_, self.n_iter_ = [], [], 0
            self._optimizer = None
            self._first_loss = None  # the loss the network's training begins with
            self._split_seed = None  # early stopping's split, kept for warm fits
        elif n_features != self.network_.n_inputs:
            raise ValueError(f"X has {n_features} features, but the fitted network takes {self.network_.n_inputs}")
        if getattr(self, "_rng", None) is None:  # an estimator loaded from a file
            self._rng = as_generator(self.random_state)

    def _record(self, history, validated: bool) -> None:
        """After a run that ended without diverging (its curves already appended): the
        validation score of the weights it kept. Subclasses extend it (convergence checks)."""
        self.best_validation_score_ = _kept_score(history) if validated else None

    def _append_curves(self, history, validated: bool, penalty=None) -> None:
        """Append a run's epochs to the curves: the loss (plus the L2 penalty ``penalty``
        measured, if any) to ``loss_curve_``, the count to ``n_iter_``. ``validation_scores_``
        stays empty until a run has validation data; from then on it has an entry for every
        epoch of ``loss_curve_``, NaN where an epoch had no validation. The first epoch's
        data loss of a new network is remembered as the divergence reference."""
        losses = [float(v) for v in history.loss]
        if losses and getattr(self, "_first_loss", None) is None:
            self._first_loss = losses[0]
        if penalty is not None:
            losses = [v + p for v, p in zip(losses, penalty.values)]
        done = len(self.loss_curve_)
        self.loss_curve_ += losses  # in place: a streaming fit's curves are long
        self.n_iter_ += len(losses)
        if validated or self.validation_scores_:
            scores = list(history.val_metric)[:len(losses)] if validated else []
            self.validation_scores_ += ([math.nan] * (done - len(self.validation_scores_)) + scores
                                        + [math.nan] * (len(losses) - len(scores)))

    def _divergence_reference(self) -> float | None:
        """The loss the network's training began with (``_DivergenceFromStart``): its first
        epoch's; for a network loaded from a file, the first of its ``loss_curve_``."""
        first = getattr(self, "_first_loss", None)
        if first is None and getattr(self, "loss_curve_", None):
            first = float(self.loss_curve_[0])
        return first

    def _prepare_optimizer(self, X, sample_weight) -> None:
        """Build the optimizer, or bring a continued network's up to the parameters: a new
        one when ``optimizer`` names another (its state would not fit), only the new step when
        ``learning_rate`` changed (moments and step count carry on: every optimizer reads its
        ``lr`` at each step), and the L2 penalty every time."""
        name = OPTIMIZERS.get(self.optimizer).name
        l2 = self._l2_penalty(X, sample_weight)
        decoupled = self._decoupled_decay()
        new = getattr(self, "_optimizer", None) is None or name != self._optimizer.name
        lr = self._learning_rate(X, sample_weight)
        if decoupled:
            self._check_decay(lr if lr is not None else OPTIMIZERS.get(name).default_lr, l2)
        if new:
            self._optimizer = get_optimizer(name, lr=lr, **({"weight_decay": l2} if decoupled else {}))
        else:
            if decoupled:
                self._optimizer.weight_decay = l2
            if self.learning_rate != getattr(self, "_optimizer_learning_rate", self.learning_rate):
                self._optimizer.set_lr(lr)
        self._optimizer_learning_rate = self.learning_rate
        self._optimizer.l2 = 0.0 if decoupled else l2

    def _check_decay(self, lr: float, decay: float) -> None:
        """AdamW multiplies the weights by ``1 − learning_rate · l2`` at each step: refuse a
        product of 1 or more (it would flip their signs) before training, by the estimator's
        parameter names."""
        if lr * decay >= 1:
            raise ValueError(f"optimizer='adamw' takes l2 as its decoupled weight decay, which multiplies the "
                             f"weights by 1 − learning_rate·l2 at each step: learning_rate × l2 must be below 1, "
                             f"got {lr:g} × {decay:g}")

    def _n_validation(self, n_samples: int) -> int:
        """How many of ``n_samples`` early stopping holds out (``holdout_size``)."""
        return holdout_size(self.validation_fraction, n_samples, min_train=2 if self.batch_norm else 1)

    def _split(self, X, targets, sample_weight, n_val: int, classes):
        """``((X, targets, sample_weight), validation)``: early stopping's split
        (``holdout_split``); none when ``n_val`` is 0. Its seed is drawn from the estimator's
        generator once per network and kept, so warm fits on the same data hold out the same
        rows (a new draw would validate on rows earlier fits trained on)."""
        if not n_val:
            return (X, targets, sample_weight), None
        if getattr(self, "_split_seed", None) is None:
            self._split_seed = int(self._rng.integers(np.iinfo(np.int32).max))
        return holdout_split(X, targets, sample_weight, n_val, classes, seed=self._split_seed)

    def _run_epochs(self, X, targets, sample_weight, validation, epochs: int, penalty=None):
        """The engine's fit on the training part, with early stopping when there is
        ``validation`` and the ``penalty`` callback (``_PenaltyCurve``) if any."""
        # a diverging run stops (DivergenceError) with its last good weights instead of "fitting";
        # a continued network measures divergence from where its training began
        callbacks = [_DivergenceFromStart(self._divergence_reference())]
        callbacks += [penalty] if penalty is not None else []
        callbacks += [EarlyStopping(patience=self.patience)] if validation else []
        batch = None if self.batch_size is None else min(int(self.batch_size), X.shape[0])
        return self.network_.fit(
            X, targets, loss=self._loss_name(), optimizer=self._optimizer, epochs=int(epochs), batch_size=batch,
            validation_data=validation, callbacks=callbacks, verbose=int(self.verbose), rng=self._rng,
            sample_weight=sample_weight, metric=self._metric_name(),
        )

    def _metric_name(self) -> str:
        """The engine metric behind ``validation_scores_``: subset accuracy for a multilabel
        classifier (``score``'s), else the loss's default (accuracy or R²)."""
        return "subset_accuracy" if getattr(self, "_multilabel", False) else "auto"

    def _warm(self) -> bool:
        """True when ``fit`` should continue the previous network, after refusing parameters
        that define the network and changed since it was built."""
        warm = bool(self.warm_start) and hasattr(self, "network_")
        if warm:
            self._check_same_network("warm_start=True continues the fitted network",
                                     "set warm_start=False to start a new network")
        return warm

    def _raw_output(self, X, link: bool = True):
        """The network's output for validated ``X``: after the loss's link, or the raw A[L]
        (``link=False``)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
        out = self.network_.predict(dense(X), link=link)
        # in the wider of the network's and the input's float dtypes (float64 X, float64 answers)
        return out.astype(np.result_type(out.dtype, X.dtype), copy=False)

    # -- model files ---------------------------------------------------------------------------
    def save(self, path, **metadata):
        """Write the fitted estimator to a model file (safetensors weights, JSON record).

        ``chainrule.load(path)`` returns an estimator that predicts the same, on the CPU
        whatever device this one trained on (``chainrule.load(path, device="cuda")``: on the
        GPU); its ``device`` parameter says where. Keyword arguments are stored as JSON
        metadata beside it (e.g. ``target="price"`` for ``chainrule evaluate``).

        The file holds no optimizer state and no random generator: a loaded estimator's
        ``partial_fit`` or warm ``fit`` continues the weights with a fresh optimizer (Adam's
        moments and step count start again) and a generator seeded anew from
        ``random_state``, so it does not train exactly as this estimator would (a pickled
        copy does, except for Dropout's masks on a GPU, whose generator a copy seeds anew).

        Returns
        -------
        pathlib.Path
        """
        from ..io import save_model

        return save_model(self, path, **metadata)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.sparse = True  # made dense before training and prediction
        return tags
