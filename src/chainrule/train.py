"""The fit loop: batches, epochs, callbacks and ``History`` — nothing else.

``batch_size=None`` is full-batch gradient descent (the seeds), ``1`` is SGD and ``k``
mini-batches. Data is validated and moved to the network's device once per fit; an
epoch does one shuffle-gather and then takes contiguous slices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .callbacks import Callback, DivergenceError, ProgressBar
from .initializers import as_generator
from .losses import Loss, get_loss
from .metrics import make_metric
from .optim import get_optimizer
from .train_data import check_loss_head, prepare_data
from .validation import check_fraction, check_positive


@dataclass
class History:
    """Per-epoch record of a fit.

    Attributes
    ----------
    loss, val_loss : list of float
        Training loss (sample-weighted mean of the batch losses, or their sum for
        sum-reduced losses) and validation loss, one per epoch.
    metric, val_metric : list of float
        The metric named ``metric_name`` ("accuracy" or "r2") per epoch.
    lr : list of float
        Learning rate in force during each epoch.
    stop_reason : str or None
        Why training ended before ``epochs`` (early stopping, a hook).
    best_epoch : int or None
        The epoch whose weights early stopping restored (0-based).
    gradient_flow : dict or None
        Per-layer gradient statistics, when a ``chainrule.inspect.GradientFlow`` callback ran.
    """

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    metric: list = field(default_factory=list)
    val_metric: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    metric_name: str | None = None
    loss_name: str | None = None
    stop_reason: str | None = None
    best_epoch: int | None = None
    gradient_flow: dict | None = None

    @property
    def epochs(self) -> int:
        return len(self.loss)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items()}


class _WeightCopy:
    """A copy of a network's state — its parameters and its layers' buffers (BatchNorm's
    running statistics) — refreshed and put back in place without allocating, on the
    network's device (one flat copy when the parameters live in one contiguous buffer)."""

    def __init__(self, net):
        self._net = net
        self._params = params = net.parameters()
        flat = params.packed() if hasattr(params, "packed") else None
        self._flat = None if flat is None else flat.value.copy()
        self._arrays = [p.value.copy() for p in params] if flat is None else flat.split(self._flat)
        self._buffers = [b.copy() for b in self._live_buffers()]

    def _packed(self):
        return self._params.packed() if self._flat is not None else None

    def _live_buffers(self) -> list:
        return [b for layer in self._net.layers for b in layer.buffers().values()]

    def capture(self, source: "_WeightCopy | None" = None) -> None:
        """Record the network's current state, or ``source``'s recorded one."""
        if source is not None:
            for mine, theirs in zip([self._flat] if self._flat is not None else self._arrays,
                                    [source._flat] if source._flat is not None else source._arrays):
                mine[...] = theirs
            for mine, theirs in zip(self._buffers, source._buffers):
                mine[...] = theirs
            return
        flat = self._packed()
        if flat is not None:
            self._flat[...] = flat.value
        else:
            for buffer, p in zip(self._arrays, self._params):
                buffer[...] = p.value
        for mine, live in zip(self._buffers, self._live_buffers()):
            mine[...] = live

    def restore(self) -> None:
        flat = self._packed()
        if flat is not None:
            flat.value[...] = self._flat
        else:
            for buffer, p in zip(self._arrays, self._params):
                p.value[...] = buffer
        for mine, live in zip(self._buffers, self._live_buffers()):
            live[...] = mine

    def weights(self) -> list[np.ndarray]:
        """NumPy copies of the recorded parameter values, in ``parameters()`` order (as
        ``get_weights``)."""
        return [a.copy() if isinstance(a, np.ndarray) else backend.to_numpy(a) for a in self._arrays]


class Trainer:
    """State shared between the loop and the callbacks of one ``fit``.

    The epoch loss is measured while the epoch's updates happen, so it speaks for the
    weights the epoch *started* with (exactly so for full-batch gradient descent). The
    last good state is therefore the starting weights of the last epoch whose loss was
    accepted, and a diverging epoch goes back to them, not to the weights it produced.
    """

    def __init__(self, net, epochs: int, has_validation: bool, history: History, data=None):
        self.net = net
        self._data = data  # (X, y, sample weights or None, loss): the training data on the device
        self.epochs = epochs
        self.has_validation = has_validation
        self.history = history
        self.stop_training = False
        self.epoch = 0
        self._good = _WeightCopy(net)  # the initial weights until an epoch is accepted
        self._start = _WeightCopy(net)
        self._good_epoch = self._good_loss = None

    def begin_epoch(self) -> None:
        """Record the weights the epoch starts with."""
        self._start.capture()

    def epoch_start_weights(self) -> list[np.ndarray]:
        """The weights the current epoch started from (on which its training loss was
        measured), as ``Sequential.get_weights`` gives them."""
        return self._start.weights()

    def state_copy(self) -> _WeightCopy:
        """A new copy of the network's state (parameters and buffers) on its device, to
        record into with ``record_state`` and put back with its ``restore()``."""
        return _WeightCopy(self.net)

    def record_state(self, copy: _WeightCopy, epoch_start: bool) -> None:
        """Record into ``copy`` the state the current epoch started from (``epoch_start``)
        or the one it ended with."""
        copy.capture(self._start if epoch_start else None)

    def epoch_start_loss(self, chunk: int = 4096) -> float:
        """The training loss of the weights the current epoch started from, in inference
        mode: one pass over the training data in chunks of ``chunk`` rows, for checks that
        need it rarely (the epoch loss is measured during the updates)."""
        X, y, weights, loss = self._data
        current = _WeightCopy(self.net)
        self._start.restore()
        try:
            n = X.shape[0]
            scale = loss.scale_for(n, weights)
            total = 0.0
            for start in range(0, n, chunk):
                rows = slice(start, start + chunk)
                part = scale if isinstance(scale, float) else scale[rows]
                total += loss.evaluate(self.net.forward(X[rows], training=False), y[rows], part)
            return total
        finally:
            current.restore()

    def accept_epoch(self, epoch: int, loss: float) -> None:
        """The epoch's loss was fine: its starting weights become the last good state."""
        self._good, self._start = self._start, self._good
        self._good_epoch, self._good_loss = epoch, loss

    def restore_good_state(self) -> str:
        """Put the last good weights back; returns where they come from, for messages."""
        self._good.restore()
        if self._good_epoch is None:
            return "the initial ones"
        return f"those epoch {self._good_epoch + 1} started from (loss {self._good_loss:.6g})"

    def diverged(self, reason: str, epoch: int, exact: bool = True, number: int | None = None):
        """Restore the last good weights and raise ``DivergenceError`` for ``reason`` in
        (``exact``) or by (not ``exact``) the 0-based ``epoch``; ``number`` is the epoch as the
        message counts it (default ``epoch + 1``)."""
        restored = self.restore_good_state()
        number = epoch + 1 if number is None else number
        message = f"training diverged {'at' if exact else 'by'} epoch {number}: {reason}; weights restored to {restored}"
        raise DivergenceError(message, epoch + 1, self.history, reason=reason, exact=exact)


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
) -> History:
    """Train ``net`` by backpropagation; see ``Sequential.fit`` for the parameters."""
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    epochs = check_positive("epochs", epochs, integer=True)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    validation_split = check_fraction("validation_split", validation_split)
    if validation_split and validation_data is not None:
        raise ValueError("give either validation_data or validation_split, not both")
    if verbose not in (0, 1, 2, False, True):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    rng = as_generator(rng)
    check_loss_head(net, loss)

    X, y, weights = prepare_data(net, X, y, loss, sample_weight)
    if validation_split:
        n_val = int(round(validation_split * X.shape[0]))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(
                f"validation_split={validation_split} leaves {n_val} validation and "
                f"{X.shape[0] - n_val} training samples; both need at least one"
            )
        order = rng.permutation(X.shape[0])
        val_idx, train_idx = order[:n_val], order[n_val:]
        if type(X) is not np.ndarray:  # features already on the GPU: index them there
            val_idx, train_idx = net.xp.asarray(val_idx), net.xp.asarray(train_idx)
        if type(y) is np.ndarray:
            val_y, train_y = backend.to_numpy(val_idx), backend.to_numpy(train_idx)
        else:
            val_y, train_y = net.xp.asarray(val_idx), net.xp.asarray(train_idx)
        validation = (X[val_idx], y[val_y])
        X, y = X[train_idx], y[train_y]
        weights = None if weights is None else weights[backend.to_numpy(train_idx)]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a tuple (X_val, y_val)")
        Xv, yv, _ = prepare_data(net, validation_data[0], validation_data[1], loss, name="X_val")
        validation = (Xv, yv)
    else:
        validation = None

    net.loss = loss
    xp = net.xp
    X, y = net.to_device(X), net.to_device(y)
    # the sample weights' per-batch sums come from a host copy: no device sync per batch
    weights_host = None if weights is None else backend.to_numpy(weights)
    weights = None if weights is None else net.to_device(weights)
    if validation is not None:
        validation = (net.to_device(validation[0]), net.to_device(validation[1]))
    metric_obj = make_metric(metric, loss, y)
    val_metric = make_metric(metric, loss, validation[1]) if validation is not None and metric_obj else None

    history = History(metric_name=metric_obj.name if metric_obj else None, loss_name=loss.name)
    net.history = history
    if verbose == 1:
        callbacks.append(ProgressBar())
    elif verbose == 2:
        callbacks.append(ProgressBar(log_every=max(1, epochs // 20)))
    trainer = Trainer(net, epochs, validation is not None, history, data=(X, y, weights, loss))
    batch_hooks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    n = X.shape[0]
    full_batch = batch_size is None or batch_size >= n
    step = n if full_batch else batch_size
    params = net.parameters()
    total_weight = float(weights_host.sum()) if weights is not None else float(n)
    batch_starts = np.arange(0, n, step)
    fixed_scale = None if weights is not None or not full_batch else loss.scale_for(n)
    sum_reduced = loss.reduction == "sum"
    on_device = xp is not np
    gather_per_batch = not on_device  # CPU: memory-lean per-batch gathers; device: one gather per epoch
    lazy_loss = on_device and not batch_hooks  # batch hooks need each batch's loss as a float

    # Overflow turns into an inf/NaN loss, which the loop reports as a DivergenceError naming
    # the epoch; NumPy's own overflow warnings would only repeat that, less clearly.
    quiet_overflow = np.errstate(over="ignore", invalid="ignore")
    quiet_overflow.__enter__()
    try:
        optimizer.plan(epochs)
        for cb in callbacks:
            cb.on_train_begin(trainer)
        monitor = None
        for epoch in range(epochs):
            trainer.epoch = epoch
            trainer.begin_epoch()
            optimizer.start_epoch(epoch, monitor)
            for cb in callbacks:
                cb.on_epoch_begin(trainer, epoch)
            order = rng.permutation(n) if shuffle and not full_batch else None
            if weights_host is not None:
                batch_weights = np.add.reduceat(weights_host if order is None else weights_host[order], batch_starts)
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
            for batch, start in enumerate(range(0, n, step)):
                if order is None:
                    xb, yb = Xe[start : start + step], ye[start : start + step]
                    wb = None if we is None else we[start : start + step]
                else:  # on the CPU, gather each batch: no epoch-sized copy of the data
                    idx = order[start : start + step]
                    xb, yb = Xe.take(idx, axis=0), ye.take(idx, axis=0)
                    wb = None if we is None else we.take(idx)
                if fixed_scale is not None:
                    scale, share = fixed_scale, 1.0
                elif wb is None:
                    nb = xb.shape[0]
                    scale, share = loss.scale_for(nb), nb / n
                else:
                    share = batch_weights[batch] / total_weight
                    if share == 0.0:  # a batch of zero-weight samples has no loss to descend: no step
                        continue
                    scale = loss.scale_for(xb.shape[0], wb, total=batch_weights[batch])
                out = net.forward(xb, training=True)
                if lazy_loss:  # no device-to-host copy per batch; summed once per epoch below
                    pending.append((*loss.evaluate_lazy(out, yb, scale), share))
                else:
                    value = loss.evaluate(out, yb, scale)
                    if not math.isfinite(value):
                        trainer.diverged(f"the loss became {value}", epoch)
                    epoch_loss += value if sum_reduced else value * share
                if metric_obj is not None:
                    metric_obj.update(out, yb, loss)
                net.backward(loss.backward(), input_grad=False)
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
            history.loss.append(epoch_loss)
            history.lr.append(optimizer.lr)
            if metric_obj is not None:
                logs[metric_obj.name] = metric_obj.result()
                history.metric.append(logs[metric_obj.name])
            if validation is not None:
                val_loss, val_value = evaluate_arrays(net, loss, validation[0], validation[1], val_metric)
                if not math.isfinite(val_loss):
                    trainer.diverged(f"the validation loss became {val_loss}", epoch)
                logs["val_loss"] = val_loss
                history.val_loss.append(val_loss)
                if val_metric is not None:
                    logs["val_" + val_metric.name] = val_value
                    history.val_metric.append(val_value)
            monitor = logs.get("val_loss", epoch_loss)
            logs["lr"] = optimizer.lr
            for cb in callbacks:
                cb.on_epoch_end(trainer, epoch, logs)
            trainer.accept_epoch(epoch, epoch_loss)
            if trainer.stop_training:
                if history.stop_reason is None:
                    history.stop_reason = f"stopped by a callback after epoch {epoch + 1}"
                break
        if not _params_finite(params, xp):
            trainer.diverged("a weight became non-finite", trainer.epoch, exact=False)
    finally:
        quiet_overflow.__exit__(None, None, None)
        for cb in callbacks:
            cb.on_train_end(trainer)
    return history


def _params_finite(params, xp) -> bool:
    flat = params.packed() if hasattr(params, "packed") else None
    arrays = [flat.value] if flat is not None else [p.value for p in params]
    # a finite sum proves every value finite in one cheap pass; an inf sum may only be an
    # overflow of large finite values (float32), so look at the values themselves then
    return all(bool(xp.isfinite(a.sum())) or bool(xp.isfinite(a).all()) for a in arrays)


def evaluate_arrays(net, loss: Loss, X, y, metric=None):
    """Loss and metric of ``net`` on prepared device arrays, in inference mode."""
    out = net.forward(X, training=False)
    value = loss.evaluate(out, y, loss.scale_for(X.shape[0]))
    if metric is None:
        return value, None
    metric.reset()
    metric.update(out, y)
    return value, metric.result()


__all__ = ["History", "Trainer", "evaluate_arrays", "fit"]
