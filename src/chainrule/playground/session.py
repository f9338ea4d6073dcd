"""One browser tab's playground: its data, its network, and the thread that trains it.

Training is chainrule's own ``Sequential.fit`` called for a few epochs at a time on a
background thread, with the same optimizer object (and its moments) and the same shuffling
generator from call to call, so epoch ``k`` is the same whichever chunks it was run in.

Divergence is judged epoch by epoch over the whole run, not per ``fit`` call, so stepping and
playing keep the same weights: a callback follows every epoch and, when its loss is finite and
not absurd (see ``_Watch``), records the weights that epoch started from (the weights the loss
was measured on) with their epoch count as the session's last good state. When an epoch
diverges (the engine's ``DivergenceError``: a non-finite loss or weight, or ``_Watch``'s growth
test) the session goes back to that state, shows its epoch count and is marked "diverged"
until the user resets it or changes an optimizer setting (then training continues from the
kept weights with a fresh optimizer).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import numpy as np

from .. import kernels_cpu
from ..callbacks import DivergenceError, StopOnDivergence, uninformed_loss
from .config import Config, check_loss, fitting_loss, parse_config
from .datasets import PlaygroundData, Upload, feature_matrix, generate
from .model import (
    build_network,
    build_optimizer,
    dense_layers,
    evaluate,
    output_size,
    targets,
    with_dropout,
)

MAX_EPOCHS_PER_SECOND = 200
CHUNK_SECONDS = 0.08
MAX_HISTORY = 4000
MAX_WEIGHT = 100.0
UNWATCHED_PAUSE = 30.0  # seconds without a request or an open event stream before training pauses
GROWTH_FACTOR = 1e3  # an epoch loss this many times the run's first (see _Watch) diverged

_OPTIMIZER_KEYS = ("opt", "lr", "reg", "rate", "batch")
CONTINUE_HINT = ("lower the learning rate (or change the optimizer, batch size or regularization) to continue "
                 "from them, or press reset to start again")


class _Watch(StopOnDivergence):
    """``chainrule.StopOnDivergence`` over a session's whole run, across ``fit`` calls (chunks).

    An epoch's loss is measured while its updates happen, so it speaks for the weights the
    epoch started from (exactly so for full-batch training): when the loss is acceptable,
    those weights and their epoch count become the session's last good state. Non-finite
    losses and weights are caught by ``fit`` itself; the growth test (over ``GROWTH_FACTOR``
    times the run's first epoch loss, or since the last weight edit, and worse than an
    uninformed network's or the mean predictor's loss; for a classification
    loss, in that first epoch, also over ``GROWTH_FACTOR`` times both an uninformed network's
    and the starting weights') keeps a loss of 1e270
    from being kept as "good". Unlike the library callback, the first loss is remembered from
    one ``fit`` call (one epoch, when stepping) to the next.
    """

    def __init__(self, session: "Session"):
        super().__init__(GROWTH_FACTOR)
        self.session = session
        self.restart()

    def restart(self) -> None:
        """Forget the losses seen so far (a new run, or weights changed by hand)."""
        self.first = None
        self.uninformed = uninformed_loss(self.session.net)
        self.lowest = None  # (training loss, epoch): the lowest the chart would show, and when
        self._note_loss(self.session.epoch)  # the starting (or edited) weights count too

    def on_train_begin(self, trainer):
        pass  # the run goes on across fit calls: keep the first loss

    def on_epoch_end(self, trainer, epoch, logs):
        number = self.session.epoch + epoch + 1  # this epoch's number in the session's run
        self.check(trainer, epoch, logs["loss"], number, first_name="that of the run's first epoch")
        self.session._good = (trainer.epoch_start_weights(), number - 1)
        self._note_loss(number)

    def _note_loss(self, number: int) -> None:
        """Keep the training loss of the weights now (after epoch ``number``) when it is the
        run's lowest: evaluated as the chart evaluates it (``logs["loss"]`` is a mean over
        batches while the weights moved), epoch by epoch, so the lowest is the same however
        the run was split into steps and plays."""
        session = self.session
        with np.errstate(all="ignore"):
            loss = evaluate(session.net, session.config.loss, session.data.task, session.F_train,
                            session.t_train, session.data.y_train)[0]
        if math.isfinite(loss) and (self.lowest is None or loss < self.lowest[0]):
            self.lowest = (loss, number)


class Session:
    """State of one client. All public methods are thread-safe (one lock per session).

    Parameters
    ----------
    sid : str
        The session id (random, unguessable).
    config : Config
        The initial settings.
    """

    def __init__(self, sid: str, config: Config | None = None):
        self.id = sid
        self.lock = threading.RLock()
        self.config = config or Config()
        self.upload: Upload | None = None
        self.upload_problem: str | None = None  # how the upload was last read
        self.touched = time.monotonic()
        self.version = 0
        self.data_version = 0
        self.status = "paused"
        self.message: str | None = None
        self._diverged = ""  # the first sentence of the divergence message
        self.weights_version = 0  # changes whenever the weights do (see _record)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._load_data()
        self._reset_network()

    # -- settings -----------------------------------------------------------------------------
    def apply(self, values: dict) -> None:
        """Change settings (validated first; nothing changes on error). New data, features,
        layers, activations or loss reset the network; optimizer settings and dropout keep
        the weights, and a change of an optimizer setting ends a "diverged" state (training
        continues from the kept weights).

        Switching to the uploaded CSV without a ``problem`` reads it as it was last read;
        without a ``loss``, a loss that does not fit the data becomes the data's default."""
        with self.lock:
            new = parse_config(values, base=self.config)
            old = self.config
            if new.dataset == "csv" and old.dataset != "csv" and "problem" not in values and self.upload_problem:
                new = replace(new, problem=self.upload_problem)
            data = self.data
            if new.data_key() != old.data_key():
                data = self._make_data(new)
            if "loss" not in values:
                new = replace(new, loss=fitting_loss(new.loss, data.task, data.classes))
            check_loss(new.loss, data.task, data.classes)
            if new.dataset == "csv":
                self.upload_problem = new.problem
            self.config = new
            if data is not self.data:
                self._set_data(data)
                self._reset_network()
            elif (new.layers, new.act, new.features, new.loss) != (old.layers, old.act, old.features, old.loss):
                self._reset_network()
            else:
                if new.dropout != old.dropout:
                    self.net = with_dropout(self.net, new.dropout, new.seed + 2)
                if any(getattr(new, k) != getattr(old, k) for k in _OPTIMIZER_KEYS):
                    self.optimizer = build_optimizer(new)
                    if self.status == "diverged":
                        self.status, self.message = "paused", None
            self._changed()

    def set_upload(self, upload: Upload, problem: str | None = None) -> None:
        """Use an uploaded CSV as the data set (switches ``dataset`` to "csv")."""
        with self.lock:
            previous = self.upload
            self.upload = upload
            values = {"dataset": "csv"}
            if problem is not None:
                values["problem"] = problem
            try:
                new = parse_config(values, base=self.config)
                data = self._make_data(new)
                new = parse_config({"loss": fitting_loss(new.loss, data.task, data.classes)}, base=new)
            except ValueError:
                self.upload = previous
                raise
            self.config = new
            self.upload_problem = new.problem
            self._set_data(data)
            self._reset_network()
            self._changed()

    # -- training controls ----------------------------------------------------------------------
    def play(self) -> None:
        with self.lock:
            self._refuse_if_diverged()
            kernels_cpu.check_setting()  # refused here, not in the training thread
            if self.status == "running":
                return
            self.status, self.message = "running", None
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name=f"playground-{self.id[:8]}", daemon=True)
            self._thread.start()
            self._changed()

    def pause(self) -> None:
        thread = None
        with self.lock:
            if self.status == "running":
                self.status = "paused"
                self._stop.set()
                thread = self._thread
                self._changed()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def step(self, epochs: int = 1) -> None:
        """Pause, then train ``epochs`` epochs now."""
        self.pause()
        with self.lock:
            self._refuse_if_diverged()
            self._train(epochs)
            self._changed()

    def reset(self) -> None:
        """Pause and start again from the initial weights (same seed, same network)."""
        self.pause()
        with self.lock:
            self._reset_network()
            self._changed()

    def close(self) -> None:
        self.pause()

    def set_weight(self, layer: int, kind: str, row: int, col: int | None, value) -> None:
        """Edit one weight ``W[layer][row, col]`` or bias ``b[layer][row]`` (layer counted from 1;
        row and col from 0). The losses and metrics are evaluated again, and the edited network
        becomes the run's last good state (its baseline for the divergence test starts again)."""
        from .config import _float

        value = _float("weight value", value, -MAX_WEIGHT, MAX_WEIGHT)
        with self.lock:
            pairs = dense_layers(self.net)
            if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= len(pairs):
                raise ValueError(f"layer must be 1..{len(pairs)}; got {layer!r}")
            dense = pairs[layer - 1][0]
            if kind not in ("W", "b"):
                raise ValueError(f"kind must be 'W' or 'b'; got {kind!r}")
            if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row < dense.n_out:
                raise ValueError(f"row must be 0..{dense.n_out - 1} for layer {layer}; got {row!r}")
            if kind == "W":
                if not isinstance(col, int) or isinstance(col, bool) or not 0 <= col < dense.n_in:
                    raise ValueError(f"col must be 0..{dense.n_in - 1} for layer {layer}; got {col!r}")
                dense.W.value[row, col] = value
            else:
                dense.b.value[row] = value
            self._good = (self.net.get_weights(), self.epoch)
            self._edited_epoch = self.epoch
            self._watch.restart()
            self._record()
            if self.status == "diverged":  # the message spoke of the weights before the edit
                self.message = f"{self._diverged} The network now has {self._kept()}: {CONTINUE_HINT}."
            self._changed()

    # -- what the page reads -------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.data.task

    def training_arrays(self):
        """(features of the training points, their targets) as the network sees them."""
        return self.F_train, self.t_train

    def touch(self) -> None:
        self.touched = time.monotonic()

    # -- internals -----------------------------------------------------------------------------
    def _make_data(self, config: Config) -> PlaygroundData:
        if config.dataset == "csv":
            if self.upload is None:
                raise ValueError("dataset csv needs a file: upload a CSV with columns x1, x2, label first")
            return self.upload.to_data(config.problem, config.ratio, config.seed)
        return generate(config)

    def _load_data(self) -> None:
        self._set_data(self._make_data(self.config))

    def _set_data(self, data: PlaygroundData) -> None:
        self.data = data
        self.data_version += 1

    def _reset_network(self) -> None:
        """New network from the seed; stops training; epoch 0."""
        if self.status == "running":
            self.status = "paused"
            self._stop.set()
        config, data = self.config, self.data
        self.F_train = feature_matrix(data.X_train, config.features)
        self.F_test = feature_matrix(data.X_test, config.features)
        self.t_train = targets(config.loss, data.task, data.classes, data.y_train)
        self.t_test = targets(config.loss, data.task, data.classes, data.y_test)
        self.net = build_network(config, self.F_train.shape[1], output_size(config.loss, data.task, data.classes))
        self.optimizer = build_optimizer(config)
        self.rng = np.random.default_rng(config.seed + 1)
        self.epoch = 0
        self.status = "paused"
        self.message = None
        self.history: list[tuple] = []
        self._good = (self.net.get_weights(), 0)  # (weights, epoch count) a diverged run goes back to
        self._edited_epoch = None  # the epoch of the last weight edit
        self._watch = _Watch(self)
        self._record()

    def _train(self, epochs: int) -> bool:
        """Run ``epochs`` epochs of ``fit``; False when training diverged (the network is then
        back at the run's last good state, see ``_Watch``)."""
        batch = min(self.config.batch, self.F_train.shape[0])
        try:
            with np.errstate(all="ignore"):
                self.net.fit(self.F_train, self.t_train, loss=self.net.loss, optimizer=self.optimizer, epochs=epochs,
                             batch_size=batch, shuffle=True, verbose=0, rng=self.rng, metric=None,
                             callbacks=[self._watch])
        except DivergenceError as exc:
            failed = self.epoch + exc.epoch  # the diverging epoch's number in the whole run
            how = "at" if exc.exact else "by"
            self._back_to_good()
            self.status = "diverged"
            self._stop.set()
            self._diverged = f"diverged {how} epoch {failed}: {exc.reason} (learning rate {self.config.lr:g})."
            self.message = f"{self._diverged} The network is back at {self._kept()}: {CONTINUE_HINT}."
            return False
        self.epoch += epochs
        self._record()
        return True

    def _kept(self) -> str:
        """The weights the network has after a divergence (or an edit since), with their
        training loss, and the run's lowest when that was much lower."""
        lowest = self._watch.lowest
        if self.epoch == self._edited_epoch:  # the good state is never older than the last edit
            kept = f"the weights as you edited them (epoch {self.epoch})"
        elif self.epoch == 0:
            kept = "its initial weights"
        else:
            kept = f"the weights after epoch {self.epoch}, the last ones the divergence check accepted"
        kept_loss = self.history[-1][1]
        if kept_loss is not None:
            kept += f" (training loss {kept_loss:.4g}"
            if lowest is not None and lowest[1] != self.epoch and kept_loss > 2 * lowest[0]:
                where = "its starting weights" if lowest[1] == 0 else f"after epoch {lowest[1]}"
                kept += f"; this run's lowest was {lowest[0]:.4g}, {where}"
            kept += ")"
        return kept

    def _back_to_good(self) -> None:
        """Put the network back at the run's last good state (weights and epoch count), with a
        fresh optimizer (its moments may hold a blow-up) and the history up to that epoch."""
        weights, self.epoch = self._good
        self.net.set_weights(weights)
        self.optimizer = build_optimizer(self.config)
        self.history = [row for row in self.history if row[0] < self.epoch]
        self._record()

    def _record(self) -> None:
        """Append (epoch, train loss, test loss, train metric, test metric) to the history."""
        data, loss = self.data, self.config.loss
        with np.errstate(all="ignore"):
            train = evaluate(self.net, loss, data.task, self.F_train, self.t_train, data.y_train)
            test = evaluate(self.net, loss, data.task, self.F_test, self.t_test, data.y_test)
        self.metric_name = "r2" if data.task == "regression" else "accuracy"
        row = (self.epoch, _finite(train[0]), _finite(test[0]), _finite(train[1]), _finite(test[1]))
        self.weights_version += 1  # every change of the weights (training, reset, an edit) is recorded here
        self.history.append(row)
        if len(self.history) > MAX_HISTORY:
            self.history = self.history[::2] + ([] if len(self.history) % 2 else [self.history[-1]])

    def _run(self, stop: threading.Event) -> None:
        """The training thread: chunks of epochs sized to ~CHUNK_SECONDS, at most
        MAX_EPOCHS_PER_SECOND, until paused, reset or diverged, or until no page has asked
        about the session for UNWATCHED_PAUSE seconds (a closed tab stops costing CPU)."""
        chunk = 1
        while not stop.is_set():
            start = time.perf_counter()
            with self.lock:
                if stop.is_set() or self.status != "running":
                    return
                if time.monotonic() - self.touched > UNWATCHED_PAUSE:
                    self.status, self.message = "paused", "paused: no page was following this session"
                    self._changed()
                    return
                before = self.net.get_weights()
                try:
                    ok = self._train(chunk)
                except Exception as exc:  # nothing else would see it: stop, and say why on the page
                    self.net.set_weights(before)  # the failed chunk may have changed them, and the moments
                    self.optimizer = build_optimizer(self.config)
                    self.status = "paused"
                    self.message = f"training stopped: {exc}; the network is back at its weights of epoch {self.epoch}"
                    self._changed()
                    return
                self._changed()
            if not ok:
                return
            spent = time.perf_counter() - start
            per_epoch = spent / chunk
            chunk = int(min(max(1, CHUNK_SECONDS / max(per_epoch, 1e-6)), CHUNK_SECONDS * MAX_EPOCHS_PER_SECOND))
            stop.wait(max(0.005, chunk / MAX_EPOCHS_PER_SECOND - spent))

    def _refuse_if_diverged(self) -> None:
        if self.status == "diverged":
            raise ValueError(f"training diverged; the network is back at its weights of epoch {self.epoch}: {CONTINUE_HINT}")

    def _changed(self) -> None:
        self.version += 1


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
