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

import functools
import math
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import kernels_cpu
from ..backend import resolve_device, resolve_dtype
from ..callbacks import DivergenceError, EarlyStopping, StopOnDivergence
from ..initializers import INITIALIZERS
from ..layers import ACTIVATIONS
from ..losses import LOSSES
from ..network import mlp
from ..train import batch_bounds
from ..optim import OPTIMIZERS, get_optimizer
from ..validation import as_float_array, check_fraction, check_positive, check_sample_weight
from .holdout import holdout_size, holdout_split

FLOAT_DTYPES = [np.float64, np.float32]


def as_generator(random_state) -> np.random.Generator:
    """A fresh NumPy Generator from ``random_state`` (None, int, RandomState or Generator)."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.Generator)):
        if isinstance(random_state, bool):
            raise TypeError(f"random_state must be None, an int or a NumPy random generator, got {random_state!r}")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state!r}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise TypeError(f"random_state must be None, an int or a NumPy random generator, got {random_state!r}")


def hidden_sizes(value) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one hidden layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"hidden_layer_sizes must be a tuple of positive integers, got {value!r}")
    sizes = tuple(value)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {value!r}")
    return tuple(int(s) for s in sizes)


def all_or_nothing(method):
    """Make a ``fit``/``partial_fit`` leave the estimator as it was when it raises: checks
    that fail after ``classes_``, ``n_features_in_`` or ``n_outputs_`` were set for the new
    data must not leave them describing a network the estimator does not have (its
    predictions and model files would be wrong). A run that diverged is the exception: it
    keeps the network it trained, at its last good weights (``DivergenceError``). Objects
    changed in place are not restored: ``_train`` makes its checks before it changes any."""

    @functools.wraps(method)
    def attempt(self, *args, **kwargs):
        before = dict(vars(self))
        try:
            return method(self, *args, **kwargs)
        except DivergenceError:
            raise
        except Exception:
            vars(self).clear()
            vars(self).update(before)
            raise

    return attempt


def _kept_score(history) -> float | None:
    """The validation score of the epoch whose weights a run kept: the one early stopping
    restored (the lowest validation loss), else the last."""
    if not history.val_metric:
        return None
    epoch = history.best_epoch if history.best_epoch is not None else len(history.val_metric) - 1
    return float(history.val_metric[epoch])


class NeuralNetBase(BaseEstimator):
    """Shared parameters and training of ``NeuralNetClassifier`` and ``NeuralNetRegressor``.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (32,)
        Widths of the hidden layers; ``()`` gives a one-layer (linear) model.
    activation : str, default "relu"
        Hidden activation, a ``chainrule.ACTIVATIONS`` name.
    init : str or None
        Weight initialiser (``chainrule.INITIALIZERS``); None: He for ReLU, Glorot otherwise.
    loss : str or None
        A ``chainrule.LOSSES`` name; None picks the natural one (bce / cross_entropy / mse).
    optimizer : str, default "adam"
        A ``chainrule.OPTIMIZERS`` name.
    learning_rate : float, default 1e-3
    batch_size : int or None, default 32
        Mini-batch size; None trains on the full batch.
    epochs : int, default 200
        Passes over the data per ``fit`` (``partial_fit`` makes one).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data, stop after more than ``patience``
        epochs in a row without a lower validation loss, and keep the best epoch's weights. The held-out part is
        ``ceil(validation_fraction · n_samples)`` rows (at least 2), stratified by class for
        the classifier where every class has 2 or more rows (as scikit-learn's MLP); sample
        weights are split with their rows and weight the training loss only (the validation
        loss and score are unweighted). ``fit`` only:
        ``partial_fit`` refuses it (one epoch on one batch has nothing to hold out), as
        scikit-learn's MLP does.
    validation_fraction : float, default 0.1
        The fraction held out with early stopping: in [0, 1) whether or not early stopping
        is on (checked at every fit, as scikit-learn does), and above 0 with it.
    patience : int, default 10
    l2 : float, default 0
        L2 penalty λ on the weights (the loss gains λ/2 ‖W‖²).
    batch_norm, dropout, residual
        Deep-network options, as in ``chainrule.mlp``.
    random_state : None, int or NumPy random generator
        Seeds initialisation, shuffling and the validation split.
    dtype : {"float64", "float32"} or None, default None
        None: the device's default, float64 on the CPU (exact lecture numbers) and float32
        on a GPU (speed); ``get_params`` keeps None.
    device : {"cpu", "cuda"}, default "cpu"
        Where the network is built and trained (CuPy for "cuda"). An estimator loaded from
        a model file has the device its network was loaded on (``chainrule.load(path,
        device=...)``, the CPU by default).
    verbose : int
        0 silent, 1 a progress bar (plain lines when the output is not a terminal or
        Jupyter), 2 a line every few epochs.
    warm_start : bool, default False
        ``fit`` continues the previous network (its weights, optimizer state and random
        generator; a fit that diverged reset the optimizer) instead of starting a new one. Training parameters changed in between
        apply to the next fit (and to ``partial_fit``): ``epochs``, ``batch_size``, ``l2``,
        ``early_stopping``, ``patience``, ``validation_fraction``, ``verbose``,
        ``learning_rate`` (the optimizer keeps its moments and step count) and ``optimizer``
        (another optimizer starts with fresh state). The parameters that define the network
        (``hidden_layer_sizes``, ``activation``, ``init``, ``loss``, ``batch_norm``,
        ``dropout``, ``residual``, ``dtype``, ``device``) cannot change: continuing a network
        built with others raises ValueError naming them (set ``warm_start=False`` to start a
        new network); ``dtype=None`` and the dtype it means on the network's device are the
        same dtype (no change). ``random_state`` seeds new networks only.

    Attributes
    ----------
    network_ : chainrule.Sequential
        The trained network.
    loss_curve_ : list of float
        Training loss per epoch, over every ``fit``/``partial_fit`` since the last reset.
    validation_scores_ : list of float
        Validation accuracy (classifier) or R² (regressor) per epoch. Empty until a fit
        uses early stopping; from then on aligned with ``loss_curve_`` (one entry per
        epoch), with NaN for the epochs trained without a validation part (earlier warm
        fits or ``partial_fit`` calls without early stopping).
    best_validation_score_ : float or None
        The validation score of the epoch whose weights the latest fit kept (early stopping
        restores the epoch with the lowest validation loss, which need not have the highest
        score). None when the latest ``fit`` or ``partial_fit`` had no validation part.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names (a pandas DataFrame).
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
        history = self._run_epochs(X, targets, sample_weight, validation, epochs)
        self._record(history, validated=validation is not None)
        return self

    def _prepare_network(self, n_features: int, n_outputs: int, reset: bool) -> None:
        """Build a new network (and reset the curves), or check the one to continue."""
        if reset or not hasattr(self, "network_"):
            self._rng = as_generator(self.random_state)
            self.network_ = self._build_network(n_features, n_outputs)
            self._built_with = self._network_params()
            self.loss_curve_, self.validation_scores_, self.n_iter_ = [], [], 0
            self._optimizer = None
        elif n_features != self.network_.n_inputs:
            raise ValueError(f"X has {n_features} features, but the fitted network takes {self.network_.n_inputs}")
        if getattr(self, "_rng", None) is None:  # an estimator loaded from a file
            self._rng = as_generator(self.random_state)

    def _record(self, history, validated: bool) -> None:
        """Append a run's epochs to the curves. ``validation_scores_`` stays empty until a
        run has validation data; from then on it has an entry for every epoch of
        ``loss_curve_``, NaN where an epoch had no validation."""
        done = len(self.loss_curve_)
        self.loss_curve_ += history.loss
        self.n_iter_ += history.epochs
        if validated or self.validation_scores_:
            scores = list(history.val_metric) if validated else []
            self.validation_scores_ += ([math.nan] * (done - len(self.validation_scores_)) + scores
                                        + [math.nan] * (len(history.loss) - len(scores)))
        self.best_validation_score_ = _kept_score(history) if validated else None

    def _prepare_optimizer(self, X, sample_weight) -> None:
        """Build the optimizer, or bring a continued network's up to the parameters: a new
        one when ``optimizer`` names another (its state would not fit), only the new step when
        ``learning_rate`` changed (moments and step count carry on: every optimizer reads its
        ``lr`` at each step), and the L2 penalty every time."""
        name = OPTIMIZERS.get(self.optimizer).name
        if getattr(self, "_optimizer", None) is None or name != self._optimizer.name:
            self._optimizer = get_optimizer(name, lr=self._learning_rate(X, sample_weight))
        elif self.learning_rate != getattr(self, "_optimizer_learning_rate", self.learning_rate):
            self._optimizer.set_lr(self._learning_rate(X, sample_weight))
        self._optimizer_learning_rate = self.learning_rate
        self._optimizer.l2 = self._l2_penalty(X, sample_weight)

    def _n_validation(self, n_samples: int) -> int:
        """How many of ``n_samples`` early stopping holds out (``holdout_size``)."""
        return holdout_size(self.validation_fraction, n_samples, min_train=2 if self.batch_norm else 1)

    def _split(self, X, targets, sample_weight, n_val: int, classes):
        """``((X, targets, sample_weight), validation)``: early stopping's split
        (``holdout_split``), seeded from the estimator's generator; none when ``n_val`` is 0."""
        if not n_val:
            return (X, targets, sample_weight), None
        return holdout_split(X, targets, sample_weight, n_val, classes,
                             seed=int(self._rng.integers(np.iinfo(np.int32).max)))

    def _run_epochs(self, X, targets, sample_weight, validation, epochs: int):
        """The engine's fit on the training part, with early stopping when there is ``validation``."""
        # a diverging run stops (DivergenceError) with its last good weights instead of "fitting"
        callbacks = [StopOnDivergence()] + ([EarlyStopping(patience=self.patience)] if validation else [])
        batch = None if self.batch_size is None else min(int(self.batch_size), X.shape[0])
        return self.network_.fit(
            X, targets, loss=self._loss_name(), optimizer=self._optimizer, epochs=int(epochs), batch_size=batch,
            validation_data=validation, callbacks=callbacks, verbose=int(self.verbose), rng=self._rng,
            sample_weight=sample_weight,
        )

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
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        return self.network_.predict(X, link=link)

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
        return tags
