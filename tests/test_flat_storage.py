"""A network's parameters live in one contiguous buffer (``FlatStorage``); optimizers then
update all of them in one pass. That must change nothing but speed."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import SGD, Adam, AdamW, RMSprop


def _net(seed=0, dtype="float64"):
    return cr.mlp([3, 6, 4, 2], activation="tanh", rng=seed, dtype=dtype)


def _train(net, optimizer, params, steps=7):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    loss = cr.losses.MSE()
    for _ in range(steps):
        loss.forward(net.forward(X), y)
        net.backward(loss.backward())
        optimizer.step(params)


def test_parameters_are_views_of_one_buffer():
    net = _net()
    params = net.parameters()
    flat = params.packed()
    assert flat is not None and flat.value.size == sum(p.size for p in params)
    for p, view in zip(params, flat.split(flat.value)):
        assert np.shares_memory(p.value, flat.value) and np.array_equal(p.value, view)
        assert np.shares_memory(p.grad, flat.grad)


@pytest.mark.parametrize("make", [
    lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9), lambda: SGD(0.1, momentum=0.9, nesterov=True),
    lambda: RMSprop(0.01), lambda: Adam(0.01), lambda: AdamW(0.01, weight_decay=0.1),
], ids=["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_flat_update_is_bitwise_the_per_parameter_update(make, dtype):
    flat_net, plain_net = _net(dtype=dtype), _net(dtype=dtype)
    _train(flat_net, make(), flat_net.parameters())
    _train(plain_net, make(), list(plain_net.parameters()))  # a plain list: one update per array
    for a, b in zip(flat_net.get_weights(), plain_net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_optimizer_falls_back_when_a_parameter_array_is_replaced():
    net = _net()
    opt = Adam(0.01)
    params = net.parameters()
    _train(net, opt, params, steps=2)
    layer = net.layers[0]
    layer.W.value = layer.W.value.copy()  # no longer a view of the buffer
    assert params.packed() is None
    before = layer.W.value.copy()
    _train(net, opt, params, steps=1)
    assert not np.array_equal(layer.W.value, before)  # still trained


def test_deepcopy_gets_its_own_packed_storage():
    net = _net()
    twin = copy.deepcopy(net)
    assert twin.parameters().packed() is not None
    original = net.get_weights()
    _train(twin, SGD(0.5), twin.parameters())
    for a, b in zip(net.get_weights(), original):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(twin.get_weights(), original))


def test_a_parameter_shared_twice_is_not_packed():
    dense = cr.Dense(3, 3, rng=0)
    net = cr.Sequential([dense, cr.Tanh(), dense, cr.Dense(3, 2, rng=1)])
    assert net.parameters().packed() is None
    _train(net, Adam(0.01), net.parameters(), steps=2)  # the per-parameter path still works


def _xy(n=64, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, 3))
    return X, (X[:, 0] * X[:, 1] > 0).astype(float)


def _fit_more(net, optimizer):
    X, y = _xy()
    return net.fit(X, y, loss="bce", optimizer=optimizer, epochs=5, batch_size=16, verbose=0, rng=1)


def _pickled(obj):
    return pickle.loads(pickle.dumps(obj))


def _joblib_copy(obj, tmp_path):
    joblib = pytest.importorskip("joblib")
    joblib.dump(obj, tmp_path / "copy.joblib")
    return joblib.load(tmp_path / "copy.joblib")


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_a_copied_fitted_network_keeps_training_like_the_original(how, tmp_path):
    net, opt = cr.mlp([3, 8, 1], activation="tanh", rng=0), Adam(0.02)
    _fit_more(net, opt)
    copier = {"pickle": _pickled, "deepcopy": copy.deepcopy,
              "joblib": lambda obj: _joblib_copy(obj, tmp_path)}[how]
    twin, twin_opt = copier((net, opt))  # together, as an estimator holds them
    params = twin.parameters()
    assert params.packed() is not None
    assert all(np.shares_memory(p.value, params.flat.value) for p in params)
    before = twin.get_weights()
    history = _fit_more(twin, twin_opt)
    _fit_more(net, opt)
    assert history.loss[-1] < history.loss[0]
    for a, b, start in zip(twin.get_weights(), net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, start)


def test_an_unpickled_fitted_estimator_keeps_training_like_the_original():
    from chainrule.estimators import NeuralNetClassifier

    X, y = _xy(200)
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0, learning_rate=0.05).fit(X, y)
    twin = _pickled(clf)
    before = twin.network_.get_weights()
    for _ in range(10):
        twin.partial_fit(X, y)
        clf.partial_fit(X, y)
    assert twin.loss_curve_[-1] < twin.loss_curve_[5]
    for a, b, start in zip(twin.network_.get_weights(), clf.network_.get_weights(), before):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, start)
