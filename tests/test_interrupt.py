"""Ctrl-C during training: fit stops at the end of the last epoch that ended (an epoch cut
short is undone) and says so; the estimators keep those epochs as scikit-learn's MLP does;
chainrule train reports and saves them and exits 130."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.datasets import moons
from chainrule.estimators import NeuralNetClassifier
from chainrule.io import read_header
from chainrule.network import Sequential


class _Interrupt(cr.Callback):
    """Press Ctrl-C in batch ``batch`` of epoch ``epoch`` (0-based), or at the end of that
    epoch (``batch=None``); record the weights every epoch ended with."""

    def __init__(self, epoch: int, batch: int | None):
        self.epoch, self.batch, self.ended = epoch, batch, []

    def on_epoch_begin(self, trainer, epoch):
        self.current = epoch

    def on_batch_end(self, trainer, batch, logs):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == self.epoch and self.batch is None:
            raise KeyboardInterrupt
        self.ended.append(trainer.net.get_weights())


def _net():
    return cr.mlp([2, 8, 1], activation="tanh", rng=0)


@pytest.mark.parametrize("validation", [0.0, 0.2])
def test_an_epoch_cut_short_is_undone(validation):
    X, _, y, _ = moons()
    net, hook = _net(), _Interrupt(epoch=3, batch=2)
    initial = net.get_weights()
    with pytest.raises(cr.TrainingInterrupted) as caught:
        net.fit(X, y, loss="bce", optimizer="adam", epochs=10, batch_size=16, rng=0, verbose=0,
                callbacks=[hook], validation_split=validation)
    assert isinstance(caught.value, KeyboardInterrupt)
    history = caught.value.history
    assert history is net.history and history.epochs == 3
    assert history.stop_reason == "interrupted (KeyboardInterrupt) after epoch 3 of 10" == str(caught.value)
    assert len(history.lr) == len(history.metric) == 3
    assert len(history.val_loss) == (3 if validation else 0)
    for now, after_epoch_3, before in zip(net.get_weights(), hook.ended[2], initial):
        np.testing.assert_array_equal(now, after_epoch_3)
        assert not np.array_equal(now, before)
    net.fit(X, y, loss="bce", epochs=2, batch_size=16, rng=0, verbose=0)  # and training goes on from there
    assert net.history.epochs == 2 and net.history.stop_reason is None


def test_an_interrupt_as_an_epoch_ends_keeps_that_epoch():
    X, _, y, _ = moons()
    net, hook = _net(), _Interrupt(epoch=4, batch=None)
    with pytest.raises(cr.TrainingInterrupted):
        net.fit(X, y, loss="bce", epochs=10, batch_size=32, rng=0, verbose=0, callbacks=[hook])
    assert net.history.epochs == 5  # epoch 5 ended (and was recorded) before the interrupt
    end_of_4 = hook.ended[-1]
    assert not np.array_equal(net.get_weights()[0], end_of_4[0])  # epoch 5's updates are kept


def test_an_interrupt_in_the_first_epoch_leaves_the_initial_weights():
    X, _, y, _ = moons()
    net = _net()
    initial = net.get_weights()
    with pytest.raises(cr.TrainingInterrupted) as caught:
        net.fit(X, y, loss="bce", epochs=10, batch_size=16, rng=0, verbose=0, callbacks=[_Interrupt(0, 3)])
    assert caught.value.history.epochs == 0
    assert "after epoch 0 of 10" in str(caught.value)
    for now, before in zip(net.get_weights(), initial):
        np.testing.assert_array_equal(now, before)


@pytest.fixture
def interrupt_at_backward(monkeypatch):
    """Ctrl-C in the ``k``-th backward pass (1-based) of any network: ``arm(k)``."""
    calls = {"n": 0, "at": None}
    original = Sequential.backward_prepared

    def backward(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == calls["at"]:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Sequential, "backward_prepared", backward)

    def arm(k):
        calls.update(n=0, at=k)

    return arm


def test_an_estimator_keeps_the_epochs_that_ended_and_warns(interrupt_at_backward):
    X, X_test, y, y_test = moons()
    interrupt_at_backward(7 * 4 + 2)  # 140 rows in batches of 40: four steps an epoch, cut in epoch 8
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), batch_size=40, epochs=50, random_state=0)
    with pytest.warns(UserWarning, match=r"interrupted by the user: .*after epoch 7 of 50"):
        assert clf.fit(X, y) is clf
    assert clf.n_iter_ == len(clf.loss_curve_) == 7
    assert clf.predict(X_test).shape == y_test.shape
    interrupt_at_backward(None)
    clf.partial_fit(X, y)  # and it goes on
    assert clf.n_iter_ == 8


def test_chainrule_train_reports_and_saves_the_epochs_that_ended(tmp_path, capsys, interrupt_at_backward):
    model = tmp_path / "model.chainrule"
    interrupt_at_backward(31)  # full batch: one backward pass an epoch, cut in epoch 31
    code = main(["train", "--epochs", "100", "--no-plots", "--json", "--save", str(model)])
    out, err = capsys.readouterr()
    assert code == 130
    report = json.loads(out)
    assert report["epochs_run"] == 30 and report["stop_reason"] == "interrupted (KeyboardInterrupt) after epoch 30 of 100"
    assert "chainrule: interrupted (KeyboardInterrupt) after epoch 30 of 100; the results above" in err
    training = read_header(model)["training"]
    assert training["epochs"] == 30 and training["stop_reason"] == report["stop_reason"]


def test_chainrule_train_interrupted_in_its_first_epoch_writes_nothing(tmp_path, capsys, interrupt_at_backward):
    model = tmp_path / "model.chainrule"
    interrupt_at_backward(1)
    assert main(["train", "--epochs", "100", "--no-plots", "--save", str(model)]) == 130
    assert capsys.readouterr().err.strip() == "chainrule: interrupted"
    assert not model.exists()


def test_ctrl_c_in_a_terminal_stops_chainrule_train_and_keeps_the_model(tmp_path):
    model = tmp_path / "model.chainrule"
    child = subprocess.Popen(  # SIGINT as the terminal sends it (a background job's is ignored: restore it)
        [sys.executable, "-m", "chainrule", "train", "--epochs", "200000", "--no-plots", "--save", str(model)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = child.stdout.readline()  # the first progress line: training is under way
        assert first.startswith("epoch "), first
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "interrupted (KeyboardInterrupt) after epoch" in err and "Traceback" not in err
    assert "train" in out and model.exists()
    assert cr.load(model).n_inputs == 2


class _FailingAppend(list):
    """A History list whose ``at``-th append is interrupted (Ctrl-C between two appends of
    one epoch's record)."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def append(self, value):
        if len(self) + 1 == self.at:
            raise KeyboardInterrupt
        super().append(value)


@pytest.mark.parametrize("field", ["metric", "val_metric"])
def test_an_epoch_whose_record_was_cut_short_is_undone_in_every_list(field):
    X, _, y, _ = moons()

    class Swap(cr.Callback):
        def on_train_begin(self, trainer):
            setattr(trainer.history, field, _FailingAppend(at=3))

    net = _net()
    optimizer = cr.optim.Adam(0.01)
    with pytest.raises(cr.TrainingInterrupted):
        net.fit(X, y, loss="bce", optimizer=optimizer, epochs=10, batch_size=32, rng=0, verbose=0,
                validation_split=0.2, callbacks=[Swap()])
    history = net.history
    assert history.epochs == 2
    assert len(history.lr) == len(history.metric) == len(history.val_loss) == len(history.val_metric) == 2
    assert optimizer.iterations == 0  # reset: its state held the steps of the epoch undone


def test_an_estimator_interrupted_before_training_began_is_left_as_it_was(monkeypatch):
    X, X_test, y, _ = moons()
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, y)
    before = clf.predict_proba(X_test)
    state = {key: value for key, value in vars(clf).items() if key.endswith("_")}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(NeuralNetClassifier, "_split", interrupted)  # after the new network is built
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X[:, ::-1], 1 - y)
    assert {key: value for key, value in vars(clf).items() if key.endswith("_")}.keys() == state.keys()
    assert clf.network_ is state["network_"] and clf.n_iter_ == 3
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_the_interrupt_warning_points_at_the_callers_line(interrupt_at_backward):
    X, _, y, _ = moons()
    interrupt_at_backward(4 + 3)  # in the second epoch: one kept
    with pytest.warns(UserWarning, match="interrupted by the user") as caught:
        NeuralNetClassifier(hidden_layer_sizes=(4,), batch_size=40, epochs=5, random_state=0).fit(X, y)
    assert caught[0].filename == __file__


def test_partial_fit_extends_the_curves_in_place():
    X, _, y, _ = moons()
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, classes=[0, 1])
    curve = clf.loss_curve_
    for _ in range(3):
        clf.partial_fit(X, y)
    assert clf.loss_curve_ is curve and len(curve) == clf.n_iter_ == 4  # no copy of a long curve per call


def test_a_refit_interrupted_before_its_first_epoch_ended_keeps_the_fitted_model(interrupt_at_backward):
    X, X_test, y, _ = moons()
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), batch_size=40, epochs=5, random_state=0).fit(X, y)
    before, network = clf.predict_proba(X_test), clf.network_
    interrupt_at_backward(2)  # in the new network's first epoch
    with pytest.raises(KeyboardInterrupt):  # nothing was trained: Ctrl-C reaches the caller
        clf.fit(X, y)
    assert clf.network_ is network and clf.n_iter_ == len(clf.loss_curve_) == 5
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_a_second_ctrl_c_after_training_keeps_what_was_trained(interrupt_at_backward, monkeypatch):
    X, _, y, _ = moons()
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), batch_size=40, epochs=5, warm_start=True,
                              random_state=0).fit(X, y)

    def second_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    interrupt_at_backward(4 * 2 + 1)  # cut in the third epoch: two kept
    monkeypatch.setattr("warnings.warn", second_ctrl_c)  # pressed again while the warning is shown
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 7  # the curves describe the network it has


def test_a_ctrl_c_while_training_is_set_up_leaves_the_networks_loss(monkeypatch):
    import chainrule.train

    X, _, y, _ = moons()
    net = _net()
    net.fit(X, y, loss="bce", epochs=2, verbose=0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(chainrule.train, "Trainer", interrupted)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, loss="mse", epochs=2, verbose=0)
    assert net.loss.name == "bce" and net.history.epochs == 2
