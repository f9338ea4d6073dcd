"""The fit loop: batching modes, validation, callbacks, divergence, history, real outcomes."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import moons


def _linear_data(rng, n=64):
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def test_full_batch_is_one_step_per_epoch(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 1], rng=0)
    opt = cr.optim.SGD(0.05)
    net.fit(X, y, loss="mse", optimizer=opt, epochs=7, batch_size=None, verbose=0)
    assert opt.iterations == 7


@pytest.mark.parametrize("batch_size, steps", [(1, 64 * 3), (10, 7 * 3), (64, 3), (1000, 3)])
def test_batch_sizes(batch_size, steps, rng):
    X, y = _linear_data(rng)
    opt = cr.optim.SGD(0.01)
    history = cr.mlp([3, 1], rng=0).fit(X, y, loss="mse", optimizer=opt, epochs=3, batch_size=batch_size, verbose=0, rng=0)
    assert opt.iterations == steps
    assert history.epochs == 3 and history.loss[-1] < history.loss[0]


def test_full_batch_epoch_loss_is_the_pre_update_loss(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 1], rng=0)
    before = net.evaluate(X, y, loss="mse")["loss"]
    history = net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.01), epochs=1, verbose=0)
    assert history.loss[0] == pytest.approx(before)


def test_linear_regression_converges_to_least_squares(rng):
    X, y = _linear_data(rng, 200)
    net = cr.mlp([3, 1], rng=0)
    history = net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.1), epochs=300, verbose=0)
    coef = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    np.testing.assert_allclose(net.layers[0].W.value[0], coef[:3], atol=1e-6)
    assert history.metric_name == "r2" and history.metric[-1] == pytest.approx(1.0, abs=1e-9)


def test_same_seed_same_run(rng):
    X, y = _linear_data(rng)
    runs = [cr.mlp([3, 4, 1], "tanh", rng=1).fit(X, y, loss="mse", optimizer="adam", epochs=5, batch_size=8, rng=3, verbose=0)
            for _ in range(2)]
    assert runs[0].loss == runs[1].loss


def test_names_resolve_through_the_registries(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 1], rng=0)
    net.fit(X, y, loss="huber", optimizer="rmsprop", epochs=2, verbose=0)
    assert isinstance(net.loss, cr.losses.Huber)


def test_validation_split_and_data(rng):
    X, y = _linear_data(rng, 100)
    h = cr.mlp([3, 1], rng=0).fit(X, y, loss="mse", optimizer="sgd", epochs=3, validation_split=0.2, verbose=0, rng=0)
    assert len(h.val_loss) == 3 and len(h.val_metric) == 3
    h = cr.mlp([3, 1], rng=0).fit(X[:80], y[:80], loss="mse", optimizer="sgd", epochs=3,
                                  validation_data=(X[80:], y[80:]), verbose=0)
    assert len(h.val_loss) == 3
    with pytest.raises(ValueError, match="either validation_data or validation_split"):
        cr.mlp([3, 1]).fit(X, y, epochs=1, validation_split=0.2, validation_data=(X, y), verbose=0)


def test_early_stopping_restores_best_weights(rng):
    X, y = _linear_data(rng, 60)
    X_val, y_val = X[:20], -y[:20]  # validation gets worse as training improves
    net = cr.mlp([3, 1], rng=0)
    stopper = cr.EarlyStopping(patience=2)
    snapshots = []
    hook = cr.EpochHook(lambda e, logs, n: snapshots.append(n.get_weights()))
    h = net.fit(X[20:], y[20:], loss="mse", optimizer=cr.optim.SGD(0.05), epochs=200,
                validation_data=(X_val, y_val), callbacks=[hook, stopper], verbose=0)
    assert h.epochs < 200 and "early stopping" in h.stop_reason
    best = int(np.argmin(h.val_loss))
    assert h.best_epoch == best
    for got, want in zip(net.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(got, want)


def test_epoch_hook_can_stop_training(rng):
    X, y = _linear_data(rng)
    h = cr.mlp([3, 1]).fit(X, y, epochs=50, verbose=0, callbacks=[cr.EpochHook(lambda e, logs, net: e == 4)])
    assert h.epochs == 5 and h.stop_reason


def test_nan_loss_stops_with_epoch_and_restores_finite_weights(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 8, 1], "relu", rng=0)
    with pytest.raises(cr.DivergenceError, match=r"epoch \d+.*(nan|inf)") as info:
        net.fit(X * 1e3, y * 1e3, loss="mse", optimizer=cr.optim.SGD(10.0), epochs=100, verbose=0,
                stop_on_divergence=False)
    assert info.value.epoch >= 1
    assert all(np.isfinite(w).all() for w in net.get_weights())
    assert info.value.history.epochs == info.value.epoch - 1
    # the parts of the message as fields, for programs that report it their own way
    assert info.value.exact and info.value.reason in {"the loss became nan", "the loss became inf"}
    assert str(info.value).startswith(f"training diverged at epoch {info.value.epoch}: {info.value.reason}; ")


def test_weights_that_overflow_in_the_last_update_are_caught_after_training(rng):
    """The last epoch's loss is measured before its updates: a weight made inf by them is found
    only after the loop ("diverged by"), and the epoch's starting weights come back."""
    X, y = _linear_data(rng)
    net = cr.mlp([3, 1], rng=0)
    initial = net.get_weights()
    with pytest.raises(cr.DivergenceError, match=r"^training diverged by epoch 1: a weight became non-finite; "
                                                 r"weights restored to those epoch 1 started from \(loss [\d.]+\)$") as info:
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(1e308), epochs=1, verbose=0)
    assert not info.value.exact and info.value.reason == "a weight became non-finite"
    for got, want in zip(net.get_weights(), initial):
        np.testing.assert_array_equal(got, want)


def test_large_finite_float32_weights_are_not_called_non_finite(rng):
    """Their sum overflows float32; the weights themselves are fine."""
    X, y = _linear_data(rng)
    X[:, 0] = 0.0  # the large weights multiply zeros: the outputs and the loss stay ordinary
    net = cr.mlp([3, 64, 1], rng=0, dtype="float32")
    net.layers[0].W.value[:, 0] = 1e37  # 64 of them: their float32 sum overflows
    history = net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.01), epochs=2, verbose=0)
    assert history.epochs == 2 and net.layers[0].W.value[0, 0] == np.float32(1e37)


def test_divergence_callback_catches_growth(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 1], rng=0)
    with pytest.raises(cr.DivergenceError, match="over 10×"):
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(1.5), epochs=100, verbose=0,
                callbacks=[cr.StopOnDivergence(factor=10)])
    assert all(np.isfinite(w).all() for w in net.get_weights())


def test_diverging_run_keeps_weights_whose_loss_was_good(rng):
    """The epoch loss is measured with the weights the epoch starts from; the weights kept after
    a divergence must reproduce the loss the message names, not the diverged one."""
    X = rng.normal(size=(50, 3))
    y = (X @ [1.0, 2.0, 3.0])[:, None]
    net = cr.mlp([3, 8, 1], activation="tanh", rng=0)
    with pytest.raises(cr.DivergenceError, match=r"restored to those epoch (\d+) started from \(loss ([\d.e+]+)\)") as info:
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.5), epochs=200, verbose=0,
                callbacks=[cr.StopOnDivergence(factor=10)])
    history = info.value.history
    kept_epoch = info.value.epoch - 1  # 1-based: the epoch before the diverging one
    assert net.evaluate(X, y)["loss"] == pytest.approx(history.loss[kept_epoch - 1], rel=1e-12)
    assert history.epochs == kept_epoch  # the history ends with the epoch whose weights came back
    diverged_loss = float(re.search(r"loss ([\d.e+]+) is over", str(info.value)).group(1))
    assert net.evaluate(X, y)["loss"] < 0.5 * diverged_loss
    # an overflow from the first epoch on goes back to the initial weights
    fresh = cr.mlp([3, 8, 1], activation="relu", rng=0)
    initial = fresh.get_weights()
    with pytest.raises(cr.DivergenceError, match="restored to the initial ones"):
        fresh.fit(X * 100, y * 100, loss="mse", optimizer=cr.optim.SGD(1e3), epochs=50, batch_size=8, verbose=0)
    for got, want in zip(fresh.get_weights(), initial):
        np.testing.assert_array_equal(got, want)


def test_divergence_and_early_stopping_restore_batchnorm_statistics_with_the_weights(rng):
    """A BatchNorm's running statistics belong to the weights they were gathered with: after a
    divergence they used to stay inf (predict failed), after early stopping they were the last
    epoch's, not the best one's."""
    X = rng.normal(size=(200, 3))
    net = cr.mlp([3, 8, 8, 1], rng=0, batch_norm=True)
    bn = next(layer for layer in net.layers if isinstance(layer, cr.BatchNorm))
    initial = bn.running_mean.copy(), bn.running_var.copy()
    with pytest.raises(cr.DivergenceError, match="restored to the initial ones"):
        net.fit(X, X[:, :1] * 1e3, loss="mse", optimizer=cr.optim.SGD(1e3), epochs=20, batch_size=20, verbose=0)
    np.testing.assert_array_equal(bn.running_mean, initial[0])
    np.testing.assert_array_equal(bn.running_var, initial[1])
    assert np.isfinite(net.predict(X)).all()

    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=200)
    net = cr.mlp([3, 16, 1], rng=0, batch_norm=True)
    bn = next(layer for layer in net.layers if isinstance(layer, cr.BatchNorm))
    stats = []
    hook = cr.EpochHook(lambda epoch, logs, n: stats.append((bn.running_mean.copy(), bn.running_var.copy())))
    history = net.fit(X[:150], y[:150], loss="mse", optimizer=cr.optim.Adam(0.05), epochs=300, batch_size=16,
                      validation_data=(X[150:], y[150:]), verbose=0,
                      callbacks=[hook, cr.EarlyStopping(patience=5)])
    best = history.best_epoch
    assert best is not None and best < history.epochs - 1  # stopped after the best epoch
    np.testing.assert_array_equal(bn.running_mean, stats[best][0])
    np.testing.assert_array_equal(bn.running_var, stats[best][1])
    assert net.evaluate(X[150:], y[150:])["loss"] == pytest.approx(history.val_loss[best], rel=1e-12)


def test_early_stopping_on_the_training_loss_restores_the_weights_of_that_loss(rng):
    X = rng.normal(size=(50, 3))
    y = (X @ [1.0, 2.0, 3.0])[:, None]
    net = cr.mlp([3, 8, 1], activation="tanh", rng=0)
    h = net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.45), epochs=200, verbose=0,
                callbacks=[cr.EarlyStopping(patience=2)])
    assert "early stopping" in h.stop_reason and h.loss[h.best_epoch] == min(h.loss)
    assert net.evaluate(X, y)["loss"] == pytest.approx(min(h.loss), rel=1e-12)  # full batch: exactly


def test_stop_on_divergence_catches_classification_blown_up_from_the_first_epoch(rng):
    X = rng.normal(size=(90, 4))
    y = rng.integers(0, 3, size=90)
    net = cr.mlp([4, 8, 3], activation="tanh", rng=0)
    initial = net.get_weights()
    with pytest.raises(cr.DivergenceError, match=r"epoch 1: loss [\d.e+]+ is over 1000× that of the weights training began from "
                                                 r"\(1.2\d+\); weights restored to the initial"):
        net.fit(X, y, loss="cross_entropy", optimizer=cr.optim.SGD(1e6), epochs=20, batch_size=16, verbose=0,
                callbacks=[cr.StopOnDivergence()])
    for got, want in zip(net.get_weights(), initial):
        np.testing.assert_array_equal(got, want)


def test_stop_on_divergence_lets_a_run_from_a_huge_starting_loss_improve():
    """Unscaled inputs (incomes ~1e5) make the initial logits, and the first epoch's loss,
    thousands of times an uninformed network's: that is where training began, not a blow-up."""
    rng = np.random.default_rng(0)
    income, age = rng.lognormal(11, 0.5, 1000), rng.integers(18, 80, 1000)
    X, y = np.c_[income, age], ((income > 70000) ^ (age > 60)).astype(float)
    net = cr.mlp([2, 32, 1], activation="relu", rng=0)
    history = net.fit(X, y, loss="bce", optimizer=cr.optim.Adam(1e-3), epochs=5, batch_size=32, verbose=0,
                      callbacks=[cr.StopOnDivergence()])
    assert history.loss[0] > 1000 * np.log(2) and history.loss[-1] < 0.1 * history.loss[0]
    # growing 1000-fold beyond that starting loss is still caught, named against it
    net = cr.mlp([2, 32, 1], activation="relu", rng=0)
    with pytest.raises(cr.DivergenceError, match=r"epoch 1: .* that of the weights training began from \("):
        net.fit(X, y, loss="bce", optimizer=cr.optim.SGD(1e4), epochs=5, batch_size=32, verbose=0,
                callbacks=[cr.StopOnDivergence()])


def test_stop_on_divergence_after_a_first_epoch_loss_of_exactly_zero(rng):
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    net = cr.mlp([2, 1], rng=0)
    net.layers[0].W.value[...] = [[100.0, 0.0]]  # margin ≥ 1 on every sample: hinge loss exactly 0
    net.layers[0].b.value[...] = 0.0
    # the L2 penalty shrinks the weights until some margins fall below 1: the loss becomes positive
    history = net.fit(X, y, loss="hinge", optimizer=cr.optim.SGD(1.0, l2=0.9), epochs=5, verbose=0,
                      callbacks=[cr.StopOnDivergence()])
    assert history.loss[0] == 0.0 and history.epochs == 5 and max(history.loss[1:]) > 0


def test_divergence_after_early_stopping_kept_a_best_state_leaves_the_state_the_error_names(rng):
    """EarlyStopping used to put its best weights back after the error had named the last good
    state (its on_train_end runs as fit unwinds)."""
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, 2.0, 3.0]
    net = cr.mlp([3, 8, 1], activation="tanh", rng=0)
    with pytest.raises(cr.DivergenceError, match=r"restored to those epoch (\d+) started from") as info:
        net.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.5), epochs=200, verbose=0,
                callbacks=[cr.EarlyStopping(patience=50), cr.StopOnDivergence(factor=10)])
    kept = int(re.search(r"epoch (\d+) started from", str(info.value)).group(1))
    assert net.evaluate(X, y)["loss"] == pytest.approx(info.value.history.loss[kept - 1], rel=1e-12)
    assert info.value.history.best_epoch is None


def test_a_trainer_made_without_data_still_checks_a_first_epoch(rng):
    from chainrule.train import History, Trainer

    net = cr.mlp([2, 3], rng=0)
    net.loss = cr.losses.get_loss("cross_entropy")
    trainer, watch = Trainer(net, 5, False, History()), cr.StopOnDivergence()
    watch.on_train_begin(trainer)
    with pytest.raises(cr.DivergenceError, match="uninformed network"):
        watch.on_epoch_end(trainer, 0, {"loss": 1e6})


def test_float32_training_with_sample_weights_records_python_floats_and_saves(rng, tmp_path):
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = X @ np.array([1.0, -1.0, 2.0], dtype=np.float32)
    net = cr.mlp([3, 4, 1], rng=0, dtype="float32")
    history = net.fit(X, y, loss="mse", optimizer="adam", epochs=3, batch_size=8, sample_weight=np.ones(40),
                      verbose=0)
    assert all(type(value) is float for value in history.loss)
    net.save(tmp_path / "m.chainrule")  # a float32 loss in the record was not JSON-serialisable


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_continuing_a_converged_network_is_no_divergence(rng, task):
    """fit called again on a converged network: its first epoch's loss is tiny, and Adam's
    wobble a thousandfold above it is still far better than knowing nothing."""
    X = rng.normal(size=(500, 3))
    if task == "regression":
        y, loss = X @ [1.0, -2.0, 0.5], "mse"
    else:
        y, loss = (X @ [1.0, -2.0, 0.5] > 0).astype(int), "bce"
    X = X * (1 if task == "regression" else 20)  # separable: the loss goes towards 0
    net = cr.mlp([3, 16, 1], rng=0)
    for _ in range(12):  # the regression case raised at the 2nd call before
        history = net.fit(X, y, loss=loss, optimizer=cr.optim.Adam(lr=1e-2), epochs=100, verbose=0)
    assert history.loss[-1] < 1e-3


def test_the_mean_predictor_loss_is_the_loss_of_predicting_the_weighted_mean(rng):
    from chainrule.train import History, Trainer

    y = rng.normal(size=(40, 2)) * [1.0, 10.0]
    w = rng.uniform(0.5, 2.0, size=40)
    for loss in (cr.losses.MSE(), cr.losses.SumSquaredError(), cr.losses.Huber(0.5)):
        trainer = Trainer(cr.mlp([3, 2], rng=0), 1, False, History(), data=(np.zeros((40, 3)), y, w, loss))
        mean = (w[:, None] * y).sum(axis=0) / w.sum()
        expected = loss.evaluate(np.broadcast_to(mean, y.shape).copy(), y, loss.scale_for(40, w))
        assert trainer.mean_predictor_loss(chunk=7) == pytest.approx(expected, rel=1e-12)


def test_stop_on_divergence_ignores_noise_around_a_near_zero_loss(rng):
    """A loss that goes from 1e-9 to 1e-6, or spikes back to where training began, grew
    1000-fold but did not blow up: not a divergence."""
    stopper = cr.StopOnDivergence(factor=1e3)
    net = cr.mlp([2, 1], rng=0)
    net.loss = cr.losses.MSE()

    class Run:
        pass

    trainer = Run()
    trainer.net = net
    stopper.on_train_begin(trainer)
    for epoch, loss in enumerate([1.0, 1e-3, 1e-9, 1e-6, 1e-3, 1.35, 1e-5]):  # a spike Adam recovers from
        stopper.on_epoch_end(trainer, epoch, {"loss": loss})  # would raise via trainer.diverged
    with pytest.raises(ValueError, match="factor must be > 1"):
        cr.StopOnDivergence(factor=0.5)


def test_cosine_schedule_spans_the_fits_epochs(rng):
    X, y = _linear_data(rng)
    for epochs in (10, 40):
        h = cr.mlp([3, 1], rng=0).fit(X, y, optimizer=cr.optim.SGD(0.1, schedule="cosine"), epochs=epochs, verbose=0)
        assert h.lr[0] == 0.1 and 0 < h.lr[-1] < 0.1 * 0.05 and all(a >= b for a, b in zip(h.lr, h.lr[1:]))
    fixed = cr.optim.CosineDecay(period=10)
    assert fixed(10, 0.1) == 0.0 and fixed(5, 0.1) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="without a period runs inside fit"):
        cr.optim.CosineDecay()(3, 0.1)


def test_verbose_2_prints_plain_lines(rng, capsys):
    X, y = _linear_data(rng)
    cr.mlp([3, 1], rng=0).fit(X, y, epochs=40, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 20 and lines[-1].startswith("epoch 40/40: loss ") and ".py:" not in lines[0]


def test_sample_weight_zero_equals_dropping_rows(rng):
    X, y = _linear_data(rng, 40)
    w = np.ones(40)
    w[::4] = 0
    a, b = cr.mlp([3, 2, 1], "tanh", rng=5), cr.mlp([3, 2, 1], "tanh", rng=5)
    a.fit(X, y, loss="mse", optimizer=cr.optim.SGD(0.05), epochs=20, sample_weight=w, verbose=0)
    b.fit(X[w > 0], y[w > 0], loss="mse", optimizer=cr.optim.SGD(0.05), epochs=20, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_a_mini_batch_of_zero_weights_is_skipped(rng):
    """Zero weights in one unshuffled batch: that batch takes no step (it has no loss to
    descend), the others train as if its rows were not there; it used to raise mid-fit."""
    X, y = _linear_data(rng, 40)
    w = np.ones(40)
    w[10:20] = 0  # the second batch of 10
    a, b = cr.mlp([3, 2, 1], "tanh", rng=5), cr.mlp([3, 2, 1], "tanh", rng=5)
    ha = a.fit(X, y, loss="mse", optimizer=cr.optim.Adam(0.01), epochs=5, batch_size=10, shuffle=False,
               sample_weight=w, verbose=0)
    keep = w > 0
    hb = b.fit(X[keep], y[keep], loss="mse", optimizer=cr.optim.Adam(0.01), epochs=5, batch_size=10, shuffle=False,
               verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-12)


def test_progress_bar_runs(rng, capsys):
    X, y = _linear_data(rng)
    cr.mlp([3, 1]).fit(X, y, epochs=3, verbose=1)
    assert "epoch" in capsys.readouterr().out


def test_progress_written_to_a_file_is_one_whole_line_per_record(rng):
    """A bar rendered to a pipe or log file left one cut-off line, and narrow consoles broke
    records mid-line; now plain, unwrapped lines."""
    import io

    from rich.console import Console

    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    for log_every in (0, 5):
        out = io.StringIO()
        cr.mlp([3, 4, 1], rng=0).fit(X, y, loss="bce", epochs=40, verbose=0, validation_split=0.2,
                                      callbacks=[cr.ProgressBar(Console(file=out, width=30), log_every=log_every)])
        lines = out.getvalue().splitlines()
        assert len(lines) == (20 if log_every == 0 else 8)
        assert all(re.fullmatch(r"epoch \d+/40: loss \S+  accuracy \S+  val_loss \S+  val_accuracy \S+", line)
                   for line in lines), lines
    # a run stopped early logs its last epoch too
    out = io.StringIO()
    history = cr.mlp([3, 4, 1], rng=0).fit(X, y, loss="bce", epochs=40, verbose=0, callbacks=[
        cr.EpochHook(lambda epoch, logs, net: epoch == 6), cr.ProgressBar(Console(file=out), log_every=5)])
    assert history.epochs == 7 and out.getvalue().splitlines()[-1].startswith("epoch 7/40: loss ")


def test_predict_applies_the_loss_link(rng):
    X = rng.normal(size=(30, 2))
    labels = (X[:, 0] > 0).astype(int)
    net = cr.mlp([2, 3], rng=0)
    net.fit(X, labels, loss="cross_entropy", optimizer="adam", epochs=5, verbose=0)
    proba = net.predict(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(net.predict_classes(X))) <= {0, 1, 2}


@pytest.mark.parametrize("loss, k", [("cross_entropy", 3), ("bce", 1), ("mse", 1), ("mse", 2)])
def test_predict_classes_runs_in_batches_like_predict(loss, k, rng, monkeypatch):
    X = rng.normal(size=(25, 2))
    net = cr.mlp([2, 4, k], rng=0)
    y = (X[:, 0] > 0).astype(int) if loss == "cross_entropy" else (X[:, :k] > 0).astype(float)
    net.fit(X, y, loss=loss, epochs=2, verbose=0)
    whole = net.predict_classes(X)
    rows, outputs = [], net._outputs
    monkeypatch.setattr(net, "_outputs", lambda part: rows.append(part.shape[0]) or outputs(part))
    np.testing.assert_array_equal(net.predict_classes(X, batch_size=10), whole)
    assert rows == [10, 10, 5]


def test_float32_training(rng):
    X, y = _linear_data(rng)
    net = cr.mlp([3, 4, 1], "tanh", rng=0, dtype="float32")
    net.fit(X, y, loss="mse", optimizer="adam", epochs=3, batch_size=16, verbose=0, rng=0)
    assert all(p.value.dtype == np.float32 for p in net.parameters())
    assert net.predict(X).dtype == np.float32


def test_moons_2_8_8_1_tanh_reaches_95_percent():
    X_train, X_test, y_train, y_test = moons(n_samples=1000, noise=0.2)
    net = cr.mlp([2, 8, 8, 1], "tanh", rng=0)
    net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.Adam(0.01), epochs=400, verbose=0)
    accuracy = (net.predict_classes(X_test) == y_test).mean()
    assert accuracy >= 0.95, accuracy


def test_breast_cancer_reaches_95_percent():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_train)
    net = cr.mlp([30, 16, 1], "relu", rng=0)
    net.fit(scaler.transform(X_train), y_train, loss="bce", optimizer=cr.optim.Adam(0.001), epochs=100,
            batch_size=32, verbose=0, rng=0)
    accuracy = net.evaluate(scaler.transform(X_test), y_test)["accuracy"]
    assert accuracy >= 0.95, accuracy


def test_digits_multiclass_softmax():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.3, random_state=0)
    net = cr.mlp([64, 32, 10], "relu", rng=0)
    net.fit(X_train, y_train, loss="cross_entropy", optimizer="adam", epochs=40, batch_size=32, verbose=0, rng=0)
    assert net.evaluate(X_test, y_test)["accuracy"] >= 0.95


# -- callbacks' errors, EarlyStopping's checks and counts, a retry after divergence ---------------
def _small_regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(n, 1))


def _raising(hook: str, message: str):
    """A Callback whose ``hook`` (on_train_begin, on_train_end) raises RuntimeError(message)."""
    def fail(self, trainer):
        raise RuntimeError(message)

    return type("Raising", (cr.callbacks.Callback,), {hook: fail})()


def test_an_error_in_on_train_begin_reaches_the_user_not_a_cleanup_error():
    X, y = _small_regression()
    net = cr.mlp([3, 4, 1], rng=0)
    with pytest.raises(RuntimeError, match="user setup failed"):  # the progress bar's cleanup hid it
        net.fit(X, y, epochs=2, callbacks=[_raising("on_train_begin", "user setup failed")], verbose=1)
    with pytest.raises(ValueError, match="monitors 'val_loss' but fit has no validation data"):
        net.fit(X, y, epochs=2, callbacks=[cr.callbacks.EarlyStopping(monitor="val_loss")], verbose=0)


def test_early_stopping_checks_its_monitor_before_any_weight_changes():
    X, y = _small_regression()
    net = cr.mlp([3, 4, 1], rng=0)
    before = net.get_weights()
    with pytest.raises(ValueError, match=r"monitors 'nonsense', which fit does not record \(loss, lr, r2\)"):
        net.fit(X, y, epochs=3, callbacks=[cr.callbacks.EarlyStopping(monitor="nonsense")], verbose=0)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="monitor must be a key of the epoch logs"):
        cr.callbacks.EarlyStopping(monitor=None)
    with pytest.raises(TypeError, match="restore_best must be True or False"):
        cr.callbacks.EarlyStopping(restore_best="no")


def test_early_stopping_says_how_many_epochs_did_not_improve():
    X, y = _small_regression()
    net = cr.mlp([3, 8, 1], rng=0)
    stopper = cr.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)  # nothing improves after epoch 1
    history = net.fit(X, y, epochs=10, callbacks=[stopper], verbose=0)
    assert history.epochs == 2
    assert history.stop_reason == "early stopping: loss did not improve for 1 epoch in a row (patience 0; best at epoch 1)"


def test_a_stop_asked_for_in_the_last_epoch_is_no_early_stop():
    X, y = _small_regression()

    class StopNow(cr.callbacks.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            trainer.stop_training = True

    history = cr.mlp([3, 4, 1], rng=0).fit(X, y, epochs=1, callbacks=[StopNow()], verbose=0)
    assert history.epochs == 1 and history.stop_reason is None


def test_every_callback_is_ended_even_after_one_raises_in_on_train_end():
    X, y = _small_regression()
    net = cr.mlp([3, 8, 1], rng=0)
    stopper = cr.callbacks.EarlyStopping(patience=3)
    bad_end = _raising("on_train_end", "user on_train_end failed")
    with pytest.raises(RuntimeError, match="user on_train_end failed"):
        net.fit(X, y, epochs=30, validation_split=0.25, callbacks=[bad_end, stopper], verbose=0, rng=0)
    assert net.history.best_epoch == stopper.best_epoch is not None  # EarlyStopping still restored


def test_a_diverged_fit_resets_the_optimizer_so_a_gentler_retry_trains():
    X, y = _small_regression()
    net = cr.mlp([3, 8, 1], rng=0)
    opt = cr.optim.SGD(1e3, momentum=0.9)
    with pytest.raises(cr.DivergenceError):
        net.fit(X, y * 1e100, optimizer=opt, epochs=50, batch_size=8, verbose=0)
    assert opt.iterations == 0  # the moments that held the blow-up are gone
    opt.set_lr(1e-6)
    history = net.fit(X, y, optimizer=opt, epochs=3, verbose=0)
    assert all(np.isfinite(history.loss)) and history.loss[-1] < 1e3


def test_a_validation_divergence_leaves_history_lists_aligned():
    X, y = _small_regression()
    X_val = X.copy()
    X_val[0, 0] = 1e308  # overflows in the network: the validation loss is not finite
    net = cr.mlp([3, 4, 1], activation="relu", rng=0)
    with pytest.raises(cr.DivergenceError, match="validation loss") as info:
        net.fit(X, y, epochs=3, validation_data=(X_val, y), verbose=0)
    h = info.value.history
    assert len(h.loss) == len(h.lr) == len(h.val_loss) == len(h.metric) == len(h.val_metric)


def test_callbacks_may_be_none_or_a_single_callback_and_shuffle_must_be_a_bool():
    X, y = _small_regression()
    net = cr.mlp([3, 4, 1], rng=0)
    assert net.fit(X, y, epochs=2, callbacks=None, verbose=0).epochs == 2
    assert net.fit(X, y, epochs=5, callbacks=cr.callbacks.EarlyStopping(patience=1), verbose=0).epochs >= 1
    with pytest.raises(TypeError, match="shuffle must be True or False, got 'no'"):
        net.fit(X, y, epochs=2, shuffle="no", verbose=0)


def test_early_stopping_may_monitor_a_key_another_callback_adds():
    X, y = _small_regression()

    def add_error(epoch, logs, net):
        logs["train_error"] = 1.0  # a value of the user's own that never improves
        return False

    history = cr.mlp([3, 4, 1], rng=0).fit(
        X, y, epochs=8, verbose=0,
        callbacks=[cr.callbacks.EpochHook(add_error), cr.callbacks.EarlyStopping(monitor="train_error", patience=2)])
    assert history.epochs == 4 and "train_error did not improve for 3 epochs in a row" in history.stop_reason


def test_only_callbacks_that_may_add_log_keys_defer_early_stoppings_check():
    X, y = _small_regression()
    from chainrule.inspect import GradientFlow

    builtins = [GradientFlow(warn=False), cr.callbacks.StopOnDivergence(), cr.callbacks.EarlyStopping(monitor="nonsense")]
    net = cr.mlp([3, 4, 1], rng=0)
    before = net.get_weights()
    with pytest.raises(ValueError, match="which fit does not record"):  # none of these adds a key: refused at once
        net.fit(X, y, epochs=3, callbacks=builtins, verbose=1)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)  # before the first epoch


@pytest.mark.parametrize("first, loss", [(1.0, 1000.0001), (0.1234567, 123.456701), (3.0, 3000.0000000001)])
def test_a_divergence_message_prints_numbers_that_show_the_growth(first, loss):
    """The printed loss must read as over factor × the printed reference: with 6 digits a loss
    of 1000.0001 over 1000× 1 read "loss 1000 is over 1000× ... (1)"."""
    from chainrule.train import History, Trainer

    net = cr.mlp([2, 1], rng=0)
    net.loss = cr.losses.MSE()
    trainer, watch = Trainer(net, 5, False, History()), cr.StopOnDivergence(factor=1e3)
    watch.on_train_begin(trainer)
    watch.on_epoch_end(trainer, 0, {"loss": first})
    with pytest.raises(cr.DivergenceError) as caught:
        watch.on_epoch_end(trainer, 1, {"loss": loss})
    shown_loss, shown_first = re.search(r"loss (\S+) is over 1000× .*\((\S+)\)", caught.value.reason).groups()
    assert float(shown_loss) > 1e3 * float(shown_first)
    assert len(shown_loss.replace(".", "")) <= 18  # no more digits than it takes


def test_a_one_epoch_fit_copies_the_weights_once(rng, monkeypatch):
    """The last good state is the first epoch's start until an epoch is accepted: a second copy
    of a large network's parameters (200 MB at W4's size) is made only when a second epoch begins."""
    from chainrule import trainer as trainer_module

    made = []
    original = trainer_module._WeightCopy

    class Counting(original):
        def __init__(self, net):
            made.append(1)
            super().__init__(net)

    monkeypatch.setattr(trainer_module, "_WeightCopy", Counting)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    net = cr.mlp([3, 4, 1], rng=0)
    net.fit(X, y, loss="mse", epochs=1, verbose=0)
    assert len(made) == 1
    made.clear()
    net.fit(X, y, loss="mse", epochs=3, verbose=0)
    assert len(made) == 2
    start = net.get_weights()
    with pytest.raises(cr.DivergenceError, match="epoch 1 started from"):  # through both copies
        net.fit(X * 1e100, y, loss="mse", optimizer=cr.optim.SGD(1e3), epochs=3, verbose=0)
    for before, after in zip(start, net.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_the_last_epochs_start_is_readable_after_it_was_accepted(rng):
    """After accept_epoch hands its copy over, the epoch's start is still there for callbacks
    (on_train_end of a one-epoch fit read None)."""
    seen = {}

    class AtTheEnd(cr.callbacks.Callback):
        def on_epoch_begin(self, trainer, epoch):
            seen["start"] = [w.copy() for w in trainer.net.get_weights()]

        def on_train_end(self, trainer):
            seen["weights"] = trainer.epoch_start_weights()
            copy = trainer.state_copy()
            trainer.record_state(copy, epoch_start=True)
            seen["recorded"] = copy.weights()
            seen["loss"] = trainer.epoch_start_loss()

    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    net = cr.mlp([3, 4, 1], rng=0)
    history = net.fit(X, y, loss="mse", epochs=1, verbose=0, callbacks=[AtTheEnd()])
    for expected, got, recorded in zip(seen["start"], seen["weights"], seen["recorded"]):
        np.testing.assert_array_equal(expected, got)
        np.testing.assert_array_equal(expected, recorded)
    assert seen["loss"] == pytest.approx(history.loss[0])
