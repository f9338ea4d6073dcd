"""GradientFlow: per-layer gradient statistics during fit, vanishing/exploding warnings, the plot."""

import json
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import plot
from chainrule.datasets import moons
from chainrule.inspect import (
    EXPLODING_REMEDIES,
    VANISHING_REMEDIES,
    ExplodingGradientWarning,
    GradientFlow,
    GradientFlowWarning,
    VanishingGradientWarning,
)


def deep(activation, init, seed=0):
    return cr.mlp([2, 32, 32, 32, 32, 1], activation=activation, init=init, rng=seed)


def test_statistics_are_the_gradients_of_the_step(rng):
    """One full-batch epoch: the recorded numbers equal a hand-run forward/backward/step."""
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    net = cr.mlp([3, 4, 2, 1], activation="tanh", rng=0)
    W0 = [d.W.value.copy() for d in net.layers if isinstance(d, cr.Dense)]
    # by hand: forward, loss, backward layer by layer, recording dL/dZ of each Dense layer
    loss = cr.losses.MSE()
    loss.forward(net.forward(X), y)
    d, dz = loss.backward(), {}
    for i in range(len(net.layers) - 1, -1, -1):
        if isinstance(net.layers[i], cr.Dense):
            dz[i] = d.copy()
        d = net.layers[i].backward(d)
    dW = [net.layers[i].W.grad.copy() for i in sorted(dz)]
    flow = GradientFlow(warn=False)
    net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(lr=0.1), epochs=1, verbose=0, callbacks=[flow])
    assert flow.layer_names == ["Dense 1 (3→4)", "Dense 2 (4→2)", "Dense 3 (2→1)"]
    np.testing.assert_allclose(flow.array("weight_grad_norm")[0], [np.linalg.norm(g) for g in dW], rtol=1e-12)
    np.testing.assert_allclose(flow.array("weight_grad_mean_abs")[0], [np.abs(g).mean() for g in dW], rtol=1e-12)
    np.testing.assert_allclose(flow.array("dz_norm")[0], [np.linalg.norm(dz[i]) for i in sorted(dz)], rtol=1e-12)
    np.testing.assert_allclose(flow.array("dz_mean_abs")[0], [np.abs(dz[i]).mean() for i in sorted(dz)], rtol=1e-12)
    ratios = [0.1 * np.linalg.norm(g) / np.linalg.norm(w) for g, w in zip(dW, W0)]
    np.testing.assert_allclose(flow.array("update_ratio")[0], ratios, rtol=1e-10)
    assert "backward" not in vars(net.layers[0])  # the hook is removed after fit


def test_statistics_are_epoch_means_over_batches_and_do_not_change_training(rng):
    X, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 1))
    a, b = cr.mlp([2, 5, 1], rng=0), cr.mlp([2, 5, 1], rng=0)
    flow = GradientFlow(warn=False)
    a.fit(X, y, epochs=4, batch_size=7, rng=1, verbose=0, callbacks=[flow])
    b.fit(X, y, epochs=4, batch_size=7, rng=1, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))
    assert flow.epochs == [0, 1, 2, 3] and flow.array("dz_norm").shape == (4, 2)
    assert np.all(flow.array("weight_grad_norm") > 0)


def test_deep_sigmoid_network_warns_of_vanishing_gradients():
    X, _, y, _ = moons()
    flow = GradientFlow()
    with pytest.warns(VanishingGradientWarning) as record:
        deep("sigmoid", "glorot_uniform").fit(X, y, loss="bce", optimizer=cr.optim.SGD(lr=0.1), epochs=5,
                                              verbose=0, callbacks=[flow])
    vanishing = [w for w in flow.warnings if w.kind == "vanishing"]
    assert vanishing and vanishing[0].layer == 0 and vanishing[0].epoch == 0
    # σ' ≤ 1/4: four sigmoid layers between the first and the last Dense layer
    signal = flow.array("dz_norm")[0]
    assert signal[0] / signal[-1] < 0.25 ** 4 * 2
    message = str(record[0].message)
    assert "Dense 1 (2→32)" in message and "vanishing" in message
    for remedy in VANISHING_REMEDIES:
        assert remedy in message
    assert "ReLU" in message and "residual" in message and "batch normalization" in message


def test_relu_with_he_initialisation_keeps_the_gradient_flowing():
    X, _, y, _ = moons()
    flow = GradientFlow()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientFlowWarning)
        deep("relu", "he_normal").fit(X, y, loss="bce", optimizer=cr.optim.SGD(lr=0.05), epochs=5, verbose=0,
                                      callbacks=[flow])
    assert flow.warnings == []
    signal = flow.array("dz_norm")[0]
    assert signal[0] / signal[-1] > 0.1


def test_exploding_gradients_warn_before_divergence(rng):
    X = rng.normal(size=(50, 3)) * 10
    y = X @ np.array([[1.0], [2.0], [-1.0]])
    net = cr.mlp([3, 1], rng=0)
    flow = GradientFlow()
    with pytest.warns(ExplodingGradientWarning) as record, pytest.raises(cr.DivergenceError):
        # without StopOnDivergence (1000× the first loss, ~30× the gradient) the run goes on to a
        # non-finite loss, and GradientFlow warns on the way
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(lr=0.05), epochs=500, verbose=0, callbacks=[flow],
                stop_on_divergence=False)
    assert flow.warnings[0].kind == "exploding"
    assert "its first epoch's value" in str(record[0].message)
    for remedy in EXPLODING_REMEDIES:
        assert remedy in str(record[0].message)
    assert "backward" not in vars(net.layers[0])


def test_history_carries_the_record_and_the_plot_draws_it(tmp_path):
    X, _, y, _ = moons()
    flow = GradientFlow(warn=False)
    history = deep("sigmoid", "glorot_uniform").fit(X, y, loss="bce", optimizer="adam", epochs=6, verbose=0,
                                                    callbacks=[flow])
    assert history.gradient_flow == flow.to_dict()
    json.dumps(history.gradient_flow)
    for source in (flow, history, flow.to_dict()):
        fig = plot.gradient_flow(source)
        assert len(fig.axes) == 3
        assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 5
        assert "vanishing" in fig._suptitle.get_text()
    fig.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 20_000
    with pytest.raises(TypeError, match="GradientFlow callback"):
        plot.gradient_flow([1, 2])
    with pytest.raises(ValueError, match="vanishing_ratio"):
        GradientFlow(vanishing_ratio=0)


@pytest.mark.gpu
def test_inspection_tools_work_on_a_gpu_network(rng):
    from chainrule.backend import gpu_available
    from chainrule.inspect import explain, gradcheck

    if not gpu_available():
        pytest.skip("needs CuPy and a CUDA GPU")
    X, y = rng.normal(size=(64, 2)), (rng.normal(size=64) > 0).astype(float)
    net = cr.mlp([2, 32, 32, 32, 32, 1], activation="sigmoid", rng=0, device="cuda")
    flow = GradientFlow()
    with pytest.warns(VanishingGradientWarning):
        net.fit(X, y, loss="bce", optimizer="sgd", epochs=3, verbose=0, callbacks=[flow])
    assert np.isfinite(flow.array("dz_norm")).all()
    trace = explain(net, X[:2], y[:2], loss="bce", lr=0.1)
    assert trace.dtype == "float32" and isinstance(trace.layer(1).dW, np.ndarray)
    assert gradcheck(net, X[:4], y[:4], "bce").passed  # checked on a float64 CPU copy


def test_the_epoch_in_which_training_diverged_is_recorded():
    """The diverging epoch is the one a learner wants to see: its batches so far are kept (and
    checked) although fit raised before the epoch's end."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    net = cr.Sequential([cr.Dense(3, 16, rng=0), cr.Dense(16, 16, rng=1), cr.Dense(16, 1, rng=2)])
    for layer in net.layers:
        layer.W.value *= 30  # large weights: the gradients explode within the first epoch
    flow = GradientFlow(warn=False)
    with pytest.raises(cr.DivergenceError, match="diverged at epoch 1"):
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.5), epochs=5, batch_size=8, verbose=0,
                callbacks=[cr.StopOnDivergence(), flow])
    assert flow.epochs == [0] and flow.array("weight_grad_norm").shape == (1, 3)
    assert {issue.kind for issue in flow.warnings} == {"exploding"}
    assert net.history.gradient_flow["epochs"] == [0]


def test_the_backward_hooks_are_removed_when_a_warning_is_an_error():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    net = cr.mlp([3, 8, 8, 8, 8, 8, 1], activation="sigmoid", rng=0, dtype="float32")
    flow = GradientFlow(warn=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cr.DivergenceError):
            net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(1e3), epochs=3, batch_size=8, verbose=0,
                    callbacks=[flow])
    assert not any("backward" in vars(layer) for layer in net.layers)  # no hook left to record later fits
    assert net.history.gradient_flow is not None and flow.epochs == [0]


def test_its_warnings_point_at_the_callers_line():
    import warnings

    from chainrule.inspect import GradientFlow

    X = np.random.default_rng(0).normal(size=(64, 4))
    net = cr.mlp([4] + [16] * 12 + [1], activation="sigmoid", init="glorot_uniform", rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(X, (X[:, 0] > 0).astype(float), loss="bce", epochs=2, callbacks=[GradientFlow()], verbose=0)
    assert caught and {w.filename for w in caught} == {__file__}
