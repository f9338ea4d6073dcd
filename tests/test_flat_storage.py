"""A network's parameters live in one contiguous buffer (``FlatStorage``); optimizers then
update all of them in one pass. That must change nothing but speed."""

import copy

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
