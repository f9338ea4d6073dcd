"""Edge cases of the fit loop found by comparing it with PyTorch: refusals that must leave the
network alone, sample weights at the ends of float32's range, weighted metrics and validation
losses, divergence by default, early stopping on keys a callback adds, layers that rebind their
buffers, AdamW's rate checks, BatchNorm's biases and the validation split's size."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, r2_score

import chainrule as cr
from chainrule.layers import Layer


def _regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=n)


class _Began(cr.Callback):
    """Records whether training began (on_train_begin ran)."""

    adds_log_keys = False
    began = False

    def on_train_begin(self, trainer):
        self.began = True


# -- 1. a refused fit changes nothing ------------------------------------------------------------
def test_a_fit_refused_by_a_callback_leaves_the_loss_and_history_of_the_fit_before():
    X, y = _regression()
    yb = (y > 0).astype(float)
    net = cr.mlp([3, 4, 1], rng=0)
    history = net.fit(X, yb, loss="bce", epochs=3, verbose=0)
    proba = net.predict(X)
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_loss' but fit has no validation data"):
        net.fit(X, y, loss="mse", epochs=3, verbose=0, callbacks=[cr.EarlyStopping(monitor="val_loss")])
    assert net.loss.name == "bce" and net.history is history and history.epochs == 3
    np.testing.assert_array_equal(net.predict(X), proba)  # probabilities still, not logits


# -- 2. the training metric is weighted as the loss is ------------------------------------------
def _frozen_fit(net, X, y, w, loss):
    """One epoch in mini-batches of 4, unshuffled, with a rate so small that no weight moves: every
    batch's outputs are the initial network's."""
    return net.fit(X, y, loss=loss, optimizer=cr.optim.SGD(1e-300), epochs=1, batch_size=4, shuffle=False,
                   sample_weight=w, verbose=0)


def test_training_r2_is_the_sample_weighted_r2_over_all_rows_even_when_batches_are_skipped():
    X, y = _regression()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=40)
    w[:8] = 0.0  # the first two batches have no weight: skipped
    net = cr.mlp([3, 5, 1], "tanh", rng=0)
    start = net.predict(X).ravel()
    history = _frozen_fit(net, X, y, w, "mse")
    assert history.metric[0] == pytest.approx(r2_score(y, start, sample_weight=w), rel=1e-12)
    assert history.loss[0] == pytest.approx(np.average((start - y) ** 2, weights=w), rel=1e-12)


def test_training_accuracy_is_the_sample_weighted_accuracy():
    X, y = _regression()
    labels = (y > 0).astype(int)
    w = np.random.default_rng(2).uniform(0.0, 3.0, size=40)
    w[:8] = 0.0
    net = cr.mlp([3, 5, 2], "tanh", rng=0)
    predicted = net.predict_classes(X)
    history = _frozen_fit(net, X, labels, w, "cross_entropy")
    assert history.metric[0] == pytest.approx(accuracy_score(labels, predicted, sample_weight=w), rel=1e-12)


def test_weighted_metrics_on_multiple_outputs():
    from chainrule.losses import get_loss
    from chainrule.metrics import Accuracy, RSquared

    rng = np.random.default_rng(3)
    y, out, w = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), rng.uniform(0, 2, size=30)
    metric = RSquared(y, w)
    metric.update(out[:10], y[:10], weights=w[:10])
    metric.update(out[10:], y[10:], weights=w[10:])
    assert metric.result() == pytest.approx(r2_score(y, out, sample_weight=w), rel=1e-12)
    labels = (rng.random(size=(30, 2)) > 0.5).astype(float)  # two binary labels per sample
    accuracy = Accuracy(get_loss("bce"))
    accuracy.update(out, labels, weights=w)
    elementwise = np.repeat(w, 2)
    assert accuracy.result() == pytest.approx(
        accuracy_score(labels.ravel(), (out > 0).ravel().astype(float), sample_weight=elementwise), rel=1e-12)


# -- 3. float32 sample weights -------------------------------------------------------------------
@pytest.mark.parametrize("value", [1e-46, 1e39, 3e37])
def test_float32_weights_beyond_its_range_train_as_equal_weights(value):
    """Weights that underflow, overflow, or overflow in their sum in float32: the loss is
    normalised by Σw, so they are weights of 1."""
    X, y = _regression(20)
    runs = []
    for w in (np.full(20, value), np.ones(20)):
        net = cr.mlp([3, 1], rng=0, dtype="float32")
        runs.append((net.fit(X, y, sample_weight=w, epochs=2, batch_size=4, rng=0, verbose=0).loss, net.get_weights()))
    assert runs[0][0] == runs[1][0] and all(np.isfinite(runs[0][0])) and runs[0][0][0] > 0
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_float32_weights_whose_ratio_underflows_are_refused_before_any_work():
    X, y = _regression(20)
    w = np.ones(20)
    w[5] = 1e-50  # 1e-50 of the largest: not a float32
    began = _Began()
    net = cr.mlp([3, 1], rng=0, dtype="float32")
    with pytest.raises(ValueError, match=r"sample_weight\[5\] = 1e-50, 1e-50 times the largest weight .* "
                                         r"below float32's smallest number"):
        net.fit(X, y, sample_weight=w, epochs=2, verbose=0, callbacks=[began])
    assert not began.began
    # a sum-reduced loss takes the weights as they are: 1e39 is no float32
    with pytest.raises(ValueError, match="sample_weight has a value of 1e\\+39, beyond float32's range"):
        net.fit(X, y, loss="sse", sample_weight=np.full(20, 1e39), epochs=2, verbose=0)


# -- 4. validation and sample weights ------------------------------------------------------------
def test_a_validation_split_that_leaves_no_training_weight_is_refused_before_any_work():
    X, y = _regression(20)
    w = np.zeros(20)
    w[3] = 1.0
    began = _Began()
    with pytest.raises(ValueError, match="every training sample has sample_weight 0 .validation_split held out"):
        cr.mlp([3, 1], rng=0).fit(X, y, sample_weight=w, validation_split=0.25, rng=3, batch_size=4,
                                  epochs=2, verbose=0, callbacks=[began])
    assert not began.began
    with pytest.raises(ValueError, match="every validation sample has weight 0 .sample_weight_val."):
        cr.mlp([3, 1], rng=0).fit(X, y, validation_data=(X, y, np.zeros(20)), epochs=2, verbose=0)


def _weighted_mse(net, X, y, w):
    return float(np.average((net.predict(X).ravel() - y) ** 2, weights=w))


def test_the_validation_loss_is_weighted_by_the_held_out_weights():
    X, y = _regression(40)
    w = np.random.default_rng(4).uniform(0.0, 5.0, size=40)
    net = cr.mlp([3, 4, 1], "tanh", rng=0)
    history = net.fit(X, y, sample_weight=w, validation_split=0.25, rng=5, epochs=1, verbose=0)
    held_out = np.random.default_rng(5).permutation(40)[:10]
    assert history.val_loss[0] == pytest.approx(_weighted_mse(net, X[held_out], y[held_out], w[held_out]), rel=1e-12)
    assert history.val_metric[0] == pytest.approx(
        r2_score(y[held_out], net.predict(X[held_out]).ravel(), sample_weight=w[held_out]), rel=1e-12)
    # validation_data may bring its own weights
    history = net.fit(X[:30], y[:30], validation_data=(X[30:], y[30:], w[30:]), epochs=1, verbose=0)
    assert history.val_loss[0] == pytest.approx(_weighted_mse(net, X[30:], y[30:], w[30:]), rel=1e-12)
    with pytest.raises(ValueError, match=r"sample_weight_val must have shape \(10,\)"):
        net.fit(X[:30], y[:30], validation_data=(X[30:], y[30:], w[:3]), epochs=1, verbose=0)


# -- 5. StopOnDivergence by default --------------------------------------------------------------
def test_fit_stops_a_finite_blow_up_by_default_and_can_be_told_not_to():
    X, y = _regression(40)
    with pytest.raises(cr.DivergenceError, match="over 1000× the first epoch's") as info:
        cr.mlp([3, 1], rng=0).fit(X, y, optimizer=cr.optim.SGD(1.2), epochs=100, verbose=0)
    assert all(math.isfinite(v) for v in info.value.history.loss)
    # opting out: the run goes on (here until the loss overflows)
    with pytest.raises(cr.DivergenceError, match="the loss became (inf|nan)"):
        cr.mlp([3, 1], rng=0).fit(X, y, optimizer=cr.optim.SGD(1.2), epochs=2000, verbose=0,
                                  stop_on_divergence=False)
    # a StopOnDivergence among the callbacks is the one that runs
    with pytest.raises(cr.DivergenceError, match="over 10× the first epoch's"):
        cr.mlp([3, 1], rng=0).fit(X, y, optimizer=cr.optim.SGD(1.2), epochs=100, verbose=0,
                                  callbacks=[cr.StopOnDivergence(10)])
    with pytest.raises(TypeError, match="stop_on_divergence must be True or False, got 'yes'"):
        cr.mlp([3, 1], rng=0).fit(X, y, verbose=0, stop_on_divergence="yes")


# -- 6. early stopping on a key a callback adds --------------------------------------------------
def test_early_stopping_on_a_key_an_epoch_hook_adds_restores_the_weights_it_was_measured_on():
    X, y = _regression(80)
    X_out, y_out = X[:20], -y[:20]  # gets worse as the network learns y
    recorded = []

    def holdout(epoch, logs, net):
        logs["holdout_mse"] = net.evaluate(X_out, y_out, loss="mse")["loss"]
        recorded.append(logs["holdout_mse"])

    net = cr.mlp([3, 6, 1], "tanh", rng=0)
    history = net.fit(X[20:], y[20:], optimizer=cr.optim.SGD(0.05), epochs=50, verbose=0,
                      callbacks=[cr.EpochHook(holdout), cr.EarlyStopping(monitor="holdout_mse", patience=2)])
    assert history.restored_from == "end" and history.best_epoch == int(np.argmin(recorded))
    assert net.evaluate(X_out, y_out, loss="mse")["loss"] == pytest.approx(min(recorded), rel=1e-12)


# -- 7. layers that rebind their buffers ---------------------------------------------------------
class RunningCenter(Layer):
    """Subtracts a running mean of its inputs, a buffer it replaces (not updates in place)."""

    def __init__(self, n):
        self.n_in = n
        self.mean = np.zeros(n)

    def buffers(self):
        return {"mean": self.mean}

    def output_size(self, size):
        return size

    def forward(self, x, training=True):
        if training:
            self.mean = 0.9 * self.mean + 0.1 * x.mean(axis=0)
        return x - self.mean

    def backward(self, dy):
        return dy


def _centred_net():
    return cr.Sequential([cr.Dense(3, 16, rng=0), RunningCenter(16), cr.ReLU(), cr.Dense(16, 1, rng=0)])


def test_a_divergence_restores_a_buffer_the_layer_rebinds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 3 + 5
    y = X @ [1.0, -2.0, 0.5] * 10
    net = _centred_net()
    starts = []

    class Snap(cr.Callback):
        adds_log_keys = False

        def on_epoch_begin(self, trainer, epoch):
            starts.append(trainer.net.layers[1].mean.copy())

    with pytest.raises(cr.DivergenceError, match=r"restored to those epoch (\d+) started from") as info:
        net.fit(X, y, optimizer=cr.optim.SGD(0.02, momentum=0.9), epochs=50, batch_size=16, rng=1, verbose=0,
                callbacks=[Snap(), cr.StopOnDivergence(factor=1e300)])  # runs on to a non-finite loss
    kept = info.value.epoch - 1  # 1-based: the epoch before the diverged one
    assert kept > 1 and np.isfinite(starts[kept - 1]).all()
    np.testing.assert_array_equal(net.layers[1].mean, starts[kept - 1])
    assert not np.array_equal(net.get_weights()[-1], starts[-1])  # get_weights sees the restored one
    np.testing.assert_array_equal(net.get_weights()[-1], starts[kept - 1])


def test_early_stopping_restores_a_buffer_the_layer_rebinds():
    X, y = _regression(60)
    net = _centred_net()
    means = []
    hook = cr.EpochHook(lambda epoch, logs, net: means.append(net.layers[1].mean.copy()))
    history = net.fit(X[:40], y[:40], validation_data=(X[40:], -y[40:]), optimizer=cr.optim.SGD(0.01),
                      epochs=30, batch_size=8, rng=0, verbose=0,
                      callbacks=[hook, cr.EarlyStopping(patience=2)])
    assert history.restored_from == "end" and history.best_epoch < history.epochs - 1
    np.testing.assert_array_equal(net.layers[1].mean, means[history.best_epoch])


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


# -- 10. no bias in front of a BatchNorm ---------------------------------------------------------
def test_mlp_puts_no_bias_before_a_batchnorm_and_float32_follows_float64():
    X, y = _regression(40)
    net = cr.mlp([3, 8, 8, 1], rng=0, batch_norm=True)
    dense = [layer for layer in net.layers if isinstance(layer, cr.Dense)]
    assert [d.b is None for d in dense] == [True, True, False]  # the output layer keeps its bias
    weights = {}
    for dtype in ("float64", "float32"):
        net = cr.mlp([3, 8, 1], "tanh", rng=0, dtype=dtype, batch_norm=True)
        net.fit(X, y, optimizer="adam", epochs=20, batch_size=8, rng=1, verbose=0)
        weights[dtype] = net.get_weights()
    worst = max(np.max(np.abs(a.astype(float) - b) / (1 + np.abs(b))) for a, b in zip(weights["float32"], weights["float64"]))
    assert worst < 1e-3


def test_a_model_file_with_a_bias_before_batchnorm_still_loads(tmp_path):
    net = cr.Sequential([cr.Dense(3, 4, rng=0), cr.BatchNorm(4), cr.ReLU(), cr.Dense(4, 1, rng=1)])
    net.layers[0].b.value[...] = [0.1, -0.2, 0.3, 0.4]
    path = tmp_path / "old.crnet"
    net.save(path)
    loaded = cr.load(path)
    assert loaded.layers[0].b is not None
    X, _ = _regression(10)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


# -- 11. the history after a divergence ----------------------------------------------------------
@pytest.mark.parametrize("factor, message", [(1e300, "the loss became"), (1e3, "over 1000×")])
def test_the_history_of_a_divergence_ends_with_the_epoch_whose_weights_came_back(factor, message):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 3
    y = X @ [1.0, -2.0, 0.5] * 10
    net = cr.mlp([3, 16, 1], "relu", rng=0, batch_norm=True)
    with pytest.raises(cr.DivergenceError, match=message) as info:
        net.fit(X, y, optimizer=cr.optim.SGD(0.02, momentum=0.9), epochs=200, batch_size=16, rng=1, verbose=0,
                callbacks=[cr.StopOnDivergence(factor)])
    history = info.value.history
    assert history.epochs == info.value.epoch - 1 == len(history.lr) == len(history.metric)
    assert all(math.isfinite(v) for v in history.loss)


# -- 12. the validation split's size -------------------------------------------------------------
def test_validation_split_holds_out_the_ceiling_of_its_fraction():
    X, y = _regression(10)
    net = cr.mlp([3, 1], rng=0)
    history = net.fit(X, y, validation_split=0.25, rng=0, epochs=1, verbose=0)  # 2.5 rows: 3
    held_out = np.random.default_rng(0).permutation(10)[:3]
    assert history.val_loss[0] == pytest.approx(net.evaluate(X[held_out], y[held_out])["loss"], rel=1e-12)
    # 0.2 of 2 rows was 0 (refused); it is 1
    assert cr.mlp([3, 1], rng=0).fit(X[:2], y[:2], validation_split=0.2, epochs=1, verbose=0).val_loss
