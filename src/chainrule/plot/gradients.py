"""Gradient-flow figure from a ``chainrule.inspect.GradientFlow`` record."""

from __future__ import annotations

import textwrap

import numpy as np

from ._backend import pyplot as _pyplot

__all__ = ["gradient_flow"]

#: Up to this many epochs every epoch is a tick (and a marked point).
TICKED_EPOCHS = 10
#: Up to this many epochs each point is marked.
MARKED_EPOCHS = 30
#: Most columns of the layer legend under the figure (fewer where long names need the width).
LEGEND_COLUMNS = 7
#: Characters per line of a note in a panel.
NOTE_WIDTH = 58

_ZERO = {"marker": "v", "linestyle": "none", "markersize": 6, "clip_on": False, "zorder": 4}
_NONFINITE = {"marker": "X", "linestyle": "none", "markersize": 7, "clip_on": False, "zorder": 4}


def gradient_flow(history_or_callback, title: str = "Gradient flow"):
    """Per-layer gradient magnitudes over training, in three panels.

    (a) ``‖dW[l]‖`` per epoch, one line per layer; (b) ``‖dL/dZ[l]‖`` and ``‖dW[l]‖`` across
    the layers at the first and last recorded epoch (vanishing gradients fall towards the
    input side); (c) the update-to-weight ratio ``‖ΔW‖/‖W‖`` per epoch with the 1e-3 guide.

    The axes are logarithmic, where 0 has no place: a value that is exactly 0 (a layer that
    gets no gradient, e.g. behind dead ReLUs) is drawn as a ▼ on the bottom edge, a nan or
    inf as a ✕ on the top edge, and the panel says which layers have them. Epochs are whole
    numbers on the axes. The legends sit under the panels, off the data.

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
    names = [str(name) for name in record["layer_names"]]
    epochs = np.asarray(record["epochs"], dtype=float).ravel() + 1
    if not names or epochs.size == 0:
        raise ValueError("the gradient-flow record is empty: was the callback passed to fit?")
    stats = {}
    for k in ("weight_grad_norm", "dz_norm", "update_ratio"):
        values = np.asarray(record[k], dtype=float)
        if values.size != epochs.size * len(names):
            raise ValueError(f"the gradient-flow record's {k} has {values.size} values for {epochs.size} epoch(s) "
                             f"and {len(names)} layer(s)")
        stats[k] = values.reshape(epochs.size, len(names))
    plt = _pyplot()
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4), layout="constrained")
    colours = plt.get_cmap("viridis", max(len(names), 2))
    marker = "o" if epochs.size <= MARKED_EPOCHS else None
    size = 5 if epochs.size <= TICKED_EPOCHS else 3
    seen = {"zero": False, "nonfinite": False}

    # (a) and (c): one line per layer over the epochs
    panels = ((axes[0], "weight_grad_norm", "‖dL/dW‖", "(a) weight-gradient norm per layer",
               "‖dL/dW‖ (mean over the epoch's batches)"),
              (axes[2], "update_ratio", "‖ΔW‖/‖W‖", "(c) update-to-weight ratio", "‖ΔW‖ / ‖W‖ per step"))
    for ax, stat, symbol, panel_title, ylabel in panels:
        values = stats[stat]
        for i, name in enumerate(names):
            _series(ax, epochs, values[:, i], colour=colours(i), marker=marker, markersize=size, label=name)
        guide = [1e-3] if stat == "update_ratio" else []
        if guide:
            ax.axhline(1e-3, color="k", linestyle=":", linewidth=1, label="1e-3 (rule of thumb)")
        notes = _layer_notes(symbol, values, names, epochs)
        _log_axis(ax, values, notes, extra=guide)
        _epoch_axis(ax, epochs)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title)
        seen["zero"] |= bool(np.any(values == 0))
        seen["nonfinite"] |= bool(np.any(~np.isfinite(values)))

    # (b): across the layers at the first and the last epoch
    ax = axes[1]
    layers = np.arange(1, len(names) + 1)
    first = {"linestyle": "--", "linewidth": 3.0, "alpha": 0.55, "markerfacecolor": "none", "markersize": 9}
    last = {"linestyle": "-", "linewidth": 1.4, "markersize": 5}
    rows = (0, -1) if epochs.size > 1 else (0,)
    shown, missing = [], {}
    for row, style in zip(rows, (first, last) if epochs.size > 1 else (last,)):
        when = _epoch_label(epochs[row])
        for stat, symbol, mark, colour in (("dz_norm", "‖dL/dZ‖", "o", "tab:red"),
                                           ("weight_grad_norm", "‖dL/dW‖", "s", "tab:blue")):
            values = stats[stat][row]
            _series(ax, layers, values, colour=colour, marker=mark, label=f"{symbol}, epoch {when}", **style)
            shown.append(values)
            for hit, kind in ((values == 0, "exactly 0"), (~np.isfinite(values), "nan/inf")):
                if hit.any():
                    where = "every layer" if hit.all() else \
                        f"layer{'s' if hit.sum() > 1 else ''} {_ranges(np.flatnonzero(hit) + 1)}"
                    missing.setdefault((symbol, kind, where), []).append(when)
    notes = [f"{symbol} is {kind} at {where} (epoch{'s' if len(whens) > 1 else ''} {' and '.join(whens)})"
             for (symbol, kind, where), whens in missing.items()]
    shown = np.concatenate(shown)
    _log_axis(ax, shown, notes)
    seen["zero"] |= bool(np.any(shown == 0))
    seen["nonfinite"] |= bool(np.any(~np.isfinite(shown)))
    ax.set_xticks(layers)
    if len(names) > 25:
        ax.xaxis.set_major_locator(_integer_locator())
    ax.set_xlim(0.5, len(names) + 0.5)
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel("gradient norm")
    ax.set_title("(b) gradient magnitude across the layers")
    # under the axes, below the tick labels and the x label, never over the data
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=_below_x_label() / 8,
              ncol=len(rows), frameon=False)

    # one legend for the layers of (a) and (c), under the figure
    handles, labels = axes[2].get_legend_handles_labels()
    if seen["zero"]:
        handles.append(Line2D([], [], color="0.3", **_ZERO))
        labels.append("exactly 0 (▼ on the bottom edge)")
    if seen["nonfinite"]:
        handles.append(Line2D([], [], color="0.3", **_NONFINITE))
        labels.append("nan or inf (✕ on the top edge)")
    _figure_legend(fig, handles, labels)

    warnings = record.get("warnings") or []
    if warnings:
        kinds = sorted({str(w.get("kind", "?")) if isinstance(w, dict) else str(getattr(w, "kind", "?"))
                        for w in warnings})
        title += f" — warnings: {', '.join(kinds)} ({len(warnings)})"
    fig.suptitle(title)
    return fig


def _figure_legend(fig, handles, labels) -> None:
    """The layers' legend under the panels, in as many columns (up to ``LEGEND_COLUMNS``) as
    the figure's width holds with the names as they are; the figure grows by its rows."""
    renderer = fig.canvas.get_renderer()
    for columns in range(min(LEGEND_COLUMNS, len(handles)), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncol=columns, fontsize=8,
                            title="layers in (a) and (c)", title_fontsize=8, frameon=False)
        if legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width or columns == 1:
            break
        legend.remove()
    rows = -(-len(handles) // columns)
    fig.set_figheight(fig.get_figheight() + 0.2 * rows)


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


def _series(ax, x, values, colour, label, **style):
    """The positive values as a line; zeros as ▼ on the bottom edge and nan/inf as ✕ on the
    top edge (x in data, y in axes coordinates: no log scale can show them)."""
    values = np.asarray(values, dtype=float)
    ax.plot(x, _positive(values), color=colour, label=label, **style)
    zero, bad = values == 0, ~np.isfinite(values)
    if zero.any():
        ax.plot(x[zero], np.zeros(zero.sum()), color=colour, transform=ax.get_xaxis_transform(), **_ZERO)
    if bad.any():
        ax.plot(x[bad], np.ones(bad.sum()), color=colour, transform=ax.get_xaxis_transform(), **_NONFINITE)


def _log_axis(ax, values, notes, extra=()):
    """Log y axis framing the positive finite values (and ``extra`` guides), with the notes
    in a band kept free of data at the bottom, or across the panel when it has no data."""
    values = np.asarray(values, dtype=float).ravel()
    good = values[np.isfinite(values) & (values > 0)]
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    text = "\n".join(textwrap.fill(note, NOTE_WIDTH) for note in notes)
    if good.size == 0:
        middle = 0.5
        if extra:  # the guides in the lower quarter, the note above them
            low, high = np.log10(min(extra)) - 0.5, np.log10(max(extra)) + 1.5
            ax.set_ylim(10 ** low, 10 ** high)
            middle = 0.62
        else:  # no scale to read
            ax.set_yticks([])
            ax.set_yticks([], minor=True)
        if text:
            ax.text(0.5, middle, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="darkred",
                    bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "darkred", "alpha": 0.9})
        return
    low, high = np.log10(np.concatenate([good, extra]).min()), np.log10(np.concatenate([good, extra]).max())
    if high - low < 1.0:  # at least a decade in view
        middle = (low + high) / 2
        low, high = middle - 0.5, middle + 0.5
    lines = text.count("\n") + 1 if text else 0
    band = 0.06 + 0.065 * lines if text else 0.05  # of the axes' height, under the data
    span = (high - low) / (1 - band - 0.05)
    ax.set_ylim(10 ** (low - band * span), 10 ** (high + 0.05 * span))
    if text:
        ax.text(0.5, 0.035, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=8, color="darkred",
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def _epoch_axis(ax, epochs):
    """Whole epochs on the x axis: each one up to ``TICKED_EPOCHS``, else integer ticks."""
    first, last = float(np.min(epochs)), float(np.max(epochs))
    if epochs.size <= TICKED_EPOCHS:
        ax.set_xticks(np.unique(epochs))
        ax.set_xlim(first - 0.5, last + 0.5)
    else:
        ax.xaxis.set_major_locator(_integer_locator())
        pad = 0.03 * (last - first)
        ax.set_xlim(first - pad, last + pad)


def _integer_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, steps=[1, 2, 5, 10])


def _below_x_label() -> float:
    """Points from an axes' bottom edge to below its x tick labels and x label."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    rc = matplotlib.rcParams

    def height(size):
        return 1.3 * FontProperties(size=size).get_size_in_points()

    return (max(rc["xtick.major.size"], 0) + rc["xtick.major.pad"] + height(rc["xtick.labelsize"])
            + rc["axes.labelpad"] + height(rc["axes.labelsize"]) + 4)


def _epoch_label(epoch) -> str:
    return str(int(epoch)) if np.isfinite(epoch) and epoch == int(epoch) else str(epoch)


def _layer_notes(symbol, values, names, epochs) -> list:
    """What the panel cannot draw of ``values`` (epochs × layers): zeros and nan/inf."""
    notes = []
    zero, bad = values == 0, ~np.isfinite(values)
    always = zero.all(axis=0)
    if always.all():
        notes.append(f"all {symbol} of layers {_layers(np.flatnonzero(always), names)} are exactly 0 at every "
                     f"epoch: no gradient reaches {'them' if len(names) > 1 else 'it'} (dead ReLUs?)")
    elif always.any():
        notes.append(f"{symbol} of {_layers(np.flatnonzero(always), names)} is exactly 0 at every epoch: "
                     f"no gradient reaches {'them' if always.sum() > 1 else 'it'} (dead ReLUs?)")
    sometimes = zero.any(axis=0) & ~always
    if sometimes.any():
        notes.append(f"{symbol} is exactly 0 at some epochs for {_layers(np.flatnonzero(sometimes), names)}")
    if bad.any():
        layers = np.flatnonzero(bad.any(axis=0))
        since = _epoch_label(epochs[np.flatnonzero(bad.any(axis=1))[0]])
        kinds = " and ".join(k for k, hit in (("nan", np.isnan(values).any()), ("inf", np.isinf(values).any())) if hit)
        notes.append(f"{symbol} is {kinds} (not finite) from epoch {since} for {_layers(layers, names)}")
    return notes


def _layers(indices, names) -> str:
    """Layer names (not broken across the note's lines), or numbers (1 = input side) when
    there are many."""
    indices = list(indices)
    names = [name.replace(" ", "\u00a0") for name in names]
    if len(indices) == len(names) and len(names) > 1:
        return f"1–{len(names)} (all)" if len(names) > 3 else ", ".join(names)
    if len(indices) <= 3:
        return ", ".join(names[i] for i in indices)
    return _ranges(np.asarray(indices) + 1)


def _ranges(numbers) -> str:
    """1, 2, 3, 5 -> "1–3, 5"."""
    parts, numbers = [], [int(n) for n in numbers]
    start = previous = numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == previous + 1:
            previous = n
            continue
        parts.append(str(start) if start == previous else f"{start}–{previous}")
        if n is not None:
            start = previous = n
    return ", ".join(parts)
