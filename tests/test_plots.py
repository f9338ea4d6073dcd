"""Figures: each has a title, labelled axes (or a legend) and renders to a real PNG."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import plot
from chainrule.datasets import moons


@pytest.fixture(scope="module")
def trained():
    X_train, X_test, y_train, y_test = moons()
    net = cr.mlp([2, 6, 1], "tanh", rng=0)
    history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.Adam(0.02), epochs=150,
                      validation_data=(X_test, y_test), verbose=0)
    return net, history, X_train, y_train, X_test, y_test


def _check(fig, tmp_path, name):
    ax = fig.axes[0]
    assert ax.get_title()
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000
    return ax


def test_training_figures(trained, tmp_path):
    net, history, X, y, X_test, y_test = trained
    ax = _check(plot.loss_curve(history), tmp_path, "loss.png")
    assert ax.get_xlabel() == "epoch" and len(ax.get_lines()) == 2 and ax.get_legend() is not None
    ax = _check(plot.decision_boundary(net, X, y), tmp_path, "boundary.png")
    assert ax.get_xlabel() and ax.get_ylabel()
    reg = cr.mlp([1, 8, 1], "tanh", rng=0)
    Xs, ys = cr.datasets.sine(50)
    reg.fit(Xs, ys, loss="mse", optimizer="adam", epochs=20, verbose=0)
    _check(plot.regression_fit(reg, Xs, ys, truth=np.sin), tmp_path, "fit.png")
    _check(plot.parity(ys[:, 0], reg.predict(Xs)[:, 0]), tmp_path, "parity.png")


def test_model_figures(trained, tmp_path):
    net, _, _, _, X_test, y_test = trained
    ax = _check(plot.confusion_matrix(y_test, net.predict_classes(X_test)), tmp_path, "cm.png")
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "accuracy" in ax.get_title()
    ax = _check(plot.network_diagram(net), tmp_path, "net.png")
    n_edges = 2 * 6 + 6 * 1
    assert len([line for line in ax.get_lines() if len(line.get_xdata()) == 2]) == n_edges
    with pytest.raises(ValueError, match="2 input features"):
        plot.decision_boundary(cr.mlp([3, 1]), np.zeros((4, 3)), np.zeros(4))


class _Rescaled:
    """The trained network, taking features in other units (x * scale + shift)."""

    def __init__(self, net, scale, shift):
        self.net, self.scale, self.shift = net, np.asarray(scale), np.asarray(shift)
        self.loss, self.n_outputs, self.n_inputs = net.loss, net.n_outputs, net.n_inputs

    def predict(self, X):
        return self.net.predict((np.asarray(X) - self.shift) / self.scale)

    def predict_classes(self, X):
        return self.net.predict_classes((np.asarray(X) - self.shift) / self.scale)


@pytest.mark.parametrize("scale, shift", [((1e-3, 1e-3), (5e-3, 2e-3)), ((2e5, 1e-4), (1e6, 0.0))])
def test_decision_boundary_frames_the_data_in_its_own_units(trained, scale, shift):
    """Concentrations of 1e-3 mol/L were drawn on a ±0.5 plane, every point on one dot."""
    net, _, X, y, _, _ = trained
    X_units = X * np.array(scale) + np.array(shift)
    ax = plot.decision_boundary(_Rescaled(net, scale, shift), X_units, y).axes[0]
    for (low, high), column in zip((ax.get_xlim(), ax.get_ylim()), X_units.T):
        span = column.max() - column.min()
        assert column.min() - 0.15 * span <= low < column.min() and column.max() < high <= column.max() + 0.15 * span


@pytest.mark.parametrize("scale, shift", [((1e-3, 1e-3), (5e-3, 2e-3)), ((2e5, 1e-4), (1e6, 0.0))])
def test_decision_boundary_tick_labels_stay_short_in_small_and_large_units(trained, scale, shift):
    """Ticks of -0.0015 ... 0.0025 ran together: a power of ten goes beside the axis instead."""
    net, _, X, y, _, _ = trained
    fig = plot.decision_boundary(_Rescaled(net, scale, shift), X * np.array(scale) + np.array(shift), y)
    fig.canvas.draw()
    ax = fig.axes[0]
    for axis in (ax.xaxis, ax.yaxis):
        labels = [t.get_text().replace("$\\mathdefault{", "").replace("}$", "") for t in axis.get_ticklabels()
                  if t.get_text()]
        assert labels and max(len(text) for text in labels) <= 5, labels


def test_decision_boundary_legend_is_off_the_data_with_visible_markers(trained, tmp_path):
    net, _, X, y, _, _ = trained
    names = ["organism = Pseudomonas aeruginosa (clinical isolate)", "organism = Klebsiella pneumoniae"]
    fig = plot.decision_boundary(net, X, y, class_names=names)
    fig.savefig(tmp_path / "b.png", dpi=60)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == names
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box, axes_box = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y1 < axes_box.y0  # under the axes
    label_box = ax.xaxis.label.get_window_extent(renderer)
    assert box.y1 <= label_box.y0  # and under the x label
    assert all(handle.get_markeredgecolor() == "k" for handle in legend.legend_handles)
    with pytest.raises(ValueError, match="class_names has 1 name"):
        plot.decision_boundary(net, X, y, class_names=["one"])


def test_decision_boundary_legend_has_one_entry_per_class_in_its_colour():
    """With 15 classes matplotlib's legend_elements gave 10 entries, labelled with the first
    10 class names (colours mislabelled), and warned about the mismatch."""
    import warnings

    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 2)), np.repeat(np.arange(15), 20)
    net = cr.mlp([2, 8, 15], rng=0)
    net.fit(X, y, loss="cross_entropy", epochs=2, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot.decision_boundary(net, X, y, class_names=[f"kind {i}" for i in range(15)])
    ax = fig.axes[0]
    legend, scatter = ax.get_legend(), ax.collections[-1]
    assert [t.get_text() for t in legend.get_texts()] == [f"kind {i}" for i in range(15)]
    fig.canvas.draw()  # maps the scatter's values to colours
    point_colour = {int(label): tuple(colour) for label, colour in zip(y, scatter.get_facecolors())}
    for label, handle in enumerate(legend.legend_handles):
        np.testing.assert_allclose(to_rgba(handle.get_markerfacecolor()), point_colour[label], atol=1e-6)


def test_loss_curve_of_few_epochs_marks_points_on_whole_epochs(tmp_path):
    from chainrule.train import History

    ax = plot.loss_curve(History(loss=[1.08], loss_name="cross_entropy")).axes[0]
    (line,) = ax.get_lines()
    assert line.get_marker() == "o"  # one epoch is a visible point, not an empty one-point line
    assert list(ax.get_xticks()) == [1]
    ax = plot.loss_curve(History(loss=list(np.linspace(1, 0.5, 7)), val_loss=list(np.linspace(1.1, 0.6, 7)))).axes[0]
    assert list(ax.get_xticks()) == list(range(1, 8)) and all(line.get_marker() == "o" for line in ax.get_lines())
    ax = plot.loss_curve(History(loss=list(np.linspace(1, 0.5, 200)))).axes[0]
    ax.figure.canvas.draw()
    assert ax.get_lines()[0].get_marker() in (None, "None", "") and all(t == int(t) for t in ax.get_xticks())


def test_loss_curve_marks_the_epoch_early_stopping_restored():
    from chainrule.train import History

    val = [1.0, 0.6, 0.4, 0.45, 0.5, 0.55]
    ax = plot.loss_curve(History(loss=[0.9, 0.5, 0.3, 0.2, 0.15, 0.1], val_loss=val, best_epoch=2)).axes[0]
    assert "best epoch, 3: its weights restored" in [t.get_text() for t in ax.get_legend().get_texts()]
    vertical = [line for line in ax.get_lines() if list(line.get_xdata()) == [3, 3]]
    assert len(vertical) == 1
    circled = [line for line in ax.get_lines() if list(line.get_xdata()) == [3] and list(line.get_ydata()) == [0.4]]
    assert len(circled) == 1


def _region_colour(fig, index):
    """The colour the decision boundary's filled regions give class ``index``."""
    filled = fig.axes[0].collections[0]
    return tuple(filled.cmap(filled.norm(index)))


def test_regions_and_points_share_one_colour_per_class_whatever_is_predicted():
    # class 2 never predicted (its output bias pushed down), or only classes 1 and 2 plotted:
    # each class keeps its colour in the regions, the points and the legend
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(1)
    centres = np.array([[-3, 0], [0, 3], [3, 0]])
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.normal(size=(300, 2))
    net = cr.mlp([2, 8, 3], activation="tanh", rng=0)
    net.fit(X, y, loss="cross_entropy", epochs=200, verbose=0, rng=0)
    net.layers[-1].b.value[2] -= 100
    assert set(np.unique(net.predict_classes(X))) == {0, 1}
    for points, labels in ((X, y), (X[y > 0], y[y > 0])):
        fig = plot.decision_boundary(net, points, labels)
        fig.canvas.draw()
        scatter, legend = fig.axes[0].collections[-1], fig.axes[0].get_legend()
        for label, colour in zip(labels, scatter.get_facecolors()):
            np.testing.assert_allclose(colour, _region_colour(fig, label), atol=1e-6)
        named = {t.get_text(): to_rgba(h.get_markerfacecolor()) for t, h in zip(legend.get_texts(), legend.legend_handles)}
        for c in np.unique(np.concatenate([labels, net.predict_classes(X)])):
            np.testing.assert_allclose(named[f"class {c}"], _region_colour(fig, c), atol=1e-6)
    colours = {_region_colour(fig, c) for c in range(3)}
    assert len(colours) == 3  # three classes, three colours


def test_a_hinge_network_shows_its_margin_with_the_line_at_zero():
    X, _, y, _ = moons()
    net = cr.mlp([2, 8, 1], activation="tanh", rng=0)
    net.fit(X, 2 * y - 1, loss="hinge", optimizer=cr.optim.Adam(0.05), epochs=100, verbose=0)
    fig = plot.decision_boundary(net, X, 2 * y - 1)
    filled = fig.axes[0].collections[0]
    # the whole plane is coloured, not only margins in [0, 1]: the levels reach the largest |margin|
    assert filled.levels[0] <= filled.zmin and filled.levels[-1] >= filled.zmax and filled.zmax > 1
    assert "margin f (class 1 where f > 0)" == fig.axes[1].get_ylabel()
    line = fig.axes[0].collections[1]
    assert list(line.levels) == [0.0]
    bce = cr.mlp([2, 8, 1], activation="tanh", rng=0)
    bce.fit(X, y, loss="bce", epochs=5, verbose=0)
    fig = plot.decision_boundary(bce, X, y, class_names=["left", "right"])
    assert fig.axes[1].get_ylabel() == "P(right)"


def test_decision_boundary_says_what_y_must_be():
    X, _, y, _ = moons()
    net = cr.mlp([2, 4, 1], rng=0)
    net.fit(X, y, loss="bce", epochs=2, verbose=0)
    with pytest.raises(ValueError, match="takes class indices 0..K-1 as y"):
        plot.decision_boundary(net, X, np.where(y > 0, "cat", "dog"))
    with pytest.raises(ValueError, match="one-output network tells 2 classes apart"):
        plot.decision_boundary(net, X, y + 1)


def test_confusion_matrix_takes_any_labels_and_counts_them():
    fig = plot.confusion_matrix([0.5, 1.5, 0.5, 2.25], [0.5, 1.5, 1.5, 2.25])  # floats: sklearn calls them continuous
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0.5", "1.5", "2.25"]
    assert fig.axes[0].get_title() == "Confusion matrix (accuracy 0.750)"
    fig = plot.confusion_matrix([1, "dog", 1], ["dog", "dog", 1])  # mixed kinds: sorted as text
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "dog"]
    fig = plot.confusion_matrix(["cat", "dog"], ["dog", "dog"], labels=["dog"])  # the cat pair has no cell ...
    assert fig.axes[0].get_title() == ("Confusion matrix (accuracy 0.500 over all 2 samples)\n"  # ... but counts
                                       "1 of them have a true or predicted class not shown")


def test_dollar_signs_in_names_from_the_data_are_shown_literally():
    # "$...$" would be read as maths: the signs and spaces vanished, and "x^^2" failed to draw
    rng = np.random.default_rng(0)
    names = ["$5 to $10", "x^^2 in $x^^2$ units"]
    fig = plot.confusion_matrix(list(rng.choice(names, 20)), list(rng.choice(names, 20)))
    fig.canvas.draw()  # raised a mathtext ParseException before
    assert {t.get_text() for t in fig.axes[0].get_xticklabels()} == {r"\$5 to \$10", r"x^^2 in \$x^^2\$ units"}
    X, _, y, _ = moons()
    net = cr.mlp([2, 4, 1], rng=0)
    net.fit(X, y, loss="bce", epochs=2, verbose=0)
    fig = plot.decision_boundary(net, X, y, class_names=names)
    fig.canvas.draw()
    assert fig.axes[1].get_ylabel() == r"P(x^^2 in \$x^^2\$ units)"
    fig = plot.network_diagram(net, input_names=["price ($)", "$x^^2$"], output_names=["$ out"])
    fig.canvas.draw()


def test_loss_curve_says_what_each_loss_measured_and_which_weights_came_back():
    from chainrule.train import History

    loss, val = [0.9, 0.5, 0.3, 0.2], [1.0, 0.6, 0.5, 0.55]
    ax = plot.loss_curve(History(loss=loss, val_loss=val, best_epoch=3, restored_from="start")).axes[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("training loss (mean over each epoch's batches, while training)")
    assert texts[1] == "validation loss (after each epoch)"
    assert "best epoch, 4: the weights it started from restored" in texts
    # chosen by the training loss: the circle is on the training curve, not the validation one
    assert [line for line in ax.get_lines() if list(line.get_xdata()) == [4] and list(line.get_ydata()) == [0.2]]


def test_loss_curve_with_zero_or_non_finite_losses_keeps_a_linear_axis_and_names_them():
    from chainrule.train import History

    ax = plot.loss_curve(History(loss=[1.0, 0.1, 0.001, 0.0, 0.0])).axes[0]  # hinge reaches 0
    assert ax.get_yscale() == "linear"
    ax = plot.loss_curve(History(loss=[1.0, 2.0, float("inf"), float("nan")])).axes[0]
    assert ax.get_yscale() == "linear"
    assert "training loss not finite (inf or NaN) at epochs 3, 4: ✕ on the top edge" in [
        t.get_text() for t in ax.get_legend().get_texts()]
    assert plot.loss_curve(History(loss=[1.0, 0.1, 0.001])).axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="history.val_loss has 2 values for 3 epochs"):
        plot.loss_curve(History(loss=[1.0, 0.5, 0.2], val_loss=[1.0, 0.6]))


def test_regression_fit_names_what_it_cannot_draw_and_draws_a_constant_x():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 1))
    three = cr.mlp([1, 4, 3], rng=0)
    with pytest.raises(ValueError, match="regression_fit draws one output; the network has 3"):
        plot.regression_fit(three, x, np.c_[x, x, x])
    two = cr.mlp([2, 4, 1], rng=0)
    with pytest.raises(ValueError, match="a network of 2 inputs"):
        plot.regression_fit(two, rng.normal(size=(30, 2)), x)
    one = cr.mlp([1, 4, 1], rng=0)
    ax = plot.regression_fit(one, np.full((10, 1), 2.0), np.arange(10.0)).axes[0]
    network = [line for line in ax.get_lines() if line.get_label() == "network"][0]
    assert np.ptp(network.get_xdata()) > 0  # a visible line around x = 2, not a single point


def test_parity_says_what_it_leaves_out_and_draws_constant_values():
    import warnings

    ax = plot.parity([1.0, 2.0, np.nan, 4.0], [1.1, np.inf, 3.0, 3.9]).axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "held-out samples (2 with a non-finite value not shown)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warned of singular limits
        ax = plot.parity([5.0, 5.0, 5.0], [5.0, 5.0, 5.0]).axes[0]
    low, high = ax.get_xlim()
    assert low < 5.0 < high and high - low >= 1.0
    with pytest.raises(ValueError, match="no pair of finite values"):
        plot.parity([np.nan], [1.0])


def test_plots_of_empty_histories_subsets_and_object_indices():
    from chainrule.train import History

    ax = plot.loss_curve(History()).axes[0]  # a fit that diverged in its first epoch
    assert any(t.get_text() == "no epoch was completed" for t in ax.texts)
    fig = plot.confusion_matrix([0, 1, 2, 1], [0, 1, 1, 2], labels=[1, 2])  # a subset, as in scikit-learn
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2"]
    assert fig.axes[0].get_title() == ("Confusion matrix (accuracy 0.500 over all 4 samples)\n"
                                       "1 of them have a true or predicted class not shown")
    with pytest.raises(ValueError, match="y_true contains NaN"):
        plot.confusion_matrix([0.0, np.nan], [0.0, 1.0])
    X, _, y, _ = moons()
    net = cr.mlp([2, 4, 1], rng=0)
    net.fit(X, y, loss="bce", epochs=2, verbose=0)
    plot.decision_boundary(net, X, np.array(y.tolist(), dtype=object))  # indices held as objects


@pytest.mark.parametrize("loss, combined", [("sse", "sum"), ("mse", "mean")])
def test_loss_curve_legend_says_how_batch_losses_were_combined(loss, combined):
    """A sum-reduced loss's epoch value is the sum of its batches' losses, not their mean:
    the legend must not call it a mean."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 2)), rng.standard_normal((12, 1))
    net = cr.mlp([2, 3, 1], "tanh", rng=0)
    history = net.fit(X, y, loss=loss, optimizer=cr.optim.SGD(1e-12), epochs=1, batch_size=4, verbose=0, shuffle=False)
    batches = [cr.losses.get_loss(loss).forward(net.predict(X[i:i + 4]), y[i:i + 4]) for i in range(0, 12, 4)]
    expected = np.sum(batches) if combined == "sum" else np.mean(batches)
    assert history.loss_reduction == combined and history.loss[0] == pytest.approx(expected, rel=1e-9)
    (line,) = plot.loss_curve(history).axes[0].get_lines()
    assert line.get_label().startswith(f"training loss ({combined} over each epoch's batches")
