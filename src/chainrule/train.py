"""The fit loop: batches, epochs, callbacks and ``History`` — nothing else.

The state the loop shares with its callbacks is ``chainrule.trainer.Trainer``.

``batch_size=None`` is full-batch gradient descent (the seeds), ``1`` is SGD and ``k``
mini-batches. Data is validated and moved to the network's device once per fit; an
epoch does one shuffle-gather and then takes contiguous slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import backend, kernels_cpu
from .callbacks import Callback, ProgressBar, StopOnDivergence, TrainingInterrupted
from .initializers import as_generator
from .losses import Loss, get_loss
from .metrics import make_metric
from .optim import get_optimizer
from .train_data import check_loss_head, check_weight_totals, prepare_data, prepare_validation, split_validation
from .trainer import Trainer
from .validation import check_fraction, check_positive


@dataclass
class History:
    """Per-epoch record of a fit.

    Attributes
    ----------
    loss, val_loss : list of float
        Training loss (sample-weighted mean of the batch losses, or their sum for
        sum-reduced losses) and validation loss (weighted by the validation samples'
        weights when they have some), one per epoch. Both are the data loss alone: an
        optimizer's ``l1``/``l2`` penalty enters the gradient, not these numbers.
    loss_name, loss_reduction : str or None
        The loss's name and its reduction, ``"mean"`` or ``"sum"`` (which says how an
        epoch's batch losses were combined).
    metric, val_metric : list of float
        The metric named ``metric_name`` ("accuracy" or "r2") per epoch, weighted by the
        sample weights as the loss is.
    lr : list of float
        Learning rate in force during each epoch.
    stop_reason : str or None
        Why training ended before ``epochs`` (early stopping, a hook).
    best_epoch : int or None
        The epoch whose weights early stopping restored (0-based).
    restored_from : {"end", "start"} or None
        Whether those are the weights ``best_epoch`` ended with (the monitored value was
        measured on them: validation values and keys added by callbacks) or started from
        (the training loss or metric, measured while the epoch's updates happen).
    gradient_flow : dict or None
        Per-layer gradient statistics, when a ``chainrule.inspect.GradientFlow`` callback ran.

    Notes
    -----
    After a divergence (``DivergenceError.history``) the per-epoch lists hold the epochs
    whose loss was accepted, never the diverged one, whether its loss was non-finite or a
    callback such as ``StopOnDivergence`` found a finite blow-up: the last loss is that
    of the weights the network was put back to.
    """

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metric: list = field(default_factory=list)
    val_metric: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    metric_name: str | None = None
    loss_name: str | None = None
    loss_reduction: str | None = None
    stop_reason: str | None = None
    best_epoch: int | None = None
    restored_from: str | None = None
    gradient_flow: dict | None = None

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items()}

    def keep_epochs(self, n: int) -> None:
        """Drop the per-epoch records (loss, metric, validation, lr) after the first ``n``."""
        for values in (self.loss, self.val_loss, self.metric, self.val_metric, self.lr):
            del values[n:]


def min_batch(net) -> int:
    """The fewest samples a training batch of ``net`` (a Sequential) may have: 2 with
    BatchNorm anywhere in it, else 1."""
    return max((layer.min_training_batch for layer in net.layers), default=1)


def batch_bounds(n: int, step: int, smallest: int = 1) -> list[tuple[int, int]]:
    """The rows of each mini-batch: consecutive runs of ``step``, a last one smaller than
    ``smallest`` merged into the one before (BatchNorm cannot train on one sample).

    Parameters
    ----------
    n : int
        Training rows.
    step : int
        Rows per batch (``n`` for full-batch descent).
    smallest : int
        The fewest rows a batch may have (``min_batch``).

    Returns
    -------
    list of (int, int)
        (start, stop) of each batch, covering 0..n in order.

    Raises
    ------
    ValueError
        When even a whole batch (or all ``n`` rows) is smaller than ``smallest``.
    """
    if min(step, n) < smallest:
        what = f"batch_size={step}" if step < n else f"{n} sample{'s' if n != 1 else ''} to train on"
        raise ValueError(f"BatchNorm needs at least {smallest} samples per training batch, got {what}")
    starts = list(range(0, n, step))
    if len(starts) > 1 and n - starts[-1] < smallest:
        starts.pop()  # the short last batch joins the one before it
    return list(zip(starts, starts[1:] + [n]))


def fit(
    net,
    X,
    y,
    *,
    loss="mse",
    optimizer="sgd",
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data=None,
    validation_split: float = 0.0,
    callbacks=(),
    verbose: int = 1,
    rng=None,
    sample_weight=None,
    metric="auto",
    stop_on_divergence: bool = True,
) -> History:
    """Train ``net`` by backpropagation; see ``Sequential.fit`` for the parameters."""
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    kernels_cpu.check_setting()
    epochs = check_positive("epochs", epochs, integer=True)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    validation_split = check_fraction("validation_split", validation_split)
    if validation_split and validation_data is not None:
        raise ValueError("give either validation_data or validation_split, not both")
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    callbacks = _checked_callbacks(callbacks, stop_on_divergence)
    rng = as_generator(rng)
    check_loss_head(net, loss)

    X, y, weights = prepare_data(net, X, y, loss, sample_weight)
    if validation_split:
        (X, y, weights), validation = split_validation(net, X, y, weights, validation_split, rng)
    elif validation_data is not None:
        validation = prepare_validation(net, validation_data, loss)
    else:
        validation = None
    check_weight_totals(weights, None if validation is None else validation[2], bool(validation_split))

    n = X.shape[0]
    full_batch = batch_size is None or batch_size >= n
    step = n if full_batch else batch_size
    bounds = batch_bounds(n, step, min_batch(net))
    xp = net.xp
    X, y = net.to_device(X), net.to_device(y)
    # the sample weights' per-batch sums come from a host copy: no device sync per batch
    weights_host = weights
    weights = None if weights is None else net.to_device(weights)
    if validation is not None:
        validation = tuple(None if part is None else net.to_device(part) for part in validation)
    metric_obj = make_metric(metric, loss, y, weights)
    val_metric = make_metric(metric, loss, validation[1], validation[2]) if validation is not None and metric_obj else None

    history = History(metric_name=metric_obj.name if metric_obj else None, loss_name=loss.name,
                      loss_reduction=loss.reduction)
    if verbose == 1:
        callbacks.append(ProgressBar())
    elif verbose == 2:
        callbacks.append(ProgressBar(log_every="auto"))
    # callbacks read the loss from the network as they begin (StopOnDivergence: an uninformed
    # network's loss); a refusal before the first epoch puts the previous fit's back
    # (the Trainer, which copies the weights, comes first: a Ctrl-C there leaves the network as it was)
    trainer = Trainer(net, epochs, validation is not None, history, data=(X, y, weights, loss), callbacks=callbacks)
    previous = net.loss, net.history
    net.loss, net.history = loss, history
    batch_hooks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    params = net.parameters()
    total_weight = float(weights_host.sum(dtype=np.float64)) if weights is not None else float(n)
    batch_starts = np.array([start for start, _ in bounds])
    fixed_scale = None if weights is not None or not full_batch else loss.scale_for(n)
    sum_reduced = loss.reduction == "sum"
    on_device = xp is not np
    gather_per_batch = not on_device  # CPU: memory-lean per-batch gathers; device: one gather per epoch
    lazy_loss = on_device and not batch_hooks  # batch hooks need each batch's loss as a float

    # Overflow turns into an inf/NaN loss, which the loop reports as a DivergenceError naming
    # the epoch; NumPy's own overflow warnings would only repeat that, less clearly.
    quiet_overflow = np.errstate(over="ignore", invalid="ignore")
    quiet_overflow.__enter__()
    started = []  # the callbacks whose on_train_begin ran: only they are ended
    failed = began = False
    try:
        optimizer.plan(epochs)
        for cb in callbacks:
            cb.on_train_begin(trainer)
            started.append(cb)
        began = True
        monitor = None
        for epoch in range(epochs):
            trainer.epoch = epoch
            trainer.begin_epoch()
            optimizer.start_epoch(epoch, monitor)
            for cb in callbacks:
                cb.on_epoch_begin(trainer, epoch)
            order = rng.permutation(n) if shuffle and not full_batch else None
            if weights_host is not None:
                batch_weights = np.add.reduceat(weights_host if order is None else weights_host[order], batch_starts,
                                                dtype=np.float64)
            if order is not None and not gather_per_batch:
                order = xp.asarray(order)  # one gather per epoch on the device, then slices
                Xe, ye = X[order], y[order]
                we = None if weights is None else weights[order]
                order = None
            else:
                Xe, ye, we = X, y, weights
            if metric_obj is not None:
                metric_obj.reset()
            epoch_loss = 0.0
            pending = []
            for batch, (start, stop) in enumerate(bounds):
                if order is None:
                    xb, yb = Xe[start:stop], ye[start:stop]
                    wb = None if we is None else we[start:stop]
                else:  # on the CPU, gather each batch: no epoch-sized copy of the data
                    idx = order[start:stop]
                    xb, yb = Xe.take(idx, axis=0), ye.take(idx, axis=0)
                    wb = None if we is None else we.take(idx)
                if fixed_scale is not None:
                    scale, share = fixed_scale, 1.0
                elif wb is None:
                    nb = xb.shape[0]
                    scale, share = loss.scale_for(nb), nb / n
                else:
                    share = float(batch_weights[batch]) / total_weight  # a Python float: the history stays JSON-able
                    if share == 0.0:  # a batch of zero-weight samples has no loss to descend and
                        continue      # adds nothing to the weighted metric: no step
                    scale = loss.scale_for(xb.shape[0], wb, total=batch_weights[batch])
                out = net.forward_prepared(xb, training=True)
                if lazy_loss:  # no device-to-host copy per batch; summed once per epoch below
                    pending.append((*loss.evaluate_lazy(out, yb, scale), share))
                else:
                    value = loss.evaluate(out, yb, scale)
                    if not math.isfinite(value):
                        trainer.diverged(f"the loss became {value}", epoch)
                    epoch_loss += value if sum_reduced else value * share
                if metric_obj is not None:
                    metric_obj.update(out, yb, loss, wb)
                net.backward_prepared(loss.backward(), input_grad=False)
                optimizer.step(params)
                for cb in batch_hooks:
                    cb.on_batch_end(trainer, batch, {"loss": value})
            if pending:
                totals = backend.to_numpy(xp.stack([total for total, _, _ in pending]))
                for total, (_, factor, share) in zip(totals.tolist(), pending):
                    value = total * factor
                    if not math.isfinite(value):
                        trainer.diverged(f"the loss became {value}", epoch)
                    epoch_loss += value if sum_reduced else value * share
            logs = {"loss": epoch_loss}
            if metric_obj is not None:
                logs[metric_obj.name] = metric_obj.result()
            if validation is not None:
                val_loss, val_value = evaluate_arrays(net, loss, validation[0], validation[1], val_metric,
                                                      weights=validation[2])
                if not math.isfinite(val_loss):  # before this epoch's record: History's lists stay aligned
                    trainer.diverged(f"the validation loss became {val_loss}", epoch)
                logs["val_loss"] = val_loss
                if val_metric is not None:
                    logs["val_" + val_metric.name] = val_value
            _record(history, logs, optimizer.lr, metric_obj, val_metric)
            monitor = logs.get("val_loss", epoch_loss)
            logs["lr"] = optimizer.lr
            for cb in callbacks:
                cb.on_epoch_end(trainer, epoch, logs)
            trainer.accept_epoch(epoch, epoch_loss)
            if trainer.stop_training:
                if history.stop_reason is None and epoch < epochs - 1:  # before the epochs asked for
                    history.stop_reason = f"stopped by a callback after epoch {epoch + 1}"
                break
        if not _params_finite(params, xp):
            trainer.diverged("a weight became non-finite", trainer.epoch, exact=False)
    except BaseException as exc:
        failed = True
        if not began:  # refused before any weight changed: the network is as it was
            net.loss, net.history = previous
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C: stop at the last epoch that ended
            optimizer.reset()  # its state holds the steps of an epoch cut short, now undone
            raise TrainingInterrupted(trainer.interrupted(), history) from None
        raise
    finally:
        quiet_overflow.__exit__(None, None, None)
        if trainer.diverged_at is not None:
            optimizer.reset()  # its moments hold the blow-up the weights were taken back from
        error = _end_callbacks(started, trainer)
        if error is not None and not failed:  # an error of training itself goes first
            raise error
    return history


def _checked_callbacks(callbacks, stop_on_divergence) -> list:
    """``callbacks`` (None, one Callback or a sequence of them) as a new list, with a
    ``StopOnDivergence`` at the end when ``stop_on_divergence`` and none is among them."""
    if not isinstance(stop_on_divergence, (bool, np.bool_)):
        raise TypeError(f"stop_on_divergence must be True or False, got {stop_on_divergence!r}")
    if callbacks is None:
        callbacks = ()
    elif isinstance(callbacks, Callback):
        callbacks = (callbacks,)  # one callback, not in a list
    elif isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"callbacks must be a list of Callback instances, got {type(callbacks).__name__}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if stop_on_divergence and not any(isinstance(cb, StopOnDivergence) for cb in callbacks):
        callbacks.append(StopOnDivergence())
    return callbacks


def _record(history: History, logs: dict, lr: float, metric, val_metric) -> None:
    """Append an epoch's ``logs`` (and learning rate) to ``history``."""
    history.loss.append(logs["loss"])
    history.lr.append(lr)
    if metric is not None:
        history.metric.append(logs[metric.name])
    if "val_loss" in logs:
        history.val_loss.append(logs["val_loss"])
        if val_metric is not None:
            history.val_metric.append(logs["val_" + val_metric.name])


def _end_callbacks(callbacks, trainer):
    """``on_train_end`` of every callback, even after one raises (EarlyStopping still restores
    its weights); the first exception raised, or None."""
    first = None
    for cb in callbacks:
        try:
            cb.on_train_end(trainer)
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller
            first = first or exc
    return first


def _params_finite(params, xp) -> bool:
    flat = params.packed() if hasattr(params, "packed") else None
    arrays = [flat.value] if flat is not None else [p.value for p in params]
    # a finite sum proves every value finite in one cheap pass; an inf sum may only be an
    # overflow of large finite values (float32), so look at the values themselves then
    return all(bool(xp.isfinite(a.sum())) or bool(xp.isfinite(a).all()) for a in arrays)


def evaluate_arrays(net, loss: Loss, X, y, metric=None, weights=None):
    """Loss and metric of ``net`` on prepared device arrays, in inference mode, weighted by
    the sample ``weights`` (shape (n,), on the device) when given."""
    out = net.forward(X, training=False)
    value = loss.evaluate(out, y, loss.scale_for(X.shape[0], weights))
    if metric is None:
        return value, None
    metric.reset()
    metric.update(out, y, weights=weights)
    return value, metric.result()


__all__ = ["History", "Trainer", "evaluate_arrays", "fit"]
