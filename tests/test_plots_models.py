"""Figures of a trained model: the confusion matrix and the network diagram say what they show."""

import matplotlib.colors as mcolors
import numpy as np
import pytest

import chainrule as cr
from chainrule import plot


def _edges(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) == 2]


def test_confusion_matrix_counts_labels_and_accuracy(tmp_path):
    truth = ["cat", "cat", "dog", "dog", "dog", "owl"]
    predicted = ["cat", "dog", "dog", "dog", "owl", "owl"]
    fig = plot.confusion_matrix(truth, predicted, title="Pets")
    ax = fig.axes[0]
    assert ax.get_title() == "Pets (accuracy 0.667)"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    cells = sorted((round(t.get_position()[1]), round(t.get_position()[0]), t.get_text()) for t in ax.texts)
    counts = np.array([int(text) for _, _, text in cells]).reshape(3, 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 1], [0, 0, 1]])
    assert fig.axes[1].get_ylabel() == "fraction of the true class"
    fig.savefig(tmp_path / "cm.png", dpi=60)
    assert (tmp_path / "cm.png").stat().st_size > 5_000


def test_confusion_matrix_keeps_a_given_label_order():
    fig = plot.confusion_matrix([2, 0, 1], [2, 0, 0], labels=[2, 1, 0])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "1", "0"]


def test_network_diagram_edges_follow_the_weights():
    net = cr.Sequential([cr.Dense.from_arrays(np.array([[2.0, -1.0], [0.5, 0.0], [-4.0, 1.0]])), cr.Tanh(),
                         cr.Dense.from_arrays(np.array([[1.0, -1.0, 0.25]]))])
    fig = plot.network_diagram(net, title="Tiny")
    ax = fig.axes[0]
    edges = _edges(ax)
    assert len(edges) == 2 * 3 + 3 * 1
    assert ax.get_title() == "Tiny: edge width grows with |W|"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["positive weight", "negative weight", "weight exactly 0", "|W| = 4", "|W| = 2"]
    by_endpoints = {(tuple(e.get_xdata()), tuple(np.round(e.get_ydata(), 6))): e for e in edges}
    # first layer, unit 1 on top: input i at y = (0.5 - i), hidden j at y = (1 - j)
    strongest = by_endpoints[((0, 1), (0.5, -1.0))]  # W[2, 0] = -4: the largest |W|, negative
    assert mcolors.to_hex(strongest.get_color()) == mcolors.to_hex("tab:orange")
    positive = by_endpoints[((0, 1), (0.5, 1.0))]  # W[0, 0] = 2
    assert mcolors.to_hex(positive.get_color()) == mcolors.to_hex("tab:blue")
    assert strongest.get_linewidth() == pytest.approx(0.2 + 3.5)
    assert positive.get_linewidth() == pytest.approx(0.2 + 3.5 * 2 / 4)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "input\n2 units" in texts and "hidden 1\n3 units\ntanh" in texts and "output\n1 unit" in texts


def test_network_diagram_draws_deep_network_parts(tmp_path):
    net = cr.mlp([4, 8, 8, 8, 3], "relu", batch_norm=True, dropout=0.1, residual=True, rng=0)
    fig = plot.network_diagram(net)
    ax = fig.axes[0]
    assert len(_edges(ax)) == 4 * 8 + 8 * 8 + 8 * 8 + 8 * 3  # the Dense layers inside the residual blocks too
    assert len(ax.patches) == 2  # one skip-connection arc per residual block
    assert "skip connection (x + F(x))" in [t.get_text() for t in ax.get_legend().get_texts()]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "batch norm\nrelu\ndropout 0.1" in texts
    fig.savefig(tmp_path / "deep.png", dpi=60)
    assert (tmp_path / "deep.png").stat().st_size > 10_000


def test_network_diagram_truncates_wide_layers_and_needs_dense():
    fig = plot.network_diagram(cr.mlp([64, 32, 10], rng=0), max_neurons=6)
    ax = fig.axes[0]
    assert len(_edges(ax)) == 6 * 6 + 6 * 6
    assert "64 units (6 shown)" in " ".join(t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="needs a network with Dense layers"):
        plot.network_diagram(cr.Sequential([cr.ReLU()]))


def test_network_diagram_names_the_input_and_output_units():
    import chainrule as cr
    from chainrule import plot

    net = cr.mlp([3, 4, 2], rng=0)
    fig = plot.network_diagram(net, input_names=["age", "dose", "a_rather_long_column_name_here_and_longer_still"],
                               output_names=["healthy", "ill"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"age", "dose", "healthy", "ill"} <= set(texts)
    assert "a_rather_long_column…and_longer_still" in texts  # 40 characters at most, cut in the middle
    # the first unit is drawn on top, next to its name
    age = next(t for t in fig.axes[0].texts if t.get_text() == "age")
    dose = next(t for t in fig.axes[0].texts if t.get_text() == "dose")
    assert age.get_position()[1] > dose.get_position()[1]
    with pytest.raises(ValueError, match="output_names has 1 name.* for 2 output unit"):
        plot.network_diagram(net, output_names=["only one"])


STRAINS = [f"Escherichia coli K-12 MG1655 {kind}" for kind in ("wild type", "ΔaraC mutant", "ΔlacZ mutant")]


def test_short_labels_keep_labels_with_a_long_common_prefix_apart():
    from chainrule.plot._labels import short_labels

    names, numbered = short_labels(STRAINS, 24)
    assert names == ["Escherichia…wild type", "Escherichia…ΔaraC mutant", "Escherichia…ΔlacZ mutant"]
    assert not numbered
    assert short_labels(["age", "dose"], 24) == (["age", "dose"], False)  # short ones stay as they are
    names, numbered = short_labels(STRAINS, 14)  # no room for both ends: the part that differs
    assert len(set(names)) == 3 and all(len(name) <= 14 for name in names) and not numbered
    assert any("araC" in name for name in names) and any("lacZ" in name for name in names)
    m = "m" * 30  # differing twice, far inside: numbered (the caller adds a key)
    names, numbered = short_labels([m + x + m + y + m for x, y in ("aa", "ab", "ba")], 12)
    assert numbered and [name[:4] for name in names] == ["[1] ", "[2] ", "[3] "]
    assert all(len(name) <= 12 for name in names)


def test_confusion_matrix_tells_classes_with_a_shared_prefix_apart(tmp_path):
    truth = [STRAINS[i % 3] for i in range(30)]
    fig = plot.confusion_matrix(truth, truth, labels=STRAINS)
    ax = fig.axes[0]
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        assert [t.get_text() for t in ticks] == ["Escherichia…wild type", "Escherichia…ΔaraC mutant",
                                                 "Escherichia…ΔlacZ mutant"]
    fig.savefig(tmp_path / "cm.png", dpi=60)


def test_confusion_matrix_numbers_labels_it_cannot_shorten_apart_and_keys_them():
    m = "m" * 30
    labels = [m + x + m + y + m for x, y in ("aa", "ab", "ba")]
    fig = plot.confusion_matrix(labels, labels, labels=labels)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert [t[:3] for t in ticks] == ["[1]", "[2]", "[3]"]
    key = [t.get_text() for t in fig.texts]
    assert len(key) == 1 and key[0].startswith("[1] mmm")
    numbered = {}  # the key has each full name, wrapped under its number
    for line in key[0].splitlines():
        if line.startswith("["):
            number, _, line = line.partition(" ")
        numbered[number] = numbered.get(number, "") + line.strip()
    assert numbered == {f"[{i}]": label for i, label in enumerate(labels, start=1)}


def test_network_diagram_tells_output_classes_with_a_shared_prefix_apart():
    net = cr.mlp([2, 4, 3], rng=0)
    fig = plot.network_diagram(net, input_names=["a", "b"], output_names=[f"strain = {s}" for s in STRAINS])
    texts = [t.get_text() for t in fig.axes[0].texts]
    for kind in ("wild type", "ΔaraC mutant", "ΔlacZ mutant"):
        assert f"strain = Escherichia…MG1655 {kind}" in texts
