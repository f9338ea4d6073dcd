"""Figures of a trained model: confusion matrix and network diagram."""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ._backend import pyplot
from ._labels import plain, short_labels

__all__ = ["confusion_matrix", "network_diagram"]


#: Above this many classes the confusion matrix's cells carry no count labels.
MAX_ANNOTATED_CLASSES = 25
#: At most this many classes are named along each axis.
MAX_NAMED_CLASSES = 40
#: The confusion matrix's largest side.
MAX_CONFUSION_INCHES = 16.0
#: The longest class name along the confusion matrix's axes (shortened in the middle, kept distinct).
CLASS_NAME_CHARS = 24
#: Lines of the key under a figure that one numbered name takes, unless cutting it would make
#: two names read the same.
KEY_NAME_LINES = 4
#: The longest unit name beside the network diagram's input and output units.
UNIT_NAME_CHARS = 40


def confusion_matrix(y_true, y_pred, labels=None, title: str = "Confusion matrix"):
    """Counts of true (rows) against predicted (columns) classes, with row-normalised shading.

    Up to ``MAX_ANNOTATED_CLASSES`` classes every cell shows its count; with more, the figure
    stays at most ``MAX_CONFUSION_INCHES`` wide, cells show the shading only and every
    ``k / MAX_NAMED_CLASSES``-th class is named, so drawing stays cheap for hundreds of classes.
    Classes whose names read the same (1 and "1") are named by their ``repr``.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n,)
        One class label per sample (a column, shape (n, 1), is read as such); for one-hot
        rows or probabilities pass their argmax.
    labels : list, optional
        Class order (default: sorted union of both), each class once. Listing some classes
        only draws those: a pair with another class has no cell, but still counts in the
        accuracy and in its true class's total (the shading is the fraction of every sample
        of that class), and the title says how many samples have no cell.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For labels that are not one per sample, of different lengths or empty, NaN labels, an
        empty ``labels`` or one listing a class twice.
    """
    plt = pyplot()
    y_true, y_pred = _label_column("y_true", y_true), _label_column("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels and y_pred {len(y_pred)}")
    if not y_true:
        raise ValueError("confusion_matrix needs at least one sample; y_true and y_pred are empty")
    labels = _sorted_labels(y_true + y_pred) if labels is None else _given_labels(labels)
    counts, totals = _counts(y_true, y_pred, labels)
    share = counts / np.maximum(totals, 1)[:, None]
    k = len(labels)
    # the figure grows with the classes up to a screen's size; beyond that the cells shrink,
    # lose their count labels and only every step-th class is named (all counts: --json / sklearn)
    size = min(max(3.8, 0.55 * k + 2.4), MAX_CONFUSION_INCHES)
    step = max(1, int(np.ceil(k / MAX_NAMED_CLASSES)))
    # long names are shortened in the middle, still told apart ("Escherichia…ΔlacZ mutant"),
    # else numbered with a key of the full names under the figure
    texts = _label_texts(labels)
    names, numbered = short_labels(texts[::step], CLASS_NAME_CHARS)
    longest = max(len(name) for name in names)
    width = size + 0.8 + 0.07 * longest
    key = _key_lines(list(zip(names, texts[::step])), width) if numbered else []
    fig, ax = plt.subplots(figsize=(width, size + 0.05 * longest + _key_inches(key)))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")  # auto: tight_layout sees the true box
    if k <= MAX_ANNOTATED_CLASSES:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                        color="white" if share[i, j] > 0.6 else "black", fontsize=9)
    shown = [plain(name) for name in names]
    if len(names) * longest > 30:  # slanted, each name ending under its own column
        ax.set_xticks(range(0, k, step), shown, rotation=45, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(range(0, k, step), shown)
    ax.set_yticks(range(0, k, step), shown)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    n = len(y_true)
    accuracy = sum(1 for t, p in zip(y_true, y_pred) if t == p) / n
    outside = n - int(counts.sum())
    if outside:
        ax.set_title(f"{title} (accuracy {accuracy:.3f} over all {n} samples)\n"
                     f"{outside} of them have a true or predicted class not shown", fontsize=10)
    else:
        ax.set_title(f"{title} (accuracy {accuracy:.3f})")
    fig.colorbar(image, ax=ax, label="fraction of the true class", fraction=0.046)
    _add_key(fig, key)
    return fig


def _label_column(name: str, values) -> list:
    """``values`` as a list of one class label per sample, or a ValueError saying why not."""
    array = np.asarray(values, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must hold one class label per sample (shape (n,)), got shape {array.shape}; "
                         "for one-hot rows or probabilities pass their argmax")
    return array.tolist()


def _given_labels(labels) -> list:
    """The ``labels`` argument as a list, each class once."""
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty: list the classes to show, or leave it out for all of them")
    seen = {}
    for label in labels:
        if isinstance(label, (float, np.floating)) and label != label:
            raise ValueError("labels contains NaN, which is no class")
        if label in seen:
            twice = repr(label) if label == seen[label] and type(label) is type(seen[label]) else \
                f"{seen[label]!r} and {label!r} (equal values)"
            raise ValueError(f"labels lists {twice} twice; each class once")
        seen[label] = label
    return labels


def _label_texts(labels) -> list[str]:
    """How each class is named: ``str``, or ``repr`` (and then its type) where classes would
    read the same, as 1 and "1" do."""
    texts = [str(label) for label in labels]
    if len(set(texts)) == len(texts):
        return texts
    plain_values = [label.item() if isinstance(label, np.generic) else label for label in labels]
    clashing = {text for text in texts if texts.count(text) > 1}
    texts = [repr(value) if text in clashing else text for text, value in zip(texts, plain_values)]
    clashing = {text for text in texts if texts.count(text) > 1}
    return [f"{text} ({type(value).__name__})" if text in clashing else text
            for text, value in zip(texts, plain_values)]


def _sorted_labels(values) -> list:
    """The distinct labels, sorted (as text where they cannot be compared: 3 and "dog")."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def _counts(y_true, y_pred, labels) -> tuple[np.ndarray, np.ndarray]:
    """counts[i, j]: samples of class ``labels[i]`` predicted as ``labels[j]``, for labels of
    any kind (numbers, floats such as 0.5, text), compared by value; and totals[i], every
    sample of class ``labels[i]``, whatever it was predicted as. A pair with a label that
    ``labels`` does not list has no cell (``labels`` may select some classes, as in
    scikit-learn). A NaN label is refused: it equals no class, not even itself."""
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if any(isinstance(v, (float, np.floating)) and v != v for v in values):
            raise ValueError(f"{name} contains NaN, which is no class")
    position = {label: i for i, label in enumerate(labels)}
    pairs = [(position[t], position[p]) for t, p in zip(y_true, y_pred) if t in position and p in position]
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    if pairs:
        rows, cols = zip(*pairs)
        np.add.at(counts, (list(rows), list(cols)), 1)
    totals = np.zeros(len(labels), dtype=np.int64)
    np.add.at(totals, [position[t] for t in y_true if t in position], 1)
    return counts, totals


def _key_lines(key, inches: float) -> list[str]:
    """The key of numbered names (``[(number and short name, full name)]``) as lines that
    fit ``inches``: each full name wrapped on about ``KEY_NAME_LINES`` lines at most, longer
    ones cut in the middle where that keeps them all apart, else wrapped in full."""
    import textwrap

    chars = max(20, int(10 * inches))  # 7-point text, even of wide letters
    numbers = [short.split(" ", 1)[0] for short, _ in key]
    fulls = [str(full) for _, full in key]
    room = chars - max(map(len, numbers), default=0) - 1
    cut, apart_only_numbered = short_labels(fulls, KEY_NAME_LINES * room)
    lines = []
    for number, text in zip(numbers, fulls if apart_only_numbered else cut):
        wrapped = textwrap.wrap(text, room, break_long_words=True) or [""]
        lines += [f"{number} {wrapped[0]}", *(" " * (len(number) + 1) + rest for rest in wrapped[1:])]
    return lines


def _key_inches(lines) -> float:
    """Height of the key under a figure."""
    return 0.13 * len(lines) + 0.12 if lines else 0.0


def _add_key(fig, lines) -> None:
    """Lay out the figure, with the key lines (``_key_lines``) at its bottom."""
    if not lines:
        fig.tight_layout()
        return
    fig.text(0.02, 0.01, plain("\n".join(lines)), fontsize=7, va="bottom", ha="left")
    fig.tight_layout(rect=(0, _key_inches(lines) / fig.get_figheight(), 1, 1))


def network_diagram(net, title: str = "Network", max_neurons: int = 16, input_names=None, output_names=None):
    """Neurons as nodes, one column per layer; edges coloured by the sign of W (blue +,
    orange −, a grey dotted line for exactly 0) and wider the larger |W|.

    An edge is ``EDGE_WIDTH[0] + EDGE_WIDTH[1] * |w| / m`` points wide, ``m`` the largest
    finite |W| of the network; the legend has a key of two widths. A nan or inf weight is a
    red dashed edge, and the legend counts them.

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
    # names beside the shown units: shortened but told apart (else numbered, with a key below)
    named = {column: short_labels(list(names)[: shown[column]], UNIT_NAME_CHARS)
             for names, column in ((input_names, 0), (output_names, -1)) if names is not None}
    margins = {column: max(1.0, 0.15 + 0.036 * max(map(len, named[column][0]))) if column in named else 0.0
               for column in (0, -1)}  # x units beside the first and last column, for the names
    width = 1.9 * len(widths) + 1.5 + 1.9 * sum(max(0.0, margin - 1.0) for margin in margins.values())
    key = _key_lines([(name, full) for column, names in ((0, input_names), (-1, output_names))
                      if column in named and named[column][1] for name, full in zip(named[column][0], names)], width)
    fig, ax = plt.subplots(figsize=(width, 0.42 * max(shown) + 2.3 + _key_inches(key)))
    positions = [np.linspace((n - 1) / 2, -(n - 1) / 2, n) for n in shown]  # unit 1 on top
    weights = [np.asarray(to_numpy(layer.W.value), dtype=float) for layer in dense]
    finite = np.concatenate([np.abs(W[np.isfinite(W)]) for W in weights])
    largest = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    kinds = set()
    for l, W in enumerate(weights):
        for j in range(shown[l + 1]):
            for i in range(shown[l]):
                kind = _weight_kind(W[j, i])
                kinds.add(kind)
                thickness = EDGE_WIDTH[0] + EDGE_WIDTH[1] * abs(W[j, i]) / largest if kind in ("positive", "negative") \
                    else _EDGE_STYLES[kind]["linewidth"]
                ax.plot([l, l + 1], [positions[l][i], positions[l + 1][j]], alpha=0.75, zorder=1,
                        **(_EDGE_STYLES[kind] | {"linewidth": thickness}))
    top = max(max(p) for p in positions)
    bottom = min(min(p) for p in positions)
    for l, ys in enumerate(positions):
        ax.scatter(np.full(len(ys), l), ys, s=220, color="white", edgecolors="k", zorder=2)
        label = "input" if l == 0 else ("output" if l == len(positions) - 1 else f"hidden {l}")
        extra = f" ({shown[l]} shown)" if widths[l] > shown[l] else ""
        units = "unit" if widths[l] == 1 else "units"
        lines = [label, f"{widths[l]} {units}{extra}", *notes[l]]
        ax.text(l, bottom - 0.7, "\n".join(lines), ha="center", va="top", fontsize=8)
    for column, align, offset in ((0, "right", -0.12), (-1, "left", 0.12)):
        for name, y in zip(named[column][0] if column in named else [], positions[column]):
            ax.text(len(positions) - 1 + offset if column == -1 else offset, y, plain(name), ha=align, va="center",
                    fontsize=8)
    for start, end in skips:
        arc = FancyArrowPatch((start, top + 0.45), (end, top + 0.45), connectionstyle="arc3,rad=-0.35",
                              arrowstyle="-|>", mutation_scale=12, color="0.45", linewidth=1.4, zorder=3)
        ax.add_patch(arc)
    nonfinite = sum(int((~np.isfinite(W)).sum()) for W in weights)
    for kind in ("positive", "negative", "zero", "nonfinite"):
        if kind in ("positive", "negative") or kind in kinds or (kind == "nonfinite" and nonfinite):
            label = _EDGE_LABELS[kind] + (f" ({nonfinite} in the network)" if kind == "nonfinite" else "")
            ax.plot([], [], label=label, **_EDGE_STYLES[kind])
    if skips:
        ax.plot([], [], color="0.45", label="skip connection (x + F(x))")
    for fraction in (1.0, 0.5):  # the width key: edges are as wide as |W| says, from a thin floor
        ax.plot([], [], color="0.35", linewidth=EDGE_WIDTH[0] + EDGE_WIDTH[1] * fraction,
                label=f"|W| = {fraction * largest:.3g}")
    labels = ax.get_legend_handles_labels()[1]
    columns = max(1, min(len(labels), int(0.95 * width / (0.45 + 0.06 * max(map(len, labels))))))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=columns, frameon=False, fontsize=8)
    ax.set_title(f"{title}: edge width grows with |W|")
    ax.set_xlim(-0.5 - margins[0], len(widths) - 0.5 + margins[-1])
    ax.set_ylim(bottom - 2.6, top + (2.2 if skips else 1.2) + 0.5 * (-(-len(labels) // columns) - 1))
    ax.axis("off")
    _add_key(fig, key)
    return fig


#: An edge's line width in points: ``EDGE_WIDTH[0] + EDGE_WIDTH[1] * |w| / (largest finite |W|)``.
EDGE_WIDTH = (0.2, 3.5)
_EDGE_STYLES = {"positive": {"color": "tab:blue"}, "negative": {"color": "tab:orange"},
                "zero": {"color": "0.55", "linestyle": ":", "linewidth": 0.9},
                "nonfinite": {"color": "tab:red", "linestyle": "--", "linewidth": 1.6}}
_EDGE_LABELS = {"positive": "positive weight", "negative": "negative weight", "zero": "weight exactly 0",
                "nonfinite": "nan or inf weight"}


def _weight_kind(w: float) -> str:
    if not np.isfinite(w):
        return "nonfinite"
    return "positive" if w > 0 else "negative" if w < 0 else "zero"


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
