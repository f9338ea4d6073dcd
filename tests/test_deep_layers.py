"""BatchNorm, Dropout and Residual: behaviour beyond the registry-wide gradient checks."""

import numpy as np
import pytest

import chainrule as cr


def test_batchnorm_normalises_in_training_and_uses_running_stats_at_inference(rng):
    bn = cr.BatchNorm(3, momentum=1.0)
    x = rng.normal(loc=5.0, scale=3.0, size=(50, 3))
    y = bn.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1))
    single = bn.forward(x[:1], training=False)  # one sample is fine at inference
    np.testing.assert_allclose(single, (x[:1] - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + 1e-5))


def test_batchnorm_batch_of_one_in_training_is_refused():
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        cr.BatchNorm(2).forward(np.ones((1, 2)), training=True)
    with pytest.raises(ValueError, match="momentum must be in"):
        cr.BatchNorm(2, momentum=0)


def test_batchnorm_buffers_are_assigned_in_place_with_their_checks():
    bn = cr.BatchNorm(3)
    before = bn.running_mean
    bn.assign_buffer("running_mean", [1.0, 2.0, 3.0] * np.ones(3, dtype=np.float32))
    assert bn.running_mean is before and bn.running_mean.dtype == np.float64
    np.testing.assert_array_equal(bn.running_mean, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"running_var: shape \(2,\) does not match \(3,\)"):
        bn.assign_buffer("running_var", np.ones(2))
    with pytest.raises(KeyError, match="no buffer 'mean'; it has: running_mean, running_var"):
        bn.assign_buffer("mean", np.ones(3))


def test_batchnorm_matches_torch_batchnorm1d(rng):
    torch = pytest.importorskip("torch")
    x, up = rng.normal(size=(8, 4)) * 2 + 1, rng.normal(size=(8, 4))
    ours = cr.BatchNorm.example(rng, 4)
    theirs = torch.nn.BatchNorm1d(4, momentum=0.1, eps=1e-5).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.gamma.value))
        theirs.bias.copy_(torch.tensor(ours.beta.value))
    xt = torch.tensor(x, requires_grad=True)
    for _ in range(3):
        y = ours.forward(x, training=True)
        yt = theirs(xt)
    dx = ours.backward(up)
    (yt * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    theirs.eval()
    np.testing.assert_allclose(ours.forward(x, training=False), theirs(xt).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, np.float32(1.0)])
def test_dropout_probability_must_be_in_unit_interval(p):
    with pytest.raises(ValueError, match="Dropout p must be in \\[0, 1\\)"):
        cr.Dropout(p)


@pytest.mark.parametrize("p", ["half", None, True, np.True_])
def test_dropout_probability_must_be_a_number(p):
    with pytest.raises(TypeError, match="Dropout p must be a number in \\[0, 1\\)"):
        cr.Dropout(p)


@pytest.mark.parametrize("p", [np.float32(0.3), np.int64(0), np.float64(0.25)])
def test_dropout_takes_numpy_scalars(p):
    assert cr.Dropout(p).p == float(p)
    assert any(isinstance(layer, cr.Dropout) for layer in cr.mlp([2, 3, 1], dropout=p, rng=0).layers) == bool(p)


def test_dropout_is_inverted_identity_at_inference_and_reproducible(rng):
    x = np.ones((2000, 50))
    a = cr.Dropout(0.3, rng=0).forward(x)
    b = cr.Dropout(0.3, rng=0).forward(x)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 1 / 0.7}
    assert abs((a == 0).mean() - 0.3) < 0.01 and abs(a.mean() - 1.0) < 0.01
    np.testing.assert_array_equal(cr.Dropout(0.3).forward(x, training=False), x)
    layer = cr.Dropout(0.5, rng=1)
    out = layer.forward(x[:3, :4])
    np.testing.assert_array_equal(layer.backward(np.ones((3, 4))), out)  # dX = dY ⊙ mask


def test_residual_identity_and_projection(rng):
    block = cr.Residual([cr.Dense(4, 4, rng=0), cr.ReLU(), cr.Dense(4, 4, rng=1)])
    assert block.projection is None
    x = rng.normal(size=(5, 4))
    inner = x
    for layer in block.block:
        inner = layer.forward(inner, training=False)
    np.testing.assert_allclose(block.forward(x), x + inner)
    widened = cr.Residual([cr.Dense(4, 6, rng=0), cr.Tanh()])
    assert widened.projection.W.value.shape == (6, 4) and widened.output_size(4) == 6
    with pytest.raises(ValueError, match="maps 4 features to 6"):
        cr.Residual([cr.Dense(4, 6)], projection=False)
    with pytest.raises(ValueError, match="layer 1 \\(Dense\\)"):
        cr.Residual([cr.Dense(4, 6), cr.Dense(5, 4)])
    with pytest.raises(ValueError, match="takes 4 input features, got 3"):
        cr.Sequential([cr.Dense(2, 3), cr.Residual([cr.Dense(4, 4)])])


def test_deep_networks_train_end_to_end(rng):
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = cr.Sequential([
        cr.Dropout(0.0), cr.Dense(2, 16, rng=0), cr.BatchNorm(16), cr.ReLU(),
        cr.Residual([cr.Dense(16, 16, rng=1), cr.ReLU(), cr.Dense(16, 16, rng=2)]),
        cr.Dropout(0.1, rng=3), cr.Dense(16, 1, rng=4),
    ])
    assert net.n_inputs == 2 and net.n_outputs == 1
    net.fit(X, y, loss="bce", optimizer="adam", epochs=60, batch_size=32, verbose=0, rng=0)
    assert net.evaluate(X, y)["accuracy"] > 0.9
    np.testing.assert_array_equal(net.predict(X), net.predict(X))  # inference is deterministic


# -- found by an audit of the deep-network layers -------------------------------------------------
def _bn_net(n_in=3):
    return cr.Sequential([cr.Dense(n_in, 4, rng=0), cr.BatchNorm(4), cr.ReLU(), cr.Dense(4, 1, rng=1)])


class _BatchSizes(cr.Callback):
    adds_log_keys = False

    def __init__(self):
        self.sizes = []

    def on_batch_end(self, trainer, batch, logs):
        self.sizes.append(trainer.net.layers[0]._x.shape[0])


@pytest.mark.parametrize("n, batch, expected", [(33, 32, [33]), (65, 32, [32, 33]), (7, 2, [2, 2, 3]),
                                                (31, 5, [5] * 5 + [6]), (34, 32, [32, 2])])
def test_batchnorm_fit_joins_a_last_batch_of_one_to_the_one_before(rng, n, batch, expected):
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] > 0).astype(int)
    sizes = _BatchSizes()
    _bn_net().fit(X, y, loss="bce", epochs=2, batch_size=batch, verbose=0, rng=0, callbacks=[sizes])
    assert sizes.sizes == expected * 2


def test_without_batchnorm_a_last_batch_of_one_stays_one(rng):
    X = rng.normal(size=(33, 3))
    sizes = _BatchSizes()
    cr.mlp([3, 4, 1], rng=0).fit(X, X[:, :1], epochs=1, batch_size=32, verbose=0, callbacks=[sizes])
    assert sizes.sizes == [32, 1]


class _Begun(cr.Callback):
    adds_log_keys = False
    begun = False

    def on_train_begin(self, trainer):
        self.begun = True


@pytest.mark.parametrize("n, batch, what", [(10, 1, "batch_size=1"), (1, None, "1 sample to train on")])
def test_batchnorm_fit_refuses_batches_of_one_before_any_work(rng, n, batch, what):
    net, begun = _bn_net(), _Begun()
    before = net.get_weights()
    with pytest.raises(ValueError, match=f"BatchNorm needs at least 2 samples per training batch, got {what}"):
        net.fit(rng.normal(size=(n, 3)), np.zeros(n), epochs=1, batch_size=batch, verbose=0, callbacks=[begun])
    assert not begun.begun
    assert getattr(net, "history", None) is None
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n, batch", [(7, 2), (13, 3), (21, 4), (31, 5), (9, 2)])
def test_estimator_with_batch_norm_trains_on_any_row_count(rng, n, batch):
    from chainrule.estimators import NeuralNetRegressor

    X = rng.normal(size=(n, 3))
    model = NeuralNetRegressor(hidden_layer_sizes=(4,), batch_norm=True, batch_size=batch, epochs=2,
                               early_stopping=False, random_state=0).fit(X, X[:, 0])
    assert np.isfinite(model.predict(X)).all()


def test_the_command_line_trains_batch_norm_with_a_last_batch_of_one(tmp_path):
    from chainrule.cli import main

    # iris: 105 training rows, 52 + 52 + 1
    assert main(["train", "--dataset", "iris", "--hidden", "8", "--batch-norm", "--batch-size", "52", "--epochs",
                 "3", "--no-plots", "--quiet"]) == 0


def test_get_and_set_weights_carry_the_batchnorm_running_statistics(rng):
    X = rng.normal(size=(40, 3))
    net = cr.Sequential([cr.Residual([cr.Dense(3, 4, rng=0), cr.BatchNorm(4), cr.ReLU()], rng=1), cr.BatchNorm(4),
                         cr.Dense(4, 1, rng=2)])
    net.fit(X, X[:, :1], epochs=3, batch_size=8, verbose=0, rng=0)
    twin = cr.Sequential([cr.Residual([cr.Dense(3, 4, rng=5), cr.BatchNorm(4), cr.ReLU()], rng=6), cr.BatchNorm(4),
                          cr.Dense(4, 1, rng=7)])
    weights = net.get_weights()
    assert len(weights) == len(net.parameters()) + 4  # two BatchNorms' running mean and variance
    twin.set_weights(weights)
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    with pytest.raises(ValueError, match=r"expected 13 arrays \(9 parameters and 4 BatchNorm running statistics\), "
                                         r"got 9"):
        twin.set_weights(weights[:9])
    bad = [w.copy() for w in weights]
    bad[-1] = np.ones(5)
    before = twin.get_weights()
    with pytest.raises(ValueError, match=r"array 12 \(layer 2 running_var\): shape \(5,\) does not match \(4,\)"):
        twin.set_weights([w + 1 for w in bad])
    for a, b in zip(before, twin.get_weights()):  # nothing assigned when one array is wrong
        np.testing.assert_array_equal(a, b)


def test_gradcheck_names_every_tensor_of_a_residual_block_apart(rng):
    from chainrule.inspect import gradcheck

    net = cr.Sequential([cr.Residual([cr.Dense(3, 4, rng=0), cr.ReLU(), cr.BatchNorm(4), cr.Dense(4, 5, rng=1)],
                                     rng=2), cr.Dense(5, 1, rng=3)])
    report = gradcheck(net, rng.normal(size=(6, 3)))
    names = [e.name for e in report.entries if e.kind == "parameter"]
    assert names == ["W[1]", "b[1]", "gamma (layer 1.3)", "beta (layer 1.3)", "W[2]", "b[2]", "W[3]", "W[4]", "b[4]"]
    assert len(set(e.name for e in report.entries)) == len(report.entries)
    assert any("ReLU" in note for note in report.notes)  # the ReLU inside the block counts


@pytest.mark.parametrize("projection", [1, 0, 1.0, None, "yes"])
def test_residual_projection_takes_only_its_three_choices(projection):
    with pytest.raises(ValueError, match="projection must be 'auto', True or False"):
        cr.Residual([cr.Dense(3, 4, rng=0)], projection=projection)
    assert cr.Residual([cr.Dense(3, 3, rng=0)], projection=np.True_, rng=0).projection is not None


@pytest.mark.parametrize("shape", [(4, 2), (8, 1), (8,), (2, 3, 3)])
def test_batchnorm_refuses_another_width_before_its_statistics_move(shape):
    bn = cr.BatchNorm(3)
    bn.running_mean[:] = 1.0
    for training in (True, False):
        with pytest.raises(ValueError, match=r"BatchNorm\(3\) takes input of shape \(n_samples, 3\), got"):
            bn.forward(np.ones(shape), training=training)
    np.testing.assert_array_equal(bn.running_mean, 1.0)


@pytest.mark.parametrize("momentum, error", [(-0.1, ValueError), (0, ValueError), (1.5, ValueError),
                                             (None, TypeError)])
def test_batchnorm_momentum_errors_give_the_interval_it_takes(momentum, error):
    with pytest.raises(error, match=r"momentum must be (a number )?in \(0, 1\]"):
        cr.BatchNorm(2, momentum=momentum)


# -- found by a review of the fixes above ----------------------------------------------------------
def test_set_weights_checks_every_dtype_before_assigning_any(rng):
    net = cr.mlp([2, 3, 1], rng=0)
    before = net.get_weights()
    bad = [w + 1 for w in before[:-1]] + [np.array(["x"])]
    with pytest.raises(TypeError, match=r"array 3 \(layer 3 b\) must hold numbers, got dtype <U1"):
        net.set_weights(bad)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_weights_an_epoch_started_from_include_the_running_statistics(rng):
    X = rng.normal(size=(40, 3))
    net, starts = _bn_net(), []

    class Starts(cr.Callback):
        adds_log_keys = False

        def on_epoch_end(self, trainer, epoch, logs):
            starts.append(trainer.epoch_start_weights())

    net.fit(X, (X[:, 0] > 0).astype(int), loss="bce", epochs=2, batch_size=8, verbose=0, rng=0,
            callbacks=[Starts()])
    assert len(starts[1]) == len(net.get_weights())  # parameters, then BatchNorm's mean and variance
    twin = _bn_net()
    twin.set_weights(starts[1])
    np.testing.assert_array_equal(twin.layers[1].running_mean, starts[1][-2])


class _Scaled(cr.Layer):
    """A custom container: a learned scale around a block of its own (sublayers and a parameter)."""

    def __init__(self, block):
        from chainrule.layers.base import Parameter

        self.block, self.n_in = block, block[0].n_in
        self.s = Parameter(np.ones(1), "s", regularize=False)

    def sublayers(self):
        return self.block

    def parameters(self):
        return [self.s] + [p for layer in self.block for p in layer.parameters()]

    def forward(self, x, training=True):
        self._x = x
        for layer in self.block:
            x = layer.forward(x, training=training)
        self._h = x
        return x * self.s.value

    def backward(self, dy):
        self.s.grad[...] = (dy * self._h).sum()
        d = dy * self.s.value
        for layer in reversed(self.block):
            d = layer.backward(d)
        return d

    def output_size(self, input_size):
        for layer in self.block:
            input_size = layer.output_size(input_size)
        return input_size


def test_a_custom_container_reports_the_batch_its_layers_need_and_its_own_parameters_are_checked(rng):
    from chainrule.inspect import gradcheck

    block = _Scaled([cr.Dense(3, 4, rng=0), cr.BatchNorm(4)])
    assert block.min_training_batch == 2
    net = cr.Sequential([block, cr.Tanh(), cr.Dense(4, 1, rng=1)])
    sizes = _BatchSizes()
    X = rng.normal(size=(17, 3))
    net.fit(X, X[:, :1], epochs=1, batch_size=8, verbose=0, rng=0, callbacks=[sizes])
    assert sizes.sizes == [8, 9]
    names = [e.name for e in gradcheck(net, X[:6]).entries if e.kind == "parameter"]
    assert names[0] == "s (layer 1)" and "W[1]" in names and "gamma (layer 1.2)" in names


def test_a_batch_norm_estimator_refuses_batches_of_one_before_building_its_network(rng):
    from sklearn.exceptions import NotFittedError

    from chainrule.estimators import NeuralNetClassifier

    model = NeuralNetClassifier(hidden_layer_sizes=(4,), batch_norm=True, batch_size=1)
    with pytest.raises(ValueError, match="BatchNorm needs at least 2 samples per training batch, got batch_size=1"):
        model.fit(rng.normal(size=(10, 2)), [0, 1] * 5)
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 2)))
