"""Figures of a trained network: decision boundaries, regression fits, parity plots (the
loss curve is in ``loss``)."""

from __future__ import annotations

import textwrap

import numpy as np

from ._backend import pyplot as _pyplot
from .gradients import _below_x_label
from ._labels import middle_ellipsis, plain, short_labels
from .models import _add_key, _key_inches, _key_lines

__all__ = ["decision_boundary", "regression_fit", "parity"]


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
