"""The state one ``fit`` shares between its loop and its callbacks: ``Trainer``.

Callbacks read the network, the ``History`` and the epoch from it, stop training through it,
and record or restore the network's state with it; the loop uses it to go back to the last
good weights when training diverges. ``_WeightCopy`` is the copy of a network's parameters
and buffers those records are kept in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import backend
from .callbacks import DivergenceError

if TYPE_CHECKING:
    from .train import History


class _WeightCopy:
    """A copy of a network's state — its parameters and its layers' buffers (BatchNorm's
    running statistics) — refreshed and put back in place without allocating, on the
    network's device (one flat copy when the parameters live in one contiguous buffer).

    Buffers are looked up by name through ``Layer.buffers()`` at every capture and restore,
    so a layer may replace a buffer array by a new one (``self.mean = 0.9 * self.mean + ...``)
    instead of updating it in place: restoring writes into whichever array the layer holds
    then.
    """

    def __init__(self, net):
        self._net = net
        self._params = params = net.parameters()
        flat = params.packed() if hasattr(params, "packed") else None
        self._flat = None if flat is None else flat.value.copy()
        self._arrays = [p.value.copy() for p in params] if flat is None else flat.split(self._flat)
        self._slots = [(layer, name) for layer in net.layers for name in layer.buffers()]
        self._buffers = [b.copy() for b in self._live()]

    def _live(self) -> list:
        """The arrays the layers hold as their buffers now, in ``_slots`` order."""
        return [layer.buffers()[name] for layer, name in self._slots]

    def _packed(self):
        return self._params.packed() if self._flat is not None else None

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
        for mine, live in zip(self._buffers, self._live()):
            mine[...] = live

    def restore(self) -> None:
        flat = self._packed()
        if flat is not None:
            flat.value[...] = self._flat
        else:
            for buffer, p in zip(self._arrays, self._params):
                p.value[...] = buffer
        for mine, live in zip(self._buffers, self._live()):
            live[...] = mine

    def weights(self) -> list[np.ndarray]:
        """NumPy copies of the recorded parameter values in ``parameters()`` order, then of
        the recorded buffers (as ``get_weights``)."""
        return [a.copy() if isinstance(a, np.ndarray) else backend.to_numpy(a) for a in [*self._arrays, *self._buffers]]


class Trainer:
    """State shared between the loop and the callbacks of one ``fit``.

    The epoch loss is measured while the epoch's updates happen, so it speaks for the
    weights the epoch *started* with (exactly so for full-batch gradient descent). The
    last good state is therefore the starting weights of the last epoch whose loss was
    accepted, and a diverging epoch goes back to them, not to the weights it produced.
    The ``History`` then keeps the accepted epochs only: its last loss is that of the
    weights put back.
    """

    def __init__(self, net, epochs: int, has_validation: bool, history: History, data=None, callbacks=()):
        self.net = net
        self._data = data  # (X, y, sample weights or None, loss): the training data on the device
        self.epochs = epochs
        self.has_validation = has_validation
        self.history = history
        self.stop_training = False
        self.epoch = 0
        # Until an epoch is accepted the last good state is the first epoch's start, which
        # _start holds: the second copy is made only when a second epoch begins (a one-epoch
        # fit of a large network copies its parameters once, not twice).
        self._start = _WeightCopy(net)
        self._good = None
        self._good_epoch = self._good_loss = None  # the last accepted epoch (0-based) and its loss
        self._begun = None  # the epoch whose starting state _start holds, once begin_epoch has captured it
        self.diverged_at = None  # the DivergenceError's epoch (1-based) once training has diverged
        self.callbacks = tuple(callbacks)  # the fit's callbacks, in order

    @property
    def log_keys(self) -> set:
        """The keys ``fit`` puts in every epoch's logs: ``loss``, ``lr``, the metric's name
        and, with validation data, ``val_loss`` and ``val_`` + the metric's name."""
        metric = self.history.metric_name
        keys = {"loss", "lr"} | ({metric} if metric else set())
        if self.has_validation:
            keys |= {"val_loss"} | ({"val_" + metric} if metric else set())
        return keys

    @property
    def training_keys(self) -> set:
        """The log keys measured while the epoch's updates happen, so on the weights the
        epoch started from: ``loss`` and the training metric. Every other key (validation
        values, keys a callback adds) is measured on the weights the epoch ended with."""
        metric = self.history.metric_name
        return {"loss"} | ({metric} if metric else set())

    @property
    def has_data(self) -> bool:
        """Whether the training data was given (``epoch_start_loss`` needs it)."""
        return self._data is not None

    def begin_epoch(self) -> None:
        """Record the weights the epoch starts with."""
        self._begun = None
        if self._start is None:  # handed to _good by accept_epoch
            self._start = _WeightCopy(self.net)
        else:
            self._start.capture()
        self._begun = self.epoch  # _start now holds this epoch's starting state

    def interrupted(self) -> str:
        """After a ``KeyboardInterrupt``: the network and the ``History`` as the last epoch
        whose record is complete left them (an epoch cut short is undone: its updates and any
        part of its record; callbacks then end as usual, so ``EarlyStopping`` still restores
        its best weights), with a ``stop_reason`` saying so, which is returned."""
        h = self.history
        lists = [h.loss, h.lr] + ([h.metric] if h.metric_name else []) + (
            [h.val_loss] + ([h.val_metric] if h.metric_name else []) if self.has_validation else [])
        done = min(len(values) for values in lists)
        h.keep_epochs(done)
        if done == self.epoch and self._begun == self.epoch:  # the current epoch began and did not end
            self._start.restore()
        h.stop_reason = f"interrupted (KeyboardInterrupt) after epoch {done} of {self.epochs}"
        return h.stop_reason

    def epoch_start_weights(self) -> list[np.ndarray]:
        """The weights the current epoch started from (on which its training loss was
        measured), as ``Sequential.get_weights`` gives them."""
        return self._epoch_start().weights()

    def _epoch_start(self) -> _WeightCopy:
        """The copy holding the current epoch's starting state: ``_start``, or ``_good`` once
        ``accept_epoch`` handed it over and before the next epoch begins."""
        return self._good if self._start is None else self._start

    def state_copy(self) -> _WeightCopy:
        """A new copy of the network's state (parameters and buffers) on its device, to
        record into with ``record_state`` and put back with its ``restore()``."""
        return _WeightCopy(self.net)

    def record_state(self, copy: _WeightCopy, epoch_start: bool) -> None:
        """Record into ``copy`` the state the current epoch started from (``epoch_start``)
        or the one it ended with."""
        copy.capture(self._epoch_start() if epoch_start else None)

    def epoch_start_loss(self, chunk: int = 4096) -> float:
        """The training loss of the weights the current epoch started from, in inference
        mode: one pass over the training data in chunks of ``chunk`` rows, for checks that
        need it rarely (the epoch loss is measured during the updates)."""
        if self._data is None:
            raise ValueError("epoch_start_loss needs the training data: Trainer(..., data=(X, y, weights, loss))")
        X, y, weights, loss = self._data
        current = _WeightCopy(self.net)
        self._epoch_start().restore()
        try:
            return self._chunked_loss(lambda rows: self.net.forward(X[rows], training=False), chunk)
        finally:
            current.restore()

    def mean_predictor_loss(self, chunk: int = 4096) -> float:
        """The training loss of a network that knows nothing but the targets' (weighted) mean:
        every row predicted as that mean, shape-for-shape. A pass over the targets, for checks
        that need a regression loss's scale rarely."""
        if self._data is None:
            raise ValueError("mean_predictor_loss needs the training data: Trainer(..., data=(X, y, weights, loss))")
        _, y, weights, _ = self._data
        xp = backend.namespace(y)
        w = None if weights is None else weights.reshape(-1, *([1] * (y.ndim - 1)))
        mean = y.mean(axis=0) if w is None else (w * y).sum(axis=0) / w.sum()
        return float(self._chunked_loss(lambda rows: xp.broadcast_to(mean, y[rows].shape).copy(), chunk))

    def _chunked_loss(self, outputs, chunk: int) -> float:
        """The training loss (the fit's weights and scale) of ``outputs(rows)`` for the rows of
        the training data, a slice of ``chunk`` rows at a time."""
        X, y, weights, loss = self._data
        n = X.shape[0]
        scale = loss.scale_for(n, weights)
        total = 0.0
        for start in range(0, n, chunk):
            rows = slice(start, start + chunk)
            part = scale if isinstance(scale, float) else scale[rows]
            total += loss.evaluate(outputs(rows), y[rows], part)
        return total

    def accept_epoch(self, epoch: int, loss: float) -> None:
        """The epoch's loss was fine: its starting weights become the last good state."""
        self._good, self._start = self._start, self._good
        self._good_epoch, self._good_loss = epoch, loss

    def restore_good_state(self) -> str:
        """Put the last good weights back; returns where they come from, for messages."""
        (self._start if self._good is None else self._good).restore()
        if self._good_epoch is None:
            return "the initial ones"
        return f"those epoch {self._good_epoch + 1} started from (loss {self._good_loss:.6g})"

    def diverged(self, reason: str, epoch: int, exact: bool = True, number: int | None = None):
        """Restore the last good weights and raise ``DivergenceError`` for ``reason`` in
        (``exact``) or by (not ``exact``) the 0-based ``epoch``; ``number`` is the epoch as the
        message counts it (default ``epoch + 1``)."""
        restored = self.restore_good_state()
        accepted = 0 if self._good_epoch is None else self._good_epoch + 1  # epochs are accepted in order
        self.history.keep_epochs(accepted)  # the diverged epoch's record goes, if it was made
        self.diverged_at = epoch + 1
        number = epoch + 1 if number is None else number
        message = f"training diverged {'at' if exact else 'by'} epoch {number}: {reason}; weights restored to {restored}"
        raise DivergenceError(message, epoch + 1, self.history, reason=reason, exact=exact)
