"""Gradient-flow figure from a ``chainrule.inspect.GradientFlow`` record."""

from __future__ import annotations

import numpy as np

from ._backend import pyplot as _pyplot

__all__ = ["gradient_flow"]


def gradient_flow(history_or_callback, title: str = "Gradient flow"):
    """Per-layer gradient magnitudes over training, in three panels.

    (a) ``‖dW[l]‖`` per epoch, one line per layer; (b) ``‖dL/dZ[l]‖`` and ``‖dW[l]‖`` across
    the layers at the first and last recorded epoch (vanishing gradients fall towards the
    input side); (c) the update-to-weight ratio ``‖ΔW‖/‖W‖`` per epoch with the 1e-3 guide.

    Parameters
    ----------
    history_or_callback : GradientFlow, History or dict
        The callback after ``fit``, the ``History`` of a fit that used it (it carries
        ``history.gradient_flow``), or ``GradientFlow.to_dict()`` output.

    Returns
    -------
    matplotlib.figure.Figure
    """
    record = _record(history_or_callback)
    names = record["layer_names"]
    epochs = np.asarray(record["epochs"], dtype=float) + 1
    if not names or epochs.size == 0:
        raise ValueError("the gradient-flow record is empty: was the callback passed to fit?")
    stats = {k: np.asarray(record[k], dtype=float).reshape(epochs.size, len(names))
             for k in ("weight_grad_norm", "dz_norm", "update_ratio")}
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    colours = plt.get_cmap("viridis", max(len(names), 2))
    marker = "o" if epochs.size < 30 else None

    ax = axes[0]
    for i, name in enumerate(names):
        ax.plot(epochs, _positive(stats["weight_grad_norm"][:, i]), color=colours(i), marker=marker, markersize=3,
                label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖dL/dW‖ (mean over the epoch's batches)")
    ax.set_title("(a) weight-gradient norm per layer")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")

    ax = axes[1]
    layers = np.arange(1, len(names) + 1)
    first = {"linestyle": "--", "linewidth": 3.0, "alpha": 0.55, "markerfacecolor": "none", "markersize": 9}
    last = {"linestyle": "-", "linewidth": 1.4, "markersize": 5}
    for row, style, when in ((0, first, f"epoch {int(epochs[0])}"), (-1, last, f"epoch {int(epochs[-1])}")):
        ax.plot(layers, _positive(stats["dz_norm"][row]), marker="o", color="tab:red",
                label=f"‖dL/dZ‖, {when}", **style)
        ax.plot(layers, _positive(stats["weight_grad_norm"][row]), marker="s", color="tab:blue",
                label=f"‖dL/dW‖, {when}", **style)
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel("gradient norm")
    ax.set_title("(b) gradient magnitude across the layers")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")

    ax = axes[2]
    for i, name in enumerate(names):
        ax.plot(epochs, _positive(stats["update_ratio"][:, i]), color=colours(i), marker=marker, markersize=3,
                label=name)
    ax.axhline(1e-3, color="k", linestyle=":", linewidth=1, label="1e-3 (rule of thumb)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖ΔW‖ / ‖W‖ per step")
    ax.set_title("(c) update-to-weight ratio")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")

    warnings = record.get("warnings") or []
    if warnings:
        kinds = sorted({w["kind"] for w in warnings})
        title += f" — warnings: {', '.join(kinds)} ({len(warnings)})"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _record(source) -> dict:
    if isinstance(source, dict):
        record = source
    elif hasattr(source, "to_dict") and hasattr(source, "layer_names"):
        record = source.to_dict()
    elif isinstance(getattr(source, "gradient_flow", None), dict):
        record = source.gradient_flow
    else:
        raise TypeError("gradient_flow needs a GradientFlow callback, a History of a fit that used one, or "
                        f"GradientFlow.to_dict() output; got {type(source).__name__}")
    missing = [k for k in ("layer_names", "epochs", "weight_grad_norm", "dz_norm", "update_ratio") if k not in record]
    if missing:
        raise ValueError(f"gradient-flow record lacks {', '.join(missing)}")
    return record


def _positive(values):
    """Zeros and non-finite values become NaN so a log axis skips them."""
    values = np.asarray(values, dtype=float).copy()
    values[~np.isfinite(values) | (values <= 0)] = np.nan
    return values
