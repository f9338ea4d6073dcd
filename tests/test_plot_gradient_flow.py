"""plot.gradient_flow: zero and non-finite gradients are said and shown, the legends stay off
the data and inside the figure, and epochs are whole numbers on the axes."""

import inspect
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import plot
from chainrule.inspect import GradientFlow


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(float)


def _fit(net, epochs, **kwargs):
    X, y = _data()
    flow = GradientFlow(warn=False)
    history = net.fit(X, y, loss="bce", epochs=epochs, verbose=0, callbacks=[flow], **kwargs)
    return flow, history


def _draw(source):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no layout or glyph warnings either
        fig = plot.gradient_flow(source)
        fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def _texts(ax):
    """The panel's texts, with their line breaks (and non-breaking spaces) as plain spaces."""
    return " ".join(" ".join(t.get_text().split()) for t in ax.texts)


def _overlap(a, b) -> float:
    """Area (in pixels²) where two window boxes overlap."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0) * max(height, 0)


def _legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)


def test_dead_relu_network_says_its_gradients_are_exactly_zero():
    """Every weight gradient is 0 behind dead ReLUs: the panels said nothing and their epoch
    axis ran from -0.04 to 0.04 (no finite point on a log axis to frame)."""
    net = cr.mlp([2, 8, 1], activation="relu", rng=0)
    dense = [layer for layer in net.layers if isinstance(layer, cr.Dense)]
    dense[0].b.value[...] = -100.0  # no unit of the hidden layer ever fires
    flow, history = _fit(net, epochs=3)
    assert np.all(flow.array("weight_grad_norm") == 0)
    fig, _ = _draw(history)
    for ax in (fig.axes[0], fig.axes[2]):
        text = _texts(ax)
        assert "exactly 0" in text
        assert all(name in text for name in flow.layer_names)
        assert list(ax.get_xticks()) == [1, 2, 3]
        low, high = ax.get_xlim()
        assert low < 1 and high > 3 and high - low < 4
        # the zeros are drawn, as ▼ on the bottom edge, at every epoch of every layer
        zeros = [line for line in ax.get_lines() if line.get_marker() == "v"]
        assert len(zeros) == len(flow.layer_names)
        assert all(list(line.get_xdata()) == [1, 2, 3] for line in zeros)
    assert "exactly 0" in _texts(fig.axes[1])  # ‖dL/dW‖ across the layers too
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("exactly 0" in label for label in labels)


def test_legends_of_a_deep_network_stay_off_the_data_and_inside_the_figure():
    """21 layers: the legends covered the right side of panels (a) and (c) and ran past them."""
    net = cr.mlp([2] + [8] * 20 + [1], activation="relu", rng=0)
    flow, history = _fit(net, epochs=4, batch_size=30, rng=0)
    assert len(flow.layer_names) == 21
    fig, renderer = _draw(history)
    legends = _legends(fig)
    assert legends
    entries = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert all(name in entries for name in flow.layer_names) and any("1e-3" in e for e in entries)
    figure_box = fig.bbox
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert _overlap(box, ax.get_window_extent(renderer)) == 0  # off every panel's data area
        # nothing clipped at the figure's edges
        assert figure_box.x0 - 1 <= box.x0 and box.x1 <= figure_box.x1 + 1
        assert figure_box.y0 - 1 <= box.y0 and box.y1 <= figure_box.y1 + 1
    for ax in fig.axes:
        tight = ax.get_tightbbox(renderer)
        assert figure_box.x0 - 1 <= tight.x0 and tight.x1 <= figure_box.x1 + 1
        assert figure_box.y0 - 1 <= tight.y0 and tight.y1 <= figure_box.y1 + 1
        # and the legends do not cover an axis' labels either
        for legend in legends:
            assert _overlap(legend.get_window_extent(renderer), ax.xaxis.label.get_window_extent(renderer)) == 0


def test_one_epoch_is_one_whole_epoch_on_the_axes():
    """One epoch gave ticks 0.96, 0.98, ..., 1.04."""
    flow, _ = _fit(cr.mlp([2, 1], rng=0), epochs=1)
    fig, _ = _draw(flow)
    for ax in (fig.axes[0], fig.axes[2]):
        assert list(ax.get_xticks()) == [1]
        low, high = ax.get_xlim()
        assert low <= 0.6 and high >= 1.4
        assert any(line.get_marker() == "o" and np.isfinite(line.get_ydata()).all() for line in ax.get_lines())
    assert list(fig.axes[1].get_xticks()) == [1]


def test_many_epochs_have_whole_epoch_ticks():
    flow, _ = _fit(cr.mlp([2, 4, 1], rng=0), epochs=23)
    fig, _ = _draw(flow)
    for ax in (fig.axes[0], fig.axes[2]):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert len(ticks) >= 3 and all(t == int(t) for t in ticks)


def test_nan_and_inf_in_the_record_are_drawn_and_named():
    flow, _ = _fit(cr.mlp([2, 4, 4, 1], rng=0), epochs=5)
    record = flow.to_dict()
    record["weight_grad_norm"][2][1] = float("nan")
    record["weight_grad_norm"][3][1] = float("inf")
    record["update_ratio"][4][2] = float("inf")
    record["dz_norm"][-1][0] = float("nan")
    fig, _ = _draw(record)
    assert "nan" in _texts(fig.axes[0]) and flow.layer_names[1] in _texts(fig.axes[0])
    assert "inf" in _texts(fig.axes[2]) and flow.layer_names[2] in _texts(fig.axes[2])
    assert "nan" in _texts(fig.axes[1])
    crosses = [line for line in fig.axes[0].get_lines() if line.get_marker() == "X"]
    assert [list(line.get_xdata()) for line in crosses] == [[3, 4]]  # epochs 3 and 4, on the top edge
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("nan or inf" in label for label in labels)
    # the other values are still drawn
    line = next(line for line in fig.axes[0].get_lines() if line.get_label() == flow.layer_names[0])
    assert np.isfinite(line.get_ydata()).all()


def test_signature_and_return_value_are_unchanged(tmp_path):
    from matplotlib.figure import Figure

    assert list(inspect.signature(plot.gradient_flow).parameters) == ["history_or_callback", "title"]
    flow, history = _fit(cr.mlp([2, 4, 1], rng=0), epochs=2)
    fig = plot.gradient_flow(history, title="My run")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig._suptitle.get_text().startswith("My run")
    fig.savefig(tmp_path / "flow.png", dpi=60)
    assert (tmp_path / "flow.png").stat().st_size > 5_000
    with pytest.raises(ValueError, match="empty"):
        plot.gradient_flow({**flow.to_dict(), "epochs": [], "weight_grad_norm": [], "dz_norm": [],
                            "update_ratio": []})
