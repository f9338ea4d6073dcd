"""The loss curve of a training run: training and validation loss per epoch, with the epochs
whose loss is not finite (or, on a log axis, not positive) marked instead of dropped."""

from __future__ import annotations

import numpy as np

from ._backend import pyplot as _pyplot
from ._labels import plain
from .gradients import _below_x_label

__all__ = ["loss_curve"]


#: Up to this many epochs the loss curve marks every epoch's point.
MARKED_EPOCHS = 30


def loss_curve(history, title: str = "Loss during training", log_scale: bool | None = None):
    """Training (and validation) loss per epoch.

    The training loss of an epoch is the mean over its batches (their sum for a sum-reduced
    loss such as ``sse``: ``history.loss_reduction``), each measured as it was trained
    (before its update, with dropout on); the validation loss is measured after the epoch,
    in inference mode: the legend says so, since the two differ even on the same rows.
    Epochs are whole numbers on the axis; up to ``MARKED_EPOCHS`` epochs each point is
    marked (one epoch is a point, not an empty line). When early stopping restored the
    weights of an earlier epoch (``history.best_epoch``), a dashed line marks it, and a
    circle the value it was chosen by. The legend sits under the axes, off the data.

    A loss the axis cannot show is marked at its epoch and named in the legend: a nan or inf
    as a ✕ on the top edge, a loss of 0 or less on a logarithmic axis as a ▼ on the bottom
    edge. A history of no epochs (a fit that diverged in its first) draws an empty frame
    that says so.

    Parameters
    ----------
    history : History, dict or sequence of float
        A ``History``; a dict with ``"loss"`` and optionally ``"val_loss"``, ``"loss_name"``,
        ``"loss_reduction"``, ``"best_epoch"`` and ``"restored_from"`` (``History.as_dict()``);
        or the training losses alone, one per epoch (an estimator's ``loss_curve_``).
    log_scale : bool, optional
        Logarithmic loss axis; by default when every finite loss is positive and the
        largest is more than 100 times the smallest (a loss of exactly 0 has no place on a
        log axis).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If ``history`` is none of these.
    ValueError
        If the losses are not numbers, or there are validation losses for another number
        of epochs.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    record = _loss_record(history)
    loss, val = record["loss"], record["val_loss"]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({plain(record['loss_name'])})" if record["loss_name"] else "loss")
    ax.set_title(title)
    if not loss.size:  # a fit that diverged in its first epoch records none
        ax.text(0.5, 0.5, "no epoch was completed", transform=ax.transAxes, ha="center", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
        fig.tight_layout()
        return fig
    epochs = np.arange(1, loss.size + 1)
    values = np.concatenate([loss, val])
    finite = values[np.isfinite(values)]
    if log_scale is None:
        log_scale = bool(finite.size and (finite > 0).all() and np.log10(finite.max()) - np.log10(finite.min()) > 2)
    marker = "o" if len(epochs) <= MARKED_EPOCHS else None
    combined = "sum" if record["loss_reduction"] == "sum" else "mean"
    curves = [("training loss", loss, "tab:blue",
               f"training loss ({combined} over each epoch's batches, while training)")]
    if val.size:
        curves.append(("validation loss", val, "tab:orange", "validation loss (after each epoch)"))
    notes = []  # (colour, marker style, text) of what the axis cannot show
    for name, curve, colour, label in curves:
        bad = ~np.isfinite(curve)
        low = np.isfinite(curve) & (curve <= 0) if log_scale else np.zeros_like(bad)
        ax.plot(epochs, np.where(bad | low, np.nan, curve), label=label, color=colour, marker=marker, markersize=4)
        for hit, (style, symbol), edge, what in ((bad, _NONFINITE, "top", "not finite (inf or NaN)"),
                                                 (low, _NOT_POSITIVE, "bottom", "0 or less (no place on a log axis)")):
            if hit.any():
                ax.plot(epochs[hit], np.full(hit.sum(), 1.0 if edge == "top" else 0.0), color=colour,
                        transform=ax.get_xaxis_transform(), **style)
                notes.append((colour, style,
                              f"{name} {what} at {_epoch_list(epochs[hit])}: {symbol} on the {edge} edge"))
    best = record["best_epoch"]
    if best is not None and 0 <= best < len(epochs):
        start = record["restored_from"] == "start"  # chosen by the training loss
        ax.axvline(best + 1, color="0.25", linestyle="--", linewidth=1,
                   label=f"best epoch, {best + 1}: " + ("the weights it started from restored" if start
                                                        else "its weights restored"))
        curve = loss if start or not val.size else val
        ax.plot([best + 1], [curve[best]], linestyle="none", marker="o", markersize=7, markerfacecolor="none",
                markeredgecolor="0.25")
    if log_scale:
        ax.set_yscale("log")
    drawable = finite[finite > 0] if log_scale else finite
    if not drawable.size:  # no scale to read: the marks on the edges are all there is
        ax.set_yticks([])
        ax.set_yticks([], minor=True)
        ax.text(0.5, 0.5, "no loss the axis can show", transform=ax.transAxes, ha="center", va="center")
    if len(epochs) <= 10:  # MaxNLocator falls back to fractions with fewer than 2 whole numbers in view
        ax.set_xticks(epochs)
        ax.set_xlim(0.5, len(epochs) + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        pad = 0.03 * (len(epochs) - 1)  # every epoch in view, those marked on an edge too
        ax.set_xlim(1 - pad, len(epochs) + pad)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    for colour, style, text in notes:
        handles.append(Line2D([], [], color=colour, **style))
        labels.append(text)
    # under the axes, below the x label, never over the data (one entry a line: they are long)
    ax.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              borderaxespad=_below_x_label() / 8, frameon=False)
    fig.set_figheight(3.9 + 0.17 * len(labels))
    fig.tight_layout()
    return fig


#: How ``loss_curve`` marks a loss its axis cannot show, and the symbol its legend names.
_NONFINITE = ({"marker": "X", "linestyle": "none", "markersize": 7, "clip_on": False, "zorder": 4}, "✕")
_NOT_POSITIVE = ({"marker": "v", "linestyle": "none", "markersize": 6, "clip_on": False, "zorder": 4}, "▼")


def _loss_record(history) -> dict:
    """What ``loss_curve`` draws, from a History, a dict or a sequence of losses."""
    keys = ("loss_name", "loss_reduction", "best_epoch", "restored_from")
    if isinstance(history, dict):
        if "loss" not in history:
            raise ValueError(f"loss_curve's dict needs a 'loss' list; it has {sorted(map(str, history))}")
        record = {key: history.get(key) for key in ("loss", "val_loss", *keys)}
    elif hasattr(history, "loss_curve_"):  # a fitted estimator: its training losses
        fitted = getattr(getattr(history, "network_", None), "loss", None)  # not a later set_params(loss=...)
        name = getattr(fitted, "name", None)
        record = {"loss": history.loss_curve_, "val_loss": None, "loss_name": name if isinstance(name, str) else None}
        record.update({key: None for key in keys[1:]})
    elif hasattr(history, "loss") and hasattr(history, "val_loss"):
        record = {key: getattr(history, key, None) for key in ("loss", "val_loss", *keys)}
    elif isinstance(history, (list, tuple, np.ndarray)):
        record = {"loss": history, "val_loss": None} | dict.fromkeys(keys)
    else:
        raise TypeError("loss_curve takes a History, a dict with 'loss' (and optionally 'val_loss') or a sequence "
                        f"of losses, one per epoch; got {type(history).__name__}")
    if record["val_loss"] is None:
        record["val_loss"] = ()
    for name in ("loss", "val_loss"):
        try:
            values = np.asarray(record[name], dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"history.{name} must be numbers, one per epoch") from None
        if values.ndim != 1:
            raise ValueError(f"history.{name} must be one number per epoch, got shape {values.shape}")
        record[name] = values
    if record["val_loss"].size and record["val_loss"].size != record["loss"].size:
        raise ValueError(f"history.val_loss has {record['val_loss'].size} values for {record['loss'].size} epochs of "
                         "history.loss")
    return record


def _epoch_list(epochs) -> str:
    """"epoch 3" or "epochs 3, 4, ..." (at most 8 named)."""
    epochs = [int(e) for e in epochs]
    shown = ", ".join(map(str, epochs[:8])) + (", ..." if len(epochs) > 8 else "")
    return f"epoch{'s' if len(epochs) > 1 else ''} {shown}"
