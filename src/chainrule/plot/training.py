"""Figures of a training run: loss curves, decision boundaries, regression fits."""

from __future__ import annotations

import textwrap

import numpy as np

from ._backend import pyplot as _pyplot
from .gradients import _below_x_label
from ._labels import middle_ellipsis, plain, short_labels
from .models import _add_key, _key_inches, _key_lines

__all__ = ["loss_curve", "decision_boundary", "regression_fit", "parity"]


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


def decision_boundary(net, X, y, title: str = "Decision boundary", resolution: int = 300, ax=None,
                      class_names=None, extent=None):
    """Predicted class regions over the plane of a 2-feature classifier, with the points.

    Every class has one colour, used for its region and its points alike, whatever classes
    the points or the predictions happen to include. A one-output binary network shows its
    output instead of hard regions: P(class 1) for binary cross-entropy, the margin for the
    hinge loss (class 1 where it is > 0), the raw output otherwise (class 1 above 0.5), with
    the decision line drawn; the colour bar has an arrow past an end only where the output
    goes past it (the raw output can). The plane spans the data with a margin of a tenth of each
    feature's own range (in its own units, so features of size 1e-3 or 1e6 are framed alike);
    the legend sits under the axes, off the data.

    Parameters
    ----------
    net : Sequential
        A trained network with 2 inputs.
    X : ndarray, shape (n, 2)
    y : ndarray, shape (n,)
        Class indices of the points, 0..K-1 as ``net.predict_classes`` gives them (-1/+1
        for the hinge loss is read as 0/1).
    class_names : sequence of str, optional
        Legend entries: one per class the network tells apart (K), or one per class present
        in ``y`` in sorted order (default: "class <index>"); long ones are shortened in the
        middle, kept distinct, else numbered with a key of the full names under the figure
        (written whole in the legend when ``ax`` is given).
    extent : ((x_min, x_max), (y_min, y_max)), optional
        The area drawn and evaluated (default: the data's range with the margin above); the
        legend counts points outside it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.lines import Line2D

    plt = _pyplot()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2 input features, got X of shape {X.shape}")
    index = _class_indices(y, X.shape[0])
    single = net.n_outputs == 1
    if single and index.max() > 1:
        raise ValueError(f"a one-output network tells 2 classes apart, but y has class index {int(index.max())}")
    k = 2 if single else max(net.n_outputs, int(index.max()) + 1)
    lo, hi = _padded_range(X) if extent is None else _extent_bounds(extent)
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    colors = _class_colors(k)
    cmap, norm = ListedColormap(colors), BoundaryNorm(np.arange(k + 1) - 0.5, k)
    own = ax is None
    fig, ax = plt.subplots(figsize=(6.4, 5.0 + 0.22 * _legend_rows(k))) if own else (ax.figure, ax)
    names = _class_names(class_names, k, index)
    if single:
        value, levels, threshold, label = _binary_output(net, grid, plain(middle_ellipsis(names[1], 48)))
        value = value.reshape(xx.shape)
        extend = _extend(value, levels)
        filled = ax.contourf(xx, yy, value, levels=levels, cmap="RdYlBu", alpha=0.75, extend=extend)
        if np.nanmin(value) < threshold < np.nanmax(value):
            ax.contour(xx, yy, value, levels=[threshold], colors="k", linewidths=1.2)
        fig.colorbar(filled, ax=ax, label=label)
        shown = np.unique(np.concatenate([index, (value.ravel() >= threshold).astype(int)]))
    else:
        regions = np.asarray(net.predict_classes(grid)).reshape(xx.shape)
        ax.contourf(xx, yy, regions, levels=np.arange(k + 1) - 0.5, cmap=cmap, norm=norm, alpha=0.75)
        shown = np.unique(np.concatenate([index, regions.ravel()]))
    ax.scatter(X[:, 0], X[:, 1], c=index, cmap=cmap, norm=norm, s=28, edgecolors="k", linewidths=0.6)
    shown = [c for c in shown if 0 <= c < k]
    legend_names, numbered = short_labels([names[c] for c in shown], LEGEND_NAME_CHARS)
    key = []
    if numbered and own:  # a key of the full names under the figure
        key = _key_lines(list(zip(legend_names, [names[c] for c in shown])), fig.get_figwidth())
        fig.set_figheight(fig.get_figheight() + _key_inches(key))
    elif numbered:  # in the caller's figure: the full names in the legend, wrapped
        legend_names = [textwrap.fill(names[c], LEGEND_NAME_CHARS) for c in shown]
    columns = max(1, min(len(legend_names), 64 // (max(len(line) for name in legend_names
                                                       for line in name.splitlines()) + 6)))
    # one entry per class (in its own colour, with the points' black edge so a pale class stays
    # visible): the classes of the points and of the regions
    handles = [Line2D([], [], linestyle="", marker="o", markersize=6, markerfacecolor=colors[c],
                      markeredgecolor="k", markeredgewidth=0.6) for c in shown]
    texts = [plain(name) for name in legend_names]
    outside = int((~np.all((X >= lo) & (X <= hi), axis=1)).sum())
    if outside:  # an extent narrower than the data
        handles.append(Line2D([], [], linestyle=""))
        texts.append(f"{outside} point{'s' if outside > 1 else ''} outside the area drawn")
    # under the axes, below the x label (a fixed distance in font sizes), never over the data
    ax.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=3.2,
              ncol=columns, frameon=False)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    # short tick labels for small or large features (-0.0015 ... side by side ran together):
    # a common power of ten beside the axis once the ticks are all below 0.1 or reach 1000
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3), useMathText=True)
    ax.set_title(title)
    _add_key(fig, key)
    return fig


def _class_indices(y, n: int) -> np.ndarray:
    """``y`` as integer class indices 0..K-1 (hinge's -1/+1 as 0/1), or a ValueError that
    says what is expected."""
    y = np.asarray(y).ravel()
    if y.dtype == object:  # numbers held as objects (a list of Python ints, a pandas object column)
        y = np.asarray(y.tolist())
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} labels for {n} points")
    numeric = np.issubdtype(y.dtype, np.number) or y.dtype == bool
    if not numeric or not np.all(np.isfinite(y.astype(float))) or np.any(y.astype(float) != np.round(y.astype(float))):
        raise ValueError("decision_boundary takes class indices 0..K-1 as y (as net.predict_classes gives "
                         f"them), got values like {y[0]!r}; map labels to indices and pass the labels as class_names")
    index = y.astype(np.int64)
    if index.min() == -1 and set(np.unique(index).tolist()) <= {-1, 1}:
        index = (index > 0).astype(np.int64)  # the hinge loss's -1/+1
    if index.min() < 0:
        raise ValueError(f"class indices must be 0 or more, got {int(index.min())}")
    return index


def _extend(value, levels) -> str:
    """The colour bar's arrows: past an end only where the plane has outputs past it (a raw
    output can leave 0..1; a probability or the hinge margin, framed by its reach, cannot)."""
    finite = value[np.isfinite(value)]
    below = bool(finite.size) and finite.min() < levels[0]
    above = bool(finite.size) and finite.max() > levels[-1]
    return {(False, False): "neither", (True, False): "min", (False, True): "max"}.get((below, above), "both")


def _binary_output(net, grid, positive: str):
    """What a one-output binary network shows over the plane: (value, contour levels, the
    decision threshold, the colour bar's label naming the ``positive`` class)."""
    value = np.asarray(net.predict(grid), dtype=float)[:, 0]
    name = getattr(net.loss, "name", None)
    if name == "hinge":
        reach = float(np.nanmax(np.abs(value))) if np.isfinite(value).any() else 1.0
        reach = max(1.0, reach if np.isfinite(reach) else 1.0)
        return value, np.linspace(-reach, reach, 11), 0.0, f"margin f ({positive} where f > 0)"
    if name == "bce":
        return value, np.linspace(0, 1, 11), 0.5, f"P({positive})"
    return value, np.linspace(0, 1, 11), 0.5, f"network output ({positive} above 0.5)"


def _class_colors(k: int) -> list:
    """One colour per class: the two ends of the probability map for two classes (so the
    points match P(class 1)'s shading), a qualitative palette up to 20, then evenly spaced
    hues."""
    from matplotlib import colormaps

    if k <= 2:
        ends = colormaps["RdYlBu"]
        return [ends(0.0), ends(1.0)][:max(k, 2)]
    if k <= 10:
        return [colormaps["tab10"](i) for i in range(k)]
    if k <= 20:
        return [colormaps["tab20"](i) for i in range(k)]
    return [colormaps["turbo"](i / (k - 1)) for i in range(k)]


def _class_names(class_names, k: int, index) -> list:
    """A name for every class index 0..k-1."""
    present = np.unique(index)
    names = [f"class {c}" for c in range(k)]
    if class_names is None:
        return names
    class_names = [str(name) for name in class_names]
    if len(class_names) == k:
        return class_names
    if len(class_names) == len(present):
        for c, name in zip(present, class_names):
            names[c] = name
        return names
    raise ValueError(f"class_names has {len(class_names)} name(s) for {k} class(es) "
                     f"({len(present)} of them in y)")


def _legend_rows(k: int) -> int:
    return -(-k // 4)


#: The longest class name in the decision boundary's legend.
LEGEND_NAME_CHARS = 60


def _extent_bounds(extent):
    """``((x_min, x_max), (y_min, y_max))`` as (low, high) arrays, or a ValueError."""
    try:
        bounds = np.asarray(extent, dtype=float)
    except (TypeError, ValueError):
        bounds = None
    if bounds is None or bounds.shape != (2, 2) or not np.isfinite(bounds).all() or \
            not (bounds[:, 0] < bounds[:, 1]).all():
        raise ValueError(f"extent must be ((x_min, x_max), (y_min, y_max)) of finite numbers, each min below its "
                         f"max; got {extent!r}")
    return bounds[:, 0], bounds[:, 1]


def _padded_range(X):
    """The plotted range of each column: its data's range with a tenth of it either side
    (of the value's size, or 1, when the column is constant)."""
    low, high = X.min(axis=0), X.max(axis=0)
    span = high - low
    span = np.where(span > 0, span, np.where(np.abs(low) > 0, np.abs(low), 1.0))
    return low - 0.1 * span, high + 0.1 * span


def regression_fit(net, X, y, title: str = "Fit", truth=None):
    """Predictions of a 1-input regression network against the data (and a true curve).

    Data points with a non-finite x or y, and grid points where the network's prediction or
    the true curve is not finite, cannot be drawn: the legend says how many.

    Parameters
    ----------
    X : ndarray, shape (n, 1)
    y : ndarray, shape (n,) or (n, 1)
    truth : callable, optional
        The true function, drawn as a line.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For a network or data of more than one input or output, a ``y`` of another length
        than ``X``, or no finite x to span.
    """
    plt = _pyplot()
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[1] != 1 or getattr(net, "n_inputs", 1) != 1:
        raise ValueError(f"regression_fit draws a network of 1 input against X of shape (n, 1); got X of shape "
                         f"{X.shape} for a network of {getattr(net, 'n_inputs', '?')} inputs (parity() draws any)")
    y = np.asarray(y, dtype=float)
    columns = y.shape[1] if y.ndim == 2 else 1
    if getattr(net, "n_outputs", 1) != 1 or columns != 1 or y.ndim > 2:
        raise ValueError(f"regression_fit draws one output; the network has {getattr(net, 'n_outputs', '?')} and y "
                         f"has shape {y.shape} (parity() draws one output at a time)")
    y = y.reshape(-1)
    if y.size != X.shape[0]:
        raise ValueError(f"y has {y.size} values for the {X.shape[0]} rows of X")
    x = X[:, 0]
    finite = np.isfinite(x) & np.isfinite(y)
    if not np.isfinite(x).any():
        raise ValueError("regression_fit has no finite x to draw the network over")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    low, high = x[np.isfinite(x)].min(), x[np.isfinite(x)].max()
    if low == high:  # a constant x: the network's value there, over a small span around it
        low, high = low - max(abs(low), 1.0) * 0.1, high + max(abs(high), 1.0) * 0.1
    grid = np.linspace(low, high, 400)
    hidden = int((~finite).sum())
    ax.scatter(x[finite], y[finite], s=14, color="tab:gray",
               label="data" + (f" ({hidden} with a non-finite x or y not shown)" if hidden else ""))
    if truth is not None:
        true = np.asarray(truth(grid), dtype=float).reshape(-1)
        ax.plot(grid, true, color="k", linestyle="--", label="truth" + _not_finite_note(true))
    predicted = np.asarray(net.predict(grid.reshape(-1, 1)), dtype=float)[:, 0]
    ax.plot(grid, predicted, color="tab:red", label="network" + _not_finite_note(predicted))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def _not_finite_note(values) -> str:
    """" (not finite at 3 of 400 points, not drawn)", or "" when all are finite."""
    bad = int((~np.isfinite(values)).sum())
    return f" (not finite at {bad} of {values.size} points, not drawn)" if bad else ""


def parity(y_true, y_pred, title: str = "Parity", quantity: str = "y", label: str = "held-out samples"):
    """Predicted against true values with the identity line (any number of inputs).

    Pairs with a non-finite value are not drawn; the legend, under the axes, says how many.

    Parameters
    ----------
    y_true, y_pred : ndarray, shape (n,)
    quantity : str
        Name of the predicted quantity, used in the axis labels (shown as written: a ``$``
        does not start maths).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values and y_pred {y_pred.size}")
    finite = np.isfinite(y_true) & np.isfinite(y_pred)
    if not finite.any():
        raise ValueError("parity has no pair of finite values to draw")
    missing = int((~finite).sum())
    if missing:  # said in the legend, not dropped silently
        label = f"{label} ({missing} with a non-finite value not shown)"
    y_true, y_pred = y_true[finite], y_pred[finite]
    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    ax.scatter(y_true, y_pred, s=10, alpha=0.6, color="tab:blue", label=label)
    low, high = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    span = high - low if high > low else max(abs(low), 1.0)  # all equal: a span around the value
    lims = [low - 0.03 * span, high + 0.03 * span] if high > low else [low - 0.5 * span, high + 0.5 * span]
    ax.plot(lims, lims, "k--", linewidth=1, label="perfect prediction")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_xlabel(f"true {plain(quantity)}")
    ax.set_ylabel(f"predicted {plain(quantity)}")
    ax.set_title(title)
    # under the axes, below the x label, never over the points
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=_below_x_label() / 9, fontsize=9,
              ncol=2 if len(label) <= 30 else 1, frameon=False)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
