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
