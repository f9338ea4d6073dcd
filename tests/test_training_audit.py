"""Edge cases of the fit loop found by comparing it with PyTorch: refusals that must leave the
network alone, sample weights at the ends of float32's range, weighted metrics and validation
losses, divergence by default, early stopping on keys a callback adds, layers that rebind their
buffers, AdamW's rate checks, BatchNorm's biases and the validation split's size."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=n)


# -- 8. AdamW's rate checks ----------------------------------------------------------------------
def test_adamw_refuses_a_rate_whose_decay_factor_is_not_positive_however_it_is_set():
    opt = cr.optim.AdamW(0.001, weight_decay=100)
    with pytest.raises(ValueError, match=r"lr × weight_decay must be below 1 .* got 0.05 × 100"):
        opt.set_lr(0.05)
    assert opt.lr == opt.base_lr == 0.001  # the rate in force is kept
    X, y = _regression(20)
    net = cr.mlp([3, 1], rng=0)
    before = net.get_weights()
    opt.lr = 0.02  # as a callback might set it
    with pytest.raises(ValueError, match=r"the learning rate in force × weight_decay must be below 1"):
        opt.step(net.parameters())
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# -- 9. the recorded loss is the data loss -------------------------------------------------------
def test_the_recorded_loss_excludes_the_l2_penalty_the_gradient_includes():
    X, y = _regression(30)
    net = cr.mlp([3, 1], rng=0)
    data_loss = net.evaluate(X, y, loss="mse")["loss"]
    history = net.fit(X, y, optimizer=cr.optim.SGD(1e-300, l2=10.0), epochs=1, verbose=0)
    assert history.loss[0] == pytest.approx(data_loss, rel=1e-12)
