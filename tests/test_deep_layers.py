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


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "half"])
def test_dropout_probability_must_be_in_unit_interval(p):
    with pytest.raises(ValueError, match="Dropout p must be in \\[0, 1\\)"):
        cr.Dropout(p)


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
