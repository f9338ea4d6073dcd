"""Figures of a trained model: confusion matrix and network diagram."""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ._backend import pyplot

__all__ = ["confusion_matrix", "network_diagram"]


#: Above this many classes the confusion matrix's cells carry no count labels.
MAX_ANNOTATED_CLASSES = 25
#: At most this many classes are named along each axis.
MAX_NAMED_CLASSES = 40
#: The confusion matrix's largest side.
MAX_CONFUSION_INCHES = 16.0


def confusion_matrix(y_true, y_pred, labels=None, title: str = "Confusion matrix"):
    """Counts of true (rows) against predicted (columns) classes, with row-normalised shading.

    Up to ``MAX_ANNOTATED_CLASSES`` classes every cell shows its count; with more, the figure
    stays at most ``MAX_CONFUSION_INCHES`` wide, cells show the shading only and every
    ``k / MAX_NAMED_CLASSES``-th class is named, so drawing stays cheap for hundreds of classes.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
    labels : list, optional
        Class order (default: sorted union of both).
    """
    from sklearn.metrics import confusion_matrix as counts_of

    plt = pyplot()
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    labels = list(np.unique(np.concatenate([y_true, y_pred]))) if labels is None else list(labels)
    counts = counts_of(y_true, y_pred, labels=labels)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    k = len(labels)
    # the figure grows with the classes up to a screen's size; beyond that the cells shrink,
    # lose their count labels and only every step-th class is named (all counts: --json / sklearn)
    size = min(max(3.8, 0.55 * k + 2.4), MAX_CONFUSION_INCHES)
    longest = min(max(len(str(label)) for label in labels), 24)
    fig, ax = plt.subplots(figsize=(size + 0.8 + 0.07 * longest, size + 0.05 * longest))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")  # auto: tight_layout sees the true box
    if k <= MAX_ANNOTATED_CLASSES:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                        color="white" if share[i, j] > 0.6 else "black", fontsize=9)
    step = max(1, int(np.ceil(k / MAX_NAMED_CLASSES)))
    names = [str(label)[:24] for label in labels[::step]]
    ax.set_xticks(range(0, k, step), names, rotation=45 if len(names) * longest > 30 else 0)
    ax.set_yticks(range(0, k, step), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = float(np.trace(counts) / max(counts.sum(), 1))
    ax.set_title(f"{title} (accuracy {accuracy:.3f})")
    fig.colorbar(image, ax=ax, label="fraction of the true class", fraction=0.046)
    fig.tight_layout()
    return fig


def network_diagram(net, title: str = "Network", max_neurons: int = 16, input_names=None, output_names=None):
    """Neurons as nodes, one column per layer; edges coloured by the sign of W (blue +,
    orange −) and as thick as |W|.

    Dense layers inside residual blocks are drawn in sequence, with each block's skip
    connection as a grey arc over it; batch normalisation, dropout and the activation are
    written under the column they act on. Layers wider than ``max_neurons`` show their
    first ``max_neurons`` units.

    Parameters
    ----------
    net : Sequential
    max_neurons : int
    input_names, output_names : sequence of str, optional
        Names written beside the input and output units (feature columns; class labels or
        target columns), one per unit.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import FancyArrowPatch

    plt = pyplot()
    dense, notes, skips = _diagram_columns(net)
    if not dense:
        raise ValueError("network_diagram needs a network with Dense layers")
    widths = [dense[0].n_in] + [layer.n_out for layer in dense]
    for names, width, which in ((input_names, widths[0], "input"), (output_names, widths[-1], "output")):
        if names is not None and len(names) != width:
            raise ValueError(f"{which}_names has {len(names)} name(s) for {width} {which} unit(s)")
    shown = [min(w, max_neurons) for w in widths]
    fig, ax = plt.subplots(figsize=(1.9 * len(widths) + 1.5, 0.42 * max(shown) + 2.3))
    positions = [np.linspace((n - 1) / 2, -(n - 1) / 2, n) for n in shown]  # unit 1 on top
    largest = max(float(np.abs(to_numpy(layer.W.value)).max()) for layer in dense) or 1.0
    for l, layer in enumerate(dense):
        W = to_numpy(layer.W.value)
        for j in range(shown[l + 1]):
            for i in range(shown[l]):
                w = W[j, i]
                ax.plot([l, l + 1], [positions[l][i], positions[l + 1][j]], color="tab:blue" if w > 0 else "tab:orange",
                        linewidth=0.2 + 3.5 * abs(w) / largest, alpha=0.75, zorder=1)
    top = max(max(p) for p in positions)
    bottom = min(min(p) for p in positions)
    for l, ys in enumerate(positions):
        ax.scatter(np.full(len(ys), l), ys, s=220, color="white", edgecolors="k", zorder=2)
        label = "input" if l == 0 else ("output" if l == len(positions) - 1 else f"hidden {l}")
        extra = f" ({shown[l]} shown)" if widths[l] > shown[l] else ""
        units = "unit" if widths[l] == 1 else "units"
        lines = [label, f"{widths[l]} {units}{extra}", *notes[l]]
        ax.text(l, bottom - 0.7, "\n".join(lines), ha="center", va="top", fontsize=8)
    for names, column, align, offset in ((input_names, 0, "right", -0.12), (output_names, len(positions) - 1, "left", 0.12)):
        for name, y in zip(names if names is not None else [], positions[column]):
            ax.text(column + offset, y, _short(str(name)), ha=align, va="center", fontsize=8)
    for start, end in skips:
        arc = FancyArrowPatch((start, top + 0.45), (end, top + 0.45), connectionstyle="arc3,rad=-0.35",
                              arrowstyle="-|>", mutation_scale=12, color="0.45", linewidth=1.4, zorder=3)
        ax.add_patch(arc)
    ax.plot([], [], color="tab:blue", label="positive weight")
    ax.plot([], [], color="tab:orange", label="negative weight")
    if skips:
        ax.plot([], [], color="0.45", label="skip connection (x + F(x))")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8)
    ax.set_title(f"{title}: edge width ∝ |W|")
    ax.set_xlim(-0.5 - (1.0 if input_names is not None else 0.0), len(widths) - 0.5 + (1.0 if output_names is not None else 0.0))
    ax.set_ylim(bottom - 2.6, top + (2.2 if skips else 1.2))
    ax.axis("off")
    fig.tight_layout()
    return fig


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _diagram_columns(net):
    """The Dense layers in drawing order, the notes under each column (activation, batch
    norm, dropout of the layer feeding it) and the residual skips as (from, to) columns."""
    from ..layers import Activation, BatchNorm, Dense, Dropout, Residual

    dense, notes, skips = [], [[]], []

    def visit(layers):
        for layer in layers:
            if isinstance(layer, Dense):
                dense.append(layer)
                notes.append([])
            elif isinstance(layer, Residual):
                start = len(dense)
                visit(layer.block)
                skips.append((start, len(dense)))
            elif isinstance(layer, BatchNorm):
                notes[-1].append("batch norm")
            elif isinstance(layer, Dropout):
                notes[-1].append(f"dropout {layer.p:g}")
            elif isinstance(layer, Activation):
                notes[-1].append(layer.name)

    visit(net.layers)
    return dense, notes, skips
