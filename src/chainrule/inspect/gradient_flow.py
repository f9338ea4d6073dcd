"""Gradient-flow diagnostics during ``fit``: the ``GradientFlow`` callback.

Per epoch and per ``Dense`` layer it records (averaged over the epoch's batches):

- ``weight_grad_norm``, ``weight_grad_mean_abs``: ``‖dW[l]‖`` and ``mean |dW[l]|``;
- ``dz_norm``, ``dz_mean_abs``: ``‖dL/dZ[l]‖`` and ``mean |dL/dZ[l]|``, read as the gradient
  enters the layer's ``backward``;
- ``update_ratio``: ``‖ΔW[l]‖ / ‖W[l]‖`` of each optimizer step (a healthy value is often
  around 1e-3).

and warns (``warnings.warn`` with a ``GradientFlowWarning`` subclass, and in ``.warnings``)
when a layer's gradient vanishes — the error signal ``‖dL/dZ[l]‖`` reaching it falls below
``vanishing_ratio`` × the last layer's — or explodes — its weight gradient becomes non-finite
or grows past ``exploding_factor`` × its first epoch's value. Each warning lists the remedies of seed 002.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..backend import namespace, to_numpy
from ..caller import caller_stacklevel
from ..callbacks import Callback
from ..layers import Dense

VANISHING_REMEDIES = (
    "use ReLU activations (their gradient is 1 or 0; the sigmoid's is at most 1/4 per layer)",
    "initialise the weights for the activation (He for ReLU, Glorot for sigmoid/tanh)",
    "apply gradient clipping",
    "use residual connections",
    "use batch normalization",
)
EXPLODING_REMEDIES = (
    "apply gradient clipping: if ‖g‖ > threshold, g = g × threshold/‖g‖ (optimizer clip_norm=...)",
    "initialise the weights carefully (Glorot/He scale instead of large random weights)",
    "schedule the learning rate (lower it, or let it decay)",
)

STATS = ("weight_grad_norm", "weight_grad_mean_abs", "dz_norm", "dz_mean_abs", "update_ratio")


class GradientFlowWarning(UserWarning):
    """A gradient-flow problem seen during training."""


class VanishingGradientWarning(GradientFlowWarning):
    """A layer's gradient is orders of magnitude below the last layer's."""


class ExplodingGradientWarning(GradientFlowWarning):
    """A layer's gradient became non-finite or grows without bound."""


@dataclass
class GradientIssue:
    """One recorded warning: ``kind`` is "vanishing" or "exploding"; ``layer`` is 0-based."""

    epoch: int
    layer: int
    layer_name: str
    kind: str
    value: float
    message: str


class GradientFlow(Callback):
    """Record per-layer gradient statistics during ``fit`` and warn about bad gradient flow.

    Parameters
    ----------
    vanishing_ratio : float
        Warn when ``‖dL/dZ[l]‖ < vanishing_ratio · ‖dL/dZ[L]‖`` (default 1e-2: two orders of
        magnitude below the last layer; a 5-layer sigmoid network sits near (1/4)⁴ ≈ 4e-3).
    exploding_factor : float
        Warn when ``‖dW[l]‖`` exceeds this many times its first epoch's value (default 1e3),
        or is non-finite. ``Sequential.fit`` stops a run whose loss exceeds 1000× its first
        epoch's by default (``StopOnDivergence``), which a squared loss usually reaches at a
        gradient some 30× the first: pass ``stop_on_divergence=False`` to watch a blow-up.
    warn : bool
        Emit Python warnings (they are recorded in ``.warnings`` either way).

    Attributes
    ----------
    layer_names : list of str
        ``"Dense 1 (2→4)"``, ... for every Dense layer (inside residual blocks too).
    epochs : list of int
        0-based epochs recorded.
    weight_grad_norm, weight_grad_mean_abs, dz_norm, dz_mean_abs, update_ratio : list of list of float
        One row per epoch, one value per layer; see ``array(stat)``.
    warnings : list of GradientIssue
        One per layer and kind (the first time it happened).
    """

    adds_log_keys = False

    def __init__(self, vanishing_ratio: float = 1e-2, exploding_factor: float = 1e3, warn: bool = True):
        from ..validation import check_positive

        self.vanishing_ratio = check_positive("vanishing_ratio", vanishing_ratio)
        self.exploding_factor = check_positive("exploding_factor", exploding_factor)
        self.warn = bool(warn)
        self._reset()

    def _reset(self):
        self.layer_names: list[str] = []
        self.epochs: list[int] = []
        for stat in STATS:
            setattr(self, stat, [])
        self.warnings: list[GradientIssue] = []
        self._seen: set = set()
        self._first_norm: dict = {}
        self._layers: list[Dense] = []

    # -- fit hooks --------------------------------------------------------------------------
    # No on_batch_end: fit would then read every batch's loss on the host (a GPU sync per
    # batch). The statistics are taken in the Dense layers' backward hooks instead.
    def on_train_begin(self, trainer):
        self._reset()
        self._trainer = trainer
        self._layers = list(_dense_layers(trainer.net.layers))
        if not self._layers:
            raise ValueError("GradientFlow needs a network with at least one Dense layer")
        self.layer_names = [f"Dense {i} ({d.n_in}→{d.n_out})" for i, d in enumerate(self._layers, start=1)]
        self._previous = [d.W.value.copy() for d in self._layers]
        self._stepped = False  # an optimizer step was taken since the update ratios were last read
        self._calls = 0  # Dense backward passes so far in this batch
        for i, layer in enumerate(self._layers):
            layer.backward = self._recording_backward(layer, i)  # instance attribute: a backward hook
        self._start_epoch()

    def on_epoch_begin(self, trainer, epoch):
        self._start_epoch()

    def on_epoch_end(self, trainer, epoch, logs):
        self._close_epoch(epoch)

    def _close_epoch(self, epoch):
        self._read_update_ratios()  # the epoch's last step
        sums = _on_host(self._sums)
        self.epochs.append(epoch)
        for stat in STATS:
            n = max(self._ratios if stat == "update_ratio" else self._batches, 1)
            getattr(self, stat).append([v / n for v in sums[stat]])
        self._check(epoch)

    def on_train_end(self, trainer):
        try:
            if self._batches and trainer.epoch not in self.epochs:
                # an epoch cut short (training diverged, or a callback before this one raised):
                # its batches so far are the record of how the gradients blew up; its last step
                # is not read, since the weights were taken back since
                self._stepped = False
                self._close_epoch(trainer.epoch)
        finally:  # a warning turned into an error must not leave the hooks in place
            for layer in self._layers:
                if "backward" in vars(layer):
                    del layer.backward
            trainer.history.gradient_flow = self.to_dict()

    # -- results ------------------------------------------------------------------------------
    def array(self, stat: str) -> np.ndarray:
        """``stat`` as an array of shape (epochs, layers)."""
        if stat not in STATS:
            raise ValueError(f"unknown statistic {stat!r}; choose one of: {', '.join(STATS)}")
        return np.asarray(getattr(self, stat), dtype=np.float64).reshape(len(self.epochs), len(self.layer_names))

    def to_dict(self) -> dict:
        """JSON-ready record (what ``plot.gradient_flow`` draws)."""
        out = {"layer_names": list(self.layer_names), "epochs": list(self.epochs),
               "vanishing_ratio": self.vanishing_ratio, "exploding_factor": self.exploding_factor}
        for stat in STATS:
            out[stat] = [list(row) for row in getattr(self, stat)]
        out["warnings"] = [asdict(w) for w in self.warnings]
        return out

    # -- internals ------------------------------------------------------------------------------
    def _start_epoch(self):
        size = len(self._layers)
        self._sums = {stat: [0.0] * size for stat in STATS}
        self._batches = 0
        self._ratios = 0  # optimizer steps read: one per batch, but for a diverged epoch's last

    def _recording_backward(self, layer: Dense, index: int):
        method = type(layer).backward

        def backward(dz, *args, **kwargs):
            self._sums["dz_norm"][index] += _norm(dz)
            self._sums["dz_mean_abs"][index] += _mean_abs(dz)
            dx = method(layer, dz, *args, **kwargs)
            self._calls += 1
            if self._calls == len(self._layers):  # every Dense layer has its gradient now
                self._calls = 0
                self._batch_done()
            return dx

        return backward

    def _batch_done(self):
        """Record the batch's weight gradients, after the update ratios of the step before
        it (the step for these gradients comes next, after the backward pass)."""
        self._read_update_ratios()
        epoch = self._trainer.epoch
        for i, layer in enumerate(self._layers):
            g = layer.W.grad
            norm = _norm(g)
            self._sums["weight_grad_norm"][i] += norm
            self._sums["weight_grad_mean_abs"][i] += _mean_abs(g)
            if isinstance(norm, float) and not math.isfinite(norm):  # on a GPU: found by the epoch's check
                self._issue(epoch, i, "exploding", norm,
                            f"layer {self.layer_names[i]}: the weight gradient became {norm} at epoch "
                            f"{epoch + 1}: exploding gradients")
        self._stepped = True
        self._batches += 1

    def _read_update_ratios(self):
        """Add ``‖ΔW‖ / ‖W‖`` of the optimizer step taken since the last read, if one was."""
        if not self._stepped:
            return
        for i, layer in enumerate(self._layers):
            w, previous = layer.W.value, self._previous[i]
            self._sums["update_ratio"][i] += _ratio(_norm(w - previous), _norm(previous))
            previous[...] = w
        self._stepped = False
        self._ratios += 1

    def _check(self, epoch: int):
        norms, signals = self.weight_grad_norm[-1], self.dz_norm[-1]
        last = signals[-1]
        for i, norm in enumerate(norms):
            name = self.layer_names[i]
            if not math.isfinite(norm):
                self._issue(epoch, i, "exploding", norm,
                            f"layer {name}: the weight gradient is {norm} at epoch {epoch + 1}: exploding gradients")
                continue
            first = self._first_norm.setdefault(i, norm)
            if first > 0 and norm > self.exploding_factor * first:
                self._issue(epoch, i, "exploding", norm,
                            f"layer {name}: ‖dW‖ = {norm:.3g} at epoch {epoch + 1} is {norm / first:.3g}× its "
                            f"first epoch's value ({first:.3g}): exploding gradients")
            signal = signals[i]
            if i < len(norms) - 1 and math.isfinite(last) and last > 0 and signal < self.vanishing_ratio * last:
                self._issue(epoch, i, "vanishing", signal,
                            f"layer {name}: ‖dL/dZ‖ = {signal:.3g} at epoch {epoch + 1} is {signal / last:.2e}× the "
                            f"last layer's ({last:.3g}; ‖dW‖ = {norm:.3g}): vanishing gradients")

    def _issue(self, epoch, layer, kind, value, message):
        if (kind, layer) in self._seen:
            return
        self._seen.add((kind, layer))
        remedies = VANISHING_REMEDIES if kind == "vanishing" else EXPLODING_REMEDIES
        message = f"{message}. Remedies (seed 002): " + "; ".join(remedies) + "."
        self.warnings.append(GradientIssue(epoch, layer, self.layer_names[layer], kind, float(value), message))
        if self.warn:
            category = VanishingGradientWarning if kind == "vanishing" else ExplodingGradientWarning
            warnings.warn(message, category, stacklevel=caller_stacklevel())


def _dense_layers(layers):
    for layer in layers:
        if isinstance(layer, Dense):
            yield layer
        yield from _dense_layers(layer.sublayers())


# The statistics of one batch are floats for NumPy arrays and float64 0-d device arrays for
# CuPy ones, summed where they are and brought to the host once per epoch (_on_host): reading
# each one on the host would stop the GPU several times per layer and batch.
def _norm(array):
    """``‖array‖``."""
    with np.errstate(over="ignore", invalid="ignore"):
        squares = (array * array).sum()
    if isinstance(array, np.ndarray):
        return math.sqrt(float(squares))
    return namespace(array).sqrt(squares.astype(np.float64))


def _mean_abs(array):
    """``mean |array|``."""
    mean = abs(array).mean()
    return float(mean) if isinstance(array, np.ndarray) else mean.astype(np.float64)


def _ratio(numerator, denominator):
    """``numerator / denominator``, or inf where the denominator is 0."""
    if isinstance(denominator, float):
        return numerator / denominator if denominator > 0 else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        return namespace(denominator).where(denominator > 0, numerator / denominator, math.inf)


def _on_host(sums: dict) -> dict:
    """``sums`` (stat -> list of per-layer values) as floats, in one device-to-host copy
    when any value is on a device."""
    values = [v for stat in STATS for v in sums[stat]]
    device = [v for v in values if not isinstance(v, float)]
    if not device:
        return sums
    xp = namespace(device[0])
    host = iter(to_numpy(xp.stack([xp.asarray(v, dtype=np.float64) for v in values])).tolist())
    return {stat: [next(host) for _ in sums[stat]] for stat in STATS}


__all__ = [
    "EXPLODING_REMEDIES", "STATS", "VANISHING_REMEDIES", "ExplodingGradientWarning", "GradientFlow",
    "GradientFlowWarning", "GradientIssue", "VanishingGradientWarning",
]
