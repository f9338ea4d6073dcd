"""Defects found by the plotting audit: each test fails on the code before its fix."""

import numpy as np
import pytest

from chainrule.ising_confusion import confusion_peak

# --- learning by confusion: the apex marked is that of the peak drawn ------------------------------------------

# `chainrule ising confusion` on an L = 16 data set (20 temperatures 1..3.5): an outlier at
# T' = 1.72 (0.933, just past the cold dip) once took a one-point flank of the tent fit, and the
# apex was marked at 1.789 while the curve drawn peaks at 2.38
AUDIT_TRIALS = (np.linspace(1, 3.5, 20)[:-1] + np.linspace(1, 3.5, 20)[1:]) / 2
AUDIT_ACCURACY = np.array([0.95, 0.9, 0.85, 0.8, 0.75, 0.933, 0.877, 0.886, 0.911, 0.935, 0.942, 0.937, 0.913,
                           0.863, 0.8, 0.805, 0.85, 0.9, 0.95])


def test_confusion_apex_stays_on_the_inner_peak_despite_an_outlier_past_the_dip():
    baseline = np.minimum(1.0, 0.5 + 0.05 * np.abs(np.arange(19) - 9))
    tc, peak = confusion_peak(AUDIT_TRIALS, AUDIT_ACCURACY, baseline=baseline)
    best = int(np.argmax(AUDIT_ACCURACY[6:13])) + 6  # the inner peak drawn: 0.942 at T' = 2.38
    assert AUDIT_TRIALS[best - 1] <= tc <= AUDIT_TRIALS[best + 1]
    assert tc == pytest.approx(2.43, abs=0.03)
    # the fitted trials are the peak's own flanks: the outlier past the cold dip is not one of them
    assert peak[0] == pytest.approx(AUDIT_TRIALS[6]) and peak[-1] == pytest.approx(AUDIT_TRIALS[12])


def test_confusion_apex_is_sought_between_the_peak_trials_neighbours():
    trials = np.arange(11.0)
    # a shoulder right of the peak (0.94, 0.94) then one low point: over the whole window the
    # least-squares apex went to 6.8, beyond the shoulder, with that point as a one-point flank
    accuracy = np.r_[1.0, 0.5, 0.6, 0.9, 0.93, 0.97, 0.94, 0.94, 0.79, 0.5, 1.0]
    tc, peak = confusion_peak(trials, accuracy)
    assert 4.0 <= tc <= 6.0 and peak.tolist() == [3, 4, 5, 6, 7, 8]


def test_confusion_tent_gives_the_fitted_flanks_to_draw():
    from chainrule.ising_confusion import confusion_tent

    trials = np.arange(9.0)
    accuracy = np.r_[1.0, 0.7, 0.8, 0.875, 0.95, 0.875, 0.8, 0.7, 1.0]  # a tent over 2..6, apex 0.95 at 4
    tc, peak = confusion_peak(trials, accuracy)
    x, y = confusion_tent(trials, accuracy, tc, peak)
    np.testing.assert_allclose(x, [peak[0], tc, peak[-1]])
    np.testing.assert_allclose(y, [0.8, 0.95, 0.8], atol=1e-9)
    assert confusion_tent(trials, accuracy, 4.0, np.array([3.0, 4.0, 5.0])) is None  # nothing was fitted


# --- confusion matrix: honest numbers for a subset of classes, clear refusals ----------------------------------

from chainrule import plot  # noqa: E402


def _cells(ax):
    """{(row, column): count text} of a confusion matrix's cells."""
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def test_confusion_matrix_of_some_classes_keeps_every_sample_in_the_accuracy_and_shading():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    predicted = np.array([0, 2, 2, 1, 1, 2, 0, 1])  # accuracy 4/8
    fig = plot.confusion_matrix(truth, predicted, labels=[0, 1])
    ax = fig.axes[0]
    title = ax.get_title()
    assert "accuracy 0.500 over all 8 samples" in title
    assert "5 of them have a true or predicted class not shown" in title
    assert _cells(ax) == {(0, 0): "1", (0, 1): "0", (1, 0): "0", (1, 1): "2"}
    shading = ax.images[0].get_array()
    # row 0: 1 of the 3 samples of class 0 predicted 0 (the other two went to the class not shown)
    np.testing.assert_allclose(shading, [[1 / 3, 0], [0, 1]])


def test_confusion_matrix_of_all_classes_says_nothing_about_hidden_samples():
    assert plot.confusion_matrix([0, 1, 1], [0, 1, 0]).axes[0].get_title() == "Confusion matrix (accuracy 0.667)"


@pytest.mark.parametrize("y_true, y_pred, labels, message", [
    (np.eye(3), np.eye(3)[[0, 1, 1]], None, r"y_true must hold one class label per sample \(shape \(n,\)\), got "
                                           r"shape \(3, 3\); for one-hot rows or probabilities pass their argmax"),
    ([0, 1], np.zeros((2, 2)), None, r"y_pred must hold one class label per sample .* shape \(2, 2\)"),
    (5, 5, None, r"y_true must hold one class label per sample .* shape \(\)"),
    ([], [], None, "confusion_matrix needs at least one sample; y_true and y_pred are empty"),
    ([1, 2], [1, 2], [1, 1, 2], "labels lists 1 twice; each class once"),
    ([1, 2], [1, 2], [1, 2, 1.0], r"labels lists 1 and 1.0 \(equal values\) twice"),
    ([1, 2], [1, 2], [], "labels is empty"),
    ([1, 2], [1, 2], [1, np.nan], "labels contains NaN"),
])
def test_confusion_matrix_refuses_bad_input_naming_the_problem(y_true, y_pred, labels, message):
    with pytest.raises(ValueError, match=message):
        plot.confusion_matrix(y_true, y_pred, labels=labels)


def test_confusion_matrix_accepts_a_column_of_labels():
    ax = plot.confusion_matrix(np.array([[0], [1], [1]]), [0, 1, 0]).axes[0]
    assert ax.get_title() == "Confusion matrix (accuracy 0.667)"


def test_confusion_matrix_names_classes_that_read_the_same_apart():
    ax = plot.confusion_matrix([1, "1", 2.0, 2], [1, 1, 2, "2"]).axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(set(ticks)) == 4 and "1" in ticks and "'1'" in ticks
    assert ax.get_title() == "Confusion matrix (accuracy 0.500)"  # 2.0 == 2, "1" != 1


STATIONS = [f"Sample from the northern plot {plot_} collected in the spring survey of the lower catchment by the "
            f"{team} team, stored at minus eighty degrees and shipped to the central laboratory in Edinburgh for "
            "sequencing" for plot_ in (10, 11) for team in ("river", "lake")]


def _key_entries(text):
    entries = {}
    for line in text.splitlines():
        if line.startswith("["):
            number, _, line = line.partition(" ")
        entries[number] = (entries.get(number, "") + " " + line.strip()).strip()
    return entries


def test_confusion_matrix_key_keeps_names_differing_in_two_places_apart(tmp_path):
    fig = plot.confusion_matrix(STATIONS, STATIONS)
    assert len(fig.texts) == 1
    entries = _key_entries(fig.texts[0].get_text())
    assert len(entries) == 4 and len(set(entries.values())) == 4
    assert sorted(entries.values()) == sorted(STATIONS)  # short enough to show whole
    fig.savefig(tmp_path / "key.png", dpi=60)


def test_confusion_matrix_key_cuts_very_long_names_only_where_they_stay_apart():
    common, between = "word " * 60, "text " * 10  # the names differ in two spots 50 characters apart
    labels = [common + x + between + y + common for x in "ab" for y in "ab"]
    key = plot.confusion_matrix(labels, labels).texts[0].get_text()
    entries = _key_entries(key)
    assert len(entries) == 4 and len(set(entries.values())) == 4
    assert all("…" in entry and between.strip() in entry for entry in entries.values())  # cut around the spots
    assert len(key.splitlines()) <= 4 * 5
    far = "word " * 80  # differing spots 400 characters apart: no cut keeps both, so the names are whole
    labels = [far + x + far + y + far for x, y in ("aa", "ab", "ba")]
    entries = _key_entries(plot.confusion_matrix(labels, labels).texts[0].get_text())
    assert sorted(entries.values()) == sorted(label.strip() for label in labels)


# --- loss curve: non-finite and non-positive losses marked, any history taken ---------------------------------

from chainrule.train import History  # noqa: E402


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _edge_marks(ax):
    """{(edge y in axes coordinates, colour): epochs} of the marks drawn on an edge."""
    import matplotlib.colors as mcolors

    marks = {}
    for line in ax.get_lines():
        if line.get_transform() == ax.get_xaxis_transform():
            key = (float(line.get_ydata()[0]), mcolors.to_hex(line.get_color()))
            marks[key] = [int(x) for x in line.get_xdata()]
    return marks


def test_loss_curve_one_nan_keeps_the_log_scale_and_marks_its_epoch():
    loss = np.logspace(0, -3, 40)
    loss[10] = np.nan
    ax = plot.loss_curve(History(loss=list(loss))).axes[0]
    assert ax.get_yscale() == "log"  # decided from the finite losses
    assert _edge_marks(ax) == {(1.0, "#1f77b4"): [11]}
    assert "training loss not finite (inf or NaN) at epoch 11: ✕ on the top edge" in _legend_texts(ax)


def test_loss_curve_keeps_non_finite_last_epochs_in_view_and_names_the_curve(tmp_path):
    loss = list(np.linspace(1, 0.1, 20)) + [np.nan, np.inf]
    ax = plot.loss_curve(History(loss=loss, val_loss=[0.9] * 21 + [np.nan])).axes[0]
    assert ax.get_xlim()[1] >= 22
    assert _edge_marks(ax) == {(1.0, "#1f77b4"): [21, 22], (1.0, "#ff7f0e"): [22]}
    texts = _legend_texts(ax)
    assert "training loss not finite (inf or NaN) at epochs 21, 22: ✕ on the top edge" in texts
    assert "validation loss not finite (inf or NaN) at epoch 22: ✕ on the top edge" in texts
    assert not ax.texts  # no note written over the data
    fig = ax.figure
    fig.savefig(tmp_path / "loss.png", dpi=60)
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0  # under the axes


def test_loss_curve_on_a_forced_log_axis_marks_losses_of_zero_or_less():
    ax = plot.loss_curve(History(loss=[1.0, 0.5, -0.1, 0.0], val_loss=[1.0, 0.0, 0.5, 0.5]), log_scale=True).axes[0]
    assert ax.get_yscale() == "log"
    assert _edge_marks(ax) == {(0.0, "#1f77b4"): [3, 4], (0.0, "#ff7f0e"): [2]}
    texts = _legend_texts(ax)
    assert "training loss 0 or less (no place on a log axis) at epochs 3, 4: ▼ on the bottom edge" in texts
    assert "validation loss 0 or less (no place on a log axis) at epoch 2: ▼ on the bottom edge" in texts


def test_loss_curve_takes_a_list_a_dict_and_an_estimator():
    ax = plot.loss_curve([0.7, 0.5, 0.3]).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [0.7, 0.5, 0.3] and ax.get_ylabel() == "loss"
    ax = plot.loss_curve({"loss": [0.7, 0.5, 0.3], "val_loss": [0.8, 0.6, 0.6], "best_epoch": 1,
                          "loss_name": "bce"}).axes[0]
    assert len(ax.get_lines()) == 4 and ax.get_ylabel() == "loss (bce)"  # 2 curves, best epoch line and circle
    assert "best epoch, 2: its weights restored" in _legend_texts(ax)

    class Fitted:
        loss = cr.losses.get_loss("mse")

    class Estimator:
        loss = "hinge"  # set after the fit: the curve is the fitted network's loss
        loss_curve_ = [1.0, 0.4]
        network_ = Fitted()

    ax = plot.loss_curve(Estimator()).axes[0]
    assert list(ax.get_lines()[0].get_ydata()) == [1.0, 0.4] and ax.get_ylabel() == "loss (mse)"
    assert History(loss=[1.0, 0.5]).as_dict()["loss"] == [1.0, 0.5]
    assert len(plot.loss_curve(History(loss=[1.0, 0.5], val_loss=[1.1, 0.6]).as_dict()).axes[0].get_lines()) == 2


@pytest.mark.parametrize("history, error, message", [
    (None, TypeError, "loss_curve takes a History, a dict with 'loss' .* or a sequence of losses, one per epoch; "
                      "got NoneType"),
    ("0.5", TypeError, "got str"),
    ({"val_loss": [1.0]}, ValueError, r"loss_curve's dict needs a 'loss' list; it has \['val_loss'\]"),
    ([[1.0, 2.0], [3.0, 4.0]], ValueError, r"history.loss must be one number per epoch, got shape \(2, 2\)"),
    (["a", "b"], ValueError, "history.loss must be numbers, one per epoch"),
])
def test_loss_curve_says_what_it_takes(history, error, message):
    with pytest.raises(error, match=message):
        plot.loss_curve(history)


def test_loss_curve_of_no_epochs_draws_no_made_up_scale_or_legend():
    ax = plot.loss_curve(History()).axes[0]
    assert [t.get_text() for t in ax.texts] == ["no epoch was completed"]
    assert ax.get_legend() is None and not ax.get_lines()
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_loss_curve_of_no_finite_loss_shows_no_scale():
    ax = plot.loss_curve(History(loss=[np.nan, np.inf])).axes[0]
    assert len(ax.get_yticks()) == 0 and "no loss the axis can show" in [t.get_text() for t in ax.texts]
    assert _edge_marks(ax) == {(1.0, "#1f77b4"): [1, 2]}


# --- network diagram: zero and non-finite weights have their own edges, widths have a key ---------------------

import matplotlib.colors as mcolors  # noqa: E402

import chainrule as cr  # noqa: E402


def _edge_lines(ax):
    return [line for line in ax.get_lines() if len(line.get_xdata()) == 2]


def _tiny_net(first):
    return cr.Sequential([cr.Dense.from_arrays(np.array(first, dtype=float)), cr.Tanh(),
                          cr.Dense.from_arrays(np.array([[1.0, -0.5]]))])


def test_network_diagram_draws_a_zero_weight_as_neither_sign():
    ax = plot.network_diagram(_tiny_net([[0.0, 2.0], [-1.0, 0.0]])).axes[0]
    styles = [(mcolors.to_hex(line.get_color()), line.get_linestyle()) for line in _edge_lines(ax)]
    assert styles.count((mcolors.to_hex("0.55"), ":")) == 2  # the two zeros
    assert styles.count((mcolors.to_hex("tab:orange"), "-")) == 2  # -1 and -0.5
    assert "weight exactly 0" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_network_diagram_marks_non_finite_weights_and_scales_by_the_finite_ones(bad):
    net = _tiny_net([[1.0, 2.0], [-1.0, 0.5]])
    net.layers[0].W.value[0, 0] = bad
    ax = plot.network_diagram(net).axes[0]
    edges = _edge_lines(ax)
    assert len(edges) == 2 * 2 + 2 * 1  # every edge drawn
    red = [line for line in edges if mcolors.to_hex(line.get_color()) == mcolors.to_hex("tab:red")]
    assert len(red) == 1 and red[0].get_linestyle() == "--"
    widths = sorted(line.get_linewidth() for line in edges if line not in red)
    assert widths[-1] == pytest.approx(0.2 + 3.5)  # |w| = 2, the largest finite one
    assert widths[0] == pytest.approx(0.2 + 3.5 * 0.25)  # |w| = 0.5: not flattened by the inf
    assert "nan or inf weight (1 in the network)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_network_diagram_has_a_key_of_edge_widths():
    ax = plot.network_diagram(_tiny_net([[4.0, 2.0], [-1.0, 0.5]])).axes[0]
    assert "∝" not in ax.get_title()  # the width is 0.2 + 3.5 |w| / max|W|: not proportional
    legend = ax.get_legend()
    key = {t.get_text(): h.get_linewidth() for t, h in zip(legend.get_texts(), legend.legend_handles)}
    assert key["|W| = 4"] == pytest.approx(3.7) and key["|W| = 2"] == pytest.approx(0.2 + 1.75)


# --- decision boundary: a key for numbered class names; colour-bar arrows only where values go past -----------

def _blobs_net():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    y = np.repeat(np.arange(4), 20)
    X = centres[y] + rng.normal(0, 0.5, (80, 2))
    net = cr.mlp([2, 8, 4], "tanh", rng=0)
    net.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(0.05), epochs=60, verbose=0)
    return net, X, y


def test_decision_boundary_keys_numbered_class_names(tmp_path):
    import matplotlib.pyplot as plt

    net, X, y = _blobs_net()
    names = STATIONS  # too alike for 60 characters: numbered
    fig = plot.decision_boundary(net, X, y, class_names=names)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [text[:4] for text in legend] == ["[1] ", "[2] ", "[3] ", "[4] "]
    assert len(fig.texts) == 1
    entries = _key_entries(fig.texts[0].get_text())
    assert entries == {f"[{i}]": name for i, name in enumerate(names, start=1)}
    fig.savefig(tmp_path / "key.png", dpi=60)
    # in the caller's axes there is no room for a key: the legend has the names whole
    fig, ax = plt.subplots()
    plot.decision_boundary(net, X, y, class_names=names, ax=ax)
    legend = [t.get_text().replace("\n", " ") for t in ax.get_legend().get_texts()]
    assert legend == names and not fig.texts
    plt.close("all")


def _one_output(loss, target):
    from chainrule.datasets import moons

    X, _, y, _ = moons()
    net = cr.mlp([2, 6, 1], "tanh", rng=0)
    net.fit(X, target(y), loss=loss, optimizer=cr.optim.Adam(0.02), epochs=60, verbose=0)
    return net, X, target(y)


@pytest.mark.parametrize("loss, target", [("bce", lambda y: y), ("hinge", lambda y: 2 * y - 1)])
def test_decision_boundary_colour_bar_has_no_arrows_where_nothing_goes_past(loss, target):
    net, X, y = _one_output(loss, target)
    ax = plot.decision_boundary(net, X, y).axes[0]
    (filled,) = [c for c in ax.collections if getattr(c, "filled", False)]
    assert filled.extend == "neither" and filled.colorbar.extend == "neither"


def test_decision_boundary_colour_bar_has_arrows_where_a_raw_output_goes_past():
    net, X, y = _one_output("mse", lambda y: y)
    value = net.predict(X)[:, 0]
    ax = plot.decision_boundary(net, X, y).axes[0]
    (filled,) = [c for c in ax.collections if getattr(c, "filled", False)]
    assert value.min() < 0 or value.max() > 1  # the raw output leaves 0..1 ...
    assert filled.extend != "neither" and filled.colorbar.extend == filled.extend  # ... and the bar says so


def test_colour_bar_arrows_point_to_the_side_the_values_leave():
    from chainrule.plot.training import _extend

    levels = np.linspace(0.0, 1.0, 11)
    cases = {(0.2, 0.5): "neither", (-0.1, 0.5): "min", (0.5, 1.2): "max", (-1.0, 2.0): "both",
             (np.nan, 0.5): "neither", (np.inf, 0.5): "neither"}
    for values, expected in cases.items():
        assert _extend(np.array(values), levels) == expected, values


# --- parity and regression fit: legend off the points, names shown as written, nothing dropped unsaid ---------

def test_parity_legend_sits_under_the_axes_and_the_quantity_is_shown_as_written(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(0, 5, 300)
    fig = plot.parity(y, y + rng.normal(0, 0.5, 300), quantity="cost ($)")
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"true cost (\$)" and ax.get_ylabel() == r"predicted cost (\$)"
    fig.savefig(tmp_path / "parity.png", dpi=60)
    renderer = fig.canvas.get_renderer()
    legend, axes = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    assert legend.y1 < axes.y0  # under the axes, not over the points in the upper left
    figure = fig.bbox
    assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1 and legend.y0 >= figure.y0  # and not cut off
    # the CLI escapes the name itself: escaping twice reads the same
    assert plot.parity(y, y, quantity=r"cost (\$)").axes[0].get_xlabel() == r"true cost (\$)"


def _sine_net():
    X, y = cr.datasets.sine(40)
    net = cr.mlp([1, 6, 1], "tanh", rng=0)
    net.fit(X, y, loss="mse", optimizer="adam", epochs=5, verbose=0)
    return net, X, y


def test_regression_fit_says_how_many_points_it_cannot_draw():
    net, X, y = _sine_net()
    y = y.copy()
    y[:3] = np.nan
    ax = plot.regression_fit(net, X, y).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "data (3 with a non-finite x or y not shown)"
    assert len(ax.collections[0].get_offsets()) == 37


def test_regression_fit_says_where_the_network_or_truth_is_not_finite():
    net, X, y = _sine_net()

    def truth(x):
        with np.errstate(divide="ignore"):
            return np.where(x > 0, np.log(np.abs(x)), np.inf)

    class Overflowing:
        n_inputs = n_outputs = 1

        def predict(self, grid):
            return np.where(grid > 0, grid, np.nan)

    ax = plot.regression_fit(Overflowing(), X, y, truth=truth).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1].startswith("truth (not finite at ") and labels[1].endswith(" of 400 points, not drawn)")
    assert labels[2].startswith("network (not finite at ") and labels[2].endswith(" of 400 points, not drawn)")


def test_regression_fit_names_mismatched_lengths():
    net, X, y = _sine_net()
    with pytest.raises(ValueError, match="y has 5 values for the 4 rows of X"):
        plot.regression_fit(net, X[:4], y[:5])


# --- gradient flow: the layers' legend fits the figure with long layer names ----------------------------------

def test_gradient_flow_legend_fits_the_figure_with_long_layer_names(tmp_path):
    epochs, layers = 6, 4
    rng = np.random.default_rng(0)
    record = {"layer_names": [f"Dense {i + 1} (a very long layer name {i})" for i in range(layers)],
              "epochs": list(range(epochs)), "warnings": [],
              **{k: (10 ** rng.uniform(-3, 0, (epochs, layers))).tolist()
                 for k in ("weight_grad_norm", "dz_norm", "update_ratio")}}
    record["weight_grad_norm"][2][1] = 0.0
    record["weight_grad_norm"][4][3] = float("nan")
    fig = plot.gradient_flow(record)
    fig.savefig(tmp_path / "flow.png", dpi=60)
    (legend,) = fig.legends
    box = legend.get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
    assert len(legend.get_texts()) == layers + 3  # the layers, the 1e-3 guide and the two edge marks


# --- decision boundary over a given area: shaded to its edges ---------------------------------------------------

def test_decision_boundary_evaluates_the_extent_it_is_given():
    net, X, y = _one_output("bce", lambda y: y)
    area = ((-2.0, 3.0), (-1.5, 2.0))  # wider than the data: the example's frame was white past its grid
    ax = plot.decision_boundary(net, X, y, extent=area).axes[0]
    (filled,) = [c for c in ax.collections if getattr(c, "filled", False)]
    corners = np.concatenate([path.vertices for path in filled.get_paths() if len(path.vertices)])
    np.testing.assert_allclose([corners[:, 0].min(), corners[:, 0].max()], area[0])
    np.testing.assert_allclose([corners[:, 1].min(), corners[:, 1].max()], area[1])
    assert ax.get_xlim() == area[0] and ax.get_ylim() == area[1]
    assert not any("outside" in t.get_text() for t in ax.get_legend().get_texts())


def test_decision_boundary_counts_points_outside_a_narrow_extent_and_refuses_a_bad_one():
    net, X, y = _one_output("bce", lambda y: y)
    ax = plot.decision_boundary(net, X, y, extent=((0.0, 1.0), (-2.0, 2.0))).axes[0]
    outside = int(((X[:, 0] < 0) | (X[:, 0] > 1)).sum())
    assert f"{outside} points outside the area drawn" in [t.get_text() for t in ax.get_legend().get_texts()]
    for bad in (((1.0, 0.0), (0.0, 1.0)), ((0.0, np.inf), (0.0, 1.0)), (0.0, 1.0), "wide"):
        with pytest.raises(ValueError, match=r"extent must be \(\(x_min, x_max\), \(y_min, y_max\)\)"):
            plot.decision_boundary(net, X, y, extent=bad)
