"""Callbacks for ``fit``: progress bar, early stopping, divergence stop, user hooks.

A callback receives the ``Trainer`` (``trainer.net``, ``trainer.history``,
``trainer.stop_training``) and per-epoch ``logs`` (``loss``, ``val_loss``, the metric,
``lr``).
"""

from __future__ import annotations

import weakref

import math

import numpy as np

from .validation import check_positive


class DivergenceError(RuntimeError):
    """Training stopped because the loss became non-finite or grew without bound.

    Attributes
    ----------
    epoch : int
        The 1-based epoch in which it happened.
    history : History
        The epochs whose loss was accepted, never the diverged one (whether its loss was
        non-finite or a blow-up a callback found); the network holds its last good
        weights, those the last recorded epoch started from (for a divergence found only
        after training, ``exact`` False, the last epoch is recorded and its starting
        weights are the ones put back).
    reason : str
        What went wrong, without the epoch (e.g. "the loss became nan").
    exact : bool
        True when the divergence was seen in ``epoch`` itself ("diverged at"); False when it
        was found only after training, somewhere up to ``epoch`` ("diverged by": a weight
        became non-finite).
    """

    def __init__(self, message: str, epoch: int, history=None, reason: str | None = None, exact: bool = True):
        super().__init__(message)
        self.epoch = epoch
        self.history = history
        self.reason = message if reason is None else reason
        self.exact = exact


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (a notebook's interrupt) stopped ``fit`` after it began: the network is at the
    end of the last epoch that ended (an epoch cut short is undone; ``EarlyStopping`` then
    still restores its best weights), the optimizer is reset, and ``history`` holds those
    epochs. A ``KeyboardInterrupt``, so whatever stops on Ctrl-C still stops.

    Attributes
    ----------
    history : History
        The epochs that ended; its ``stop_reason`` says where training stopped.
    """

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = history


class Callback:
    """Base class; override the hooks you need.

    Attributes
    ----------
    adds_log_keys : bool
        Whether the callback may put keys of its own into the epoch logs (an ``EarlyStopping``
        that monitors such a key can only be checked once the logs exist); False for the
        built-in callbacks that never do.
    """

    adds_log_keys = True

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer) -> None: ...


class EpochHook(Callback):
    """Call ``fn(epoch, logs, net)`` after every epoch (epoch counted from 0).

    ``fn`` may return True to stop training.
    """

    def __init__(self, fn, every: int = 1):
        if not callable(fn):
            raise TypeError(f"EpochHook needs a callable, got {fn!r}")
        self.fn = fn
        self.every = check_positive("every", every, integer=True)

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every == 0 and self.fn(epoch, logs, trainer.net):
            trainer.stop_training = True


class EarlyStopping(Callback):
    """Stop when the monitored value stops improving, and restore the best weights.

    Parameters
    ----------
    monitor : str
        ``"auto"`` (``val_loss`` when there is validation data, else ``loss``), or a
        key of the epoch logs.
    patience : int
        Epochs without improvement tolerated: training stops at the ``patience + 1``-th in
        a row (as scikit-learn's ``n_iter_no_change`` and PyTorch's ``ReduceLROnPlateau``
        count).
    min_delta : float
        An improvement is a decrease of more than ``min_delta`` (as in Keras).
    restore_best : bool
        Put back the weights (and BatchNorm statistics) of the best epoch when training
        ends, those on which the monitored value was measured: for the trainer's own
        training values (``loss`` and the training metric, ``accuracy`` or ``r2``), those the
        epoch started with, because they are measured while the epoch's updates happen; for
        every other key (validation values, a key an ``EpochHook`` or another callback adds
        after the epoch), those the epoch ended with.
    """

    adds_log_keys = False

    def __init__(self, monitor: str = "auto", patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping monitor must be a key of the epoch logs (a str) or 'auto', got {monitor!r}")
        if not isinstance(restore_best, (bool, np.bool_)):
            raise TypeError(f"EarlyStopping restore_best must be True or False, got {restore_best!r}")
        self.monitor = monitor
        self.patience = check_positive("patience", patience, integer=True, allow_zero=True)
        self.min_delta = check_positive("min_delta", min_delta, allow_zero=True)
        self.restore_best = bool(restore_best)
        self._state = None
        self.best_epoch = None
        self.stopped_epoch = None

    def on_train_begin(self, trainer):
        if self.monitor == "auto":
            self._key = "val_loss" if trainer.has_validation else "loss"
        else:
            self._key = self.monitor
            if self._key.startswith("val_") and not trainer.has_validation:
                raise ValueError(f"EarlyStopping monitors {self._key!r} but fit has no validation data")
            # before the first epoch changes any weight, unless another callback (a user's, an
            # EpochHook) may add the key to the epoch logs itself
            added = any(cb.adds_log_keys for cb in trainer.callbacks if cb is not self)
            if self._key not in trainer.log_keys and not added:
                raise ValueError(f"EarlyStopping monitors {self._key!r}, which fit does not record "
                                 f"({', '.join(sorted(trainer.log_keys))})")
        self._best = math.inf
        self._wait = 0
        self._state = None  # the best epoch's weights and buffers, on the network's device
        self.best_epoch = self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch, logs):
        if self._key not in logs:
            raise ValueError(f"EarlyStopping monitors {self._key!r}, which fit does not record ({', '.join(logs)})")
        value = logs[self._key]
        if self._key.endswith(("accuracy", "r2")):
            value = -value  # higher is better
        if value < self._best - self.min_delta:
            self._best, self._wait, self.best_epoch = value, 0, epoch
            if self.restore_best:
                if self._state is None:
                    self._state = trainer.state_copy()
                trainer.record_state(self._state, epoch_start=self._key in trainer.training_keys)
        else:
            self._wait += 1
            if self._wait > self.patience and epoch < trainer.epochs - 1:  # the last epoch ends it anyway
                self.stopped_epoch = epoch
                trainer.stop_training = True
                best = "no epoch gave a number" if self.best_epoch is None else f"best at epoch {self.best_epoch + 1}"
                trainer.history.stop_reason = (
                    f"early stopping: {self._key} did not improve for {self._wait} epoch{'s' if self._wait != 1 else ''} in a row "
                    f"(patience {self.patience}; {best})"
                )

    def on_train_end(self, trainer):
        # after a divergence the network stays at the last good state the error names
        if self.restore_best and self._state is not None and trainer.diverged_at is None:
            self._state.restore()
            trainer.history.best_epoch = self.best_epoch
            trainer.history.restored_from = "start" if self._key in trainer.training_keys else "end"


class StopOnDivergence(Callback):
    """Stop a run whose loss blows up, keeping the last good weights.

    Non-finite losses are always caught by ``fit`` itself, batch by batch; this callback
    catches finite blow-ups. An epoch has diverged when its loss

    - exceeds ``factor`` times the first epoch's loss (where training began; a first loss of
      exactly 0 has nothing to grow from, so no later loss counts as growth) and is worse than
      knowing nothing: above the loss of an uninformed network (classification) or of
      predicting the targets' mean for every row (regression, when ``fit`` gives the data).
      A converged network whose tiny loss wobbles a thousandfold, as Adam's can, has not
      diverged; or
    - in the first epoch, for a classification loss, exceeds ``factor`` times the loss of an
      uninformed network (ln 2 for binary cross-entropy, ln K for K-class cross-entropy,
      1 for hinge) and ``factor`` times the loss of the weights training began from: only
      huge, confidently wrong logits get there, so a run diverged from its first epoch is
      caught too, while one that starts from a huge loss (unscaled inputs) and improves is not.

    Weights go back to the last good state (see ``DivergenceError``).

    ``fit`` adds one with the default ``factor`` unless its callbacks hold one (then that one
    runs, with its factor) or it is called with ``stop_on_divergence=False``.

    Parameters
    ----------
    factor : float
        How many times worse counts as diverged (> 1), default 1000.
    """

    adds_log_keys = False

    def __init__(self, factor: float = 1e3):
        self.factor = check_positive("factor", factor)
        if self.factor <= 1:
            raise ValueError(f"factor must be > 1, got {factor!r}")

    def on_train_begin(self, trainer):
        self.first = None
        self.uninformed = uninformed_loss(trainer.net)

    def on_epoch_end(self, trainer, epoch, logs):
        self.check(trainer, epoch, logs["loss"])

    def check(self, trainer, epoch: int, loss: float, number: int | None = None,
              first_name: str = "the first epoch's") -> None:
        """Raise through ``trainer.diverged`` when ``loss`` blew up, else remember the first
        loss; ``number`` is the epoch as the message counts it (default ``epoch + 1``)."""
        if self.first is None:
            self._check_first(trainer, epoch, loss, number)
            self.first = loss
        elif (self.first > 0 and loss > self.factor * self.first  # from exactly 0 any loss is "growth"
              and loss > self._knowing_nothing_loss(trainer)):
            shown_loss, shown_first = _shown_over(loss, self.factor, self.first)
            trainer.diverged(f"loss {shown_loss} is over {self.factor:g}× {first_name} ({shown_first})",
                             epoch, number=number)

    def _knowing_nothing_loss(self, trainer) -> float:
        """The uninformed (classification) or mean-predictor (regression) loss; 0 where it is
        unknown (a Trainer without data), which leaves the factor rule alone."""
        if self.uninformed is not None:
            return self.uninformed
        # once per fit, when first needed; a weak reference, so the fit's data is not kept alive
        measured = getattr(self, "_mean_predictor", None)
        if measured is None or measured[0]() is not trainer:
            loss = trainer.mean_predictor_loss() if getattr(trainer, "has_data", False) else 0.0
            self._mean_predictor = measured = (weakref.ref(trainer), loss)
        return measured[1]

    def _check_first(self, trainer, epoch: int, loss: float, number: int | None) -> None:
        """The first epoch has no earlier loss to grow from: compare a classification loss with
        an uninformed network's and, only when it is that large, with where training began."""
        if self.uninformed is None or loss <= self.factor * self.uninformed:
            return
        if not trainer.has_data:  # a Trainer made by hand: the uninformed loss is all there is
            shown_loss, shown_uninformed = _shown_over(loss, self.factor, self.uninformed)
            trainer.diverged(f"loss {shown_loss} is over {self.factor:g}× that of an uninformed network "
                             f"({shown_uninformed})", epoch, number=number)
        start = trainer.epoch_start_loss()  # a pass over the data, in this rare case only
        if start > self.uninformed:
            reference, name = start, "that of the weights training began from"
        else:
            reference, name = self.uninformed, "that of an uninformed network"
        if loss > self.factor * reference:
            shown_loss, shown_reference = _shown_over(loss, self.factor, reference)
            trainer.diverged(f"loss {shown_loss} is over {self.factor:g}× {name} ({shown_reference})",
                             epoch, number=number)


def _shown_over(loss: float, factor: float, reference: float) -> tuple[str, str]:
    """``loss`` and ``reference`` written with the fewest significant digits (6 at least) at
    which the printed numbers still show ``loss > factor * reference`` (a loss of 1000.0001
    over 1000× 1 must not read "1000")."""
    for digits in (6, 9, 12, 17):
        shown_loss, shown_reference = f"{loss:.{digits}g}", f"{reference:.{digits}g}"
        if float(shown_loss) > factor * float(shown_reference):
            break
    return shown_loss, shown_reference


def uninformed_loss(net) -> float | None:
    """The loss of ``net``'s loss function for all-zero outputs, where that is a fixed number
    (classification); None otherwise."""
    loss, n_outputs = getattr(net, "loss", None), getattr(net, "n_outputs", None)
    return loss.uninformed(n_outputs) if loss is not None and n_outputs else None


class ProgressBar(Callback):
    """A rich progress bar over epochs with the loss, the metric and the ETA; with
    ``log_every=k``, one plain line every k epochs (and for the last epoch run, also when
    training stops early) instead of a bar.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to draw (default: standard output).
    log_every : int or "auto"
        0 for the bar (or, when the console is neither a terminal nor Jupyter, lines as
        for "auto"); k > 0 for a line every k epochs; "auto" for a line every
        ``epochs // 20`` epochs (``fit(verbose=2)``). Lines are never wrapped, so logs keep
        one record per line.
    """

    adds_log_keys = False

    def __init__(self, console=None, log_every: int | str = 0):
        self.console = console
        self.log_every = log_every if log_every == "auto" else check_positive(
            "log_every", log_every, integer=True, allow_zero=True)

    def on_train_begin(self, trainer):
        self._progress = None
        self._unlogged = None  # the last epoch's line when it has not been printed
        if self.console is None:
            from rich.console import Console

            self.console = Console()
        # a bar written to a file or pipe leaves one cut-off line: log lines instead
        lines = self.log_every == "auto" or not (self.log_every or self.console.is_terminal or self.console.is_jupyter)
        self._every = max(1, trainer.epochs // 20) if lines else self.log_every
        if self._every:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]epoch"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("fit", total=trainer.epochs, status="")

    def on_epoch_end(self, trainer, epoch, logs):
        status = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if k != "lr")
        if self._progress is not None:
            self._progress.update(self._task, completed=epoch + 1, status=status)
            return
        self._unlogged = f"epoch {epoch + 1}/{trainer.epochs}: {status}"
        if (epoch + 1) % self._every == 0 or epoch + 1 == trainer.epochs:
            self._log_line()

    def _log_line(self):
        self.console.print(self._unlogged, markup=False, highlight=False,
                           soft_wrap=True)  # one line per record, whatever the width
        self._unlogged = None

    def on_train_end(self, trainer):
        if self._progress is not None:
            self._progress.stop()
        elif self._unlogged is not None:  # stopped early (or diverged) between two log lines
            self._log_line()
