"""How an estimator's fit keeps its state honest: the callbacks its training runs with (the
divergence check measured from where the network began, the L2 penalty per epoch for
``loss_curve_``), the validation score it keeps, and fits that leave the estimator as it was
when they fail."""

from __future__ import annotations

import functools

from ..backend import namespace
from ..callbacks import Callback, DivergenceError, StopOnDivergence

class _DivergenceFromStart(StopOnDivergence):
    """``StopOnDivergence`` measured from where the estimator's network began training.

    A continued network (a warm ``fit``, ``partial_fit``) compares each epoch's loss with
    ``start``, the first epoch's loss of the network's first fit, instead of with the
    continuation's own first epoch: after convergence that loss is tiny and Adam's normal
    wobble would look like a 1000-fold blow-up. ``start=None`` (a new network) is the plain
    rule.

    Parameters
    ----------
    start : float or None
        The loss the network's training began with.
    """

    def __init__(self, start: float | None = None):
        super().__init__()
        self.start = start

    def on_train_begin(self, trainer):
        super().on_train_begin(trainer)
        if self.start is not None:
            self.first = self.start

    def on_epoch_end(self, trainer, epoch, logs):
        name = "the first epoch's" if self.start is None else "the first epoch's of the network's first fit"
        self.check(trainer, epoch, logs["loss"], first_name=name)


class _PenaltyCurve(Callback):
    """Record ``l2/2 · ‖W‖²`` (regularised parameters: weights, not biases or BatchNorm's
    scale and shift) at the start of every epoch, the weights the epoch's loss speaks for.

    Attributes
    ----------
    values : list of float
        One penalty per epoch begun.
    """

    adds_log_keys = False

    def __init__(self, l2: float):
        self.l2 = float(l2)
        self.values = []

    def on_epoch_begin(self, trainer, epoch):
        total = 0.0
        for p in trainer.net.parameters():
            if p.regularize:
                flat = p.value.ravel()
                total += float(namespace(flat).vdot(flat, flat))
        self.values.append(0.5 * self.l2 * total)


def all_or_nothing(method):
    """Make a ``fit``/``partial_fit`` that raises (or is interrupted) before its training
    changed any weight leave the estimator as it was: checks that fail after ``classes_``,
    ``n_features_in_`` or ``n_outputs_`` were set for the new data must not leave them
    describing a network the estimator does not have (its predictions and model files would
    be wrong). Once ``_train`` has trained (``TRAINED`` set: the curves and ``n_iter_`` then
    describe the network it has), an error after that keeps the new state, as a divergence
    (``DivergenceError``) does. Objects changed in place are not restored: ``_train`` makes
    its checks before it changes any."""

    @functools.wraps(method)
    def attempt(self, *args, **kwargs):
        before = dict(vars(self))
        try:
            return method(self, *args, **kwargs)
        except DivergenceError:
            raise
        except (Exception, KeyboardInterrupt):
            if not vars(self).get(TRAINED):
                vars(self).clear()
                vars(self).update(before)
            raise
        finally:
            vars(self).pop(TRAINED, None)

    return attempt


#: Set by ``_train`` (for one call) once the network's weights have changed.
TRAINED = "_trained_in_this_call"


def _kept_score(history) -> float | None:
    """The validation score of the epoch whose weights a run kept: the one early stopping
    restored (the lowest validation loss), else the last."""
    if not history.val_metric:
        return None
    epoch = history.best_epoch if history.best_epoch is not None else len(history.val_metric) - 1
    return float(history.val_metric[epoch])
