"""The CuPy path (``device="cuda"``) computes what the NumPy path computes.

Each test runs the same work on the CPU and on the GPU from the same initial weights and
compares, in float32 to float32 precision and in float64 to near machine precision.
Skipped cleanly where CuPy or a GPU is missing (as in CI).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.datasets  # noqa: F401  (cr.datasets)
from chainrule import backend
from chainrule.callbacks import Callback, DivergenceError

pytestmark = pytest.mark.gpu

cupy = pytest.importorskip("cupy")
if not backend.gpu_available():
    pytest.skip("no CUDA GPU visible to CuPy", allow_module_level=True)

F32 = dict(rtol=2e-4, atol=2e-5)


def _pair(layers_fn, dtype="float32"):
    """The same network twice, on the CPU and on the GPU, with identical initial weights."""
    cpu = cr.Sequential(layers_fn(), dtype=dtype)
    gpu = cr.Sequential(layers_fn(), dtype=dtype, device="cuda")
    gpu.set_weights(cpu.get_weights())
    return cpu, gpu


def _mlp_layers(sizes, activation, seed=0):
    return lambda: cr.mlp(sizes, activation=activation, rng=seed).layers


def _close(a, b, **tol):
    np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), **(tol or F32))


def test_cuda_network_defaults_to_float32_cupy_arrays_in_one_buffer():
    net = cr.mlp([4, 8, 3], device="cuda", rng=0)
    assert net.dtype == np.float32 and net.device == "cuda" and net.xp is cupy
    params = net.parameters()
    assert all(isinstance(p.value, cupy.ndarray) and p.value.dtype == np.float32 for p in params)
    assert params.packed() is not None
    assert isinstance(net.get_weights()[0], np.ndarray)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "xtanh", "identity", "softmax"])
def test_activation_forward_and_backward_match_cpu(activation):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(16, 5)).astype(np.float32) * 3
    da = rng.normal(size=(16, 5)).astype(np.float32)
    cpu, gpu = cr.layers.get_activation(activation), cr.layers.get_activation(activation)
    _close(gpu.forward(cupy.asarray(z)), cpu.forward(z))
    _close(gpu.backward(cupy.asarray(da)), cpu.backward(da))


@pytest.mark.parametrize("loss_name", ["mse", "sse", "bce", "cross_entropy", "hinge", "huber"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_value_and_gradient_match_cpu(loss_name, dtype):
    rng = np.random.default_rng(1)
    n, k = 33, 4
    out = rng.normal(size=(n, k)).astype(dtype)
    y = {"bce": rng.integers(0, 2, (n, k)).astype(float), "cross_entropy": rng.integers(0, k, n),
         "hinge": rng.choice([-1.0, 1.0], (n, k))}.get(loss_name, rng.normal(size=(n, k)))
    cpu, gpu = cr.losses.get_loss(loss_name), cr.losses.get_loss(loss_name)
    tol = F32 if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    assert gpu.forward(cupy.asarray(out), cupy.asarray(y)) == pytest.approx(cpu.forward(out, y), rel=tol["rtol"])
    _close(gpu.backward(), cpu.backward(), **tol)
    if loss_name == "cross_entropy":  # one-hot targets take the generic path
        onehot = np.eye(k)[y]
        assert gpu.forward(cupy.asarray(out), onehot) == pytest.approx(cpu.forward(out, onehot), rel=tol["rtol"])
        _close(gpu.backward(), cpu.backward(), **tol)


OPTIMIZERS = [
    cr.optim.SGD(0.1), cr.optim.SGD(0.05, momentum=0.9), cr.optim.SGD(0.05, momentum=0.9, nesterov=True),
    cr.optim.RMSprop(0.01), cr.optim.Adam(0.01), cr.optim.AdamW(0.01, weight_decay=0.1),
    cr.optim.Adam(0.01, l2=0.01, clip_norm=1.0), cr.optim.SGD(0.1, l1=0.001, clip_value=0.5),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
def test_fit_matches_cpu_for_every_optimizer(optimizer):
    import copy

    X, y = cr.datasets.load_builtin("moons", 0)[:2]
    cpu, gpu = _pair(_mlp_layers([2, 16, 8, 1], "tanh"))
    kwargs = dict(loss="bce", epochs=15, batch_size=32, verbose=0)
    h_cpu = cpu.fit(X, y, optimizer=copy.deepcopy(optimizer), rng=3, **kwargs)
    h_gpu = gpu.fit(X, y, optimizer=copy.deepcopy(optimizer), rng=3, **kwargs)
    for a, b in zip(gpu.get_weights(), cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    np.testing.assert_allclose(h_gpu.metric, h_cpu.metric, atol=1e-9)


def test_clip_norm_rescales_a_gradient_whose_float32_squares_overflow_as_on_the_cpu():
    cpu, gpu = _pair(_mlp_layers([3, 4, 1], "tanh"))
    start = cpu.get_weights()
    for net in (cpu, gpu):
        params = net.parameters()
        for p in params:
            p.grad = net.xp.full(p.value.shape, 3e19, dtype=np.float32)  # squares overflow float32
        cr.optim.SGD(1.0, clip_norm=1.0).step(params)
    for a, b, before in zip(gpu.get_weights(), cpu.get_weights(), start):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert not np.allclose(a, before)  # a zeroed gradient would leave the weights as they were


def test_multiclass_fit_with_validation_predict_and_evaluate_match_cpu():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    cpu, gpu = _pair(_mlp_layers([6, 32, 16, 3], "relu"))
    kwargs = dict(loss="cross_entropy", optimizer="adam", epochs=8, batch_size=50, validation_split=0.2,
                  verbose=0, rng=5)
    h_cpu, h_gpu = cpu.fit(X, y, **kwargs), gpu.fit(X, y, **kwargs)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    np.testing.assert_allclose(h_gpu.val_loss, h_cpu.val_loss, rtol=1e-4)
    np.testing.assert_allclose(h_gpu.metric, h_cpu.metric, atol=1e-9)
    np.testing.assert_allclose(h_gpu.val_metric, h_cpu.val_metric, atol=1e-9)
    p_gpu = gpu.predict(X)
    assert isinstance(p_gpu, np.ndarray)
    np.testing.assert_allclose(p_gpu, cpu.predict(X), **F32)
    np.testing.assert_array_equal(gpu.predict_classes(X), cpu.predict_classes(X))
    e_cpu, e_gpu = cpu.evaluate(X, y), gpu.evaluate(X, y)
    assert e_gpu["loss"] == pytest.approx(e_cpu["loss"], rel=1e-4)
    assert e_gpu["accuracy"] == pytest.approx(e_cpu["accuracy"])


def test_regression_with_sample_weights_and_r2_matches_cpu():
    X, y = cr.datasets.sine(64)
    w = np.linspace(0.5, 2.0, 64)
    for out in (1, 2):
        target = y if out == 1 else np.hstack([y, -y])
        cpu, gpu = _pair(_mlp_layers([1, 16, out], "tanh"))
        kwargs = dict(loss="mse", optimizer="adam", epochs=10, batch_size=16, sample_weight=w, verbose=0, rng=1)
        h_cpu, h_gpu = cpu.fit(X, target, **kwargs), gpu.fit(X, target, **kwargs)
        np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
        np.testing.assert_allclose(h_gpu.metric, h_cpu.metric, rtol=1e-4, atol=1e-5)


def test_batchnorm_and_residual_on_gpu_match_cpu():
    def layers():
        rng = np.random.default_rng(0)
        return [cr.Dense(5, 8, rng=rng), cr.BatchNorm(8), cr.ReLU(),
                cr.Residual([cr.Dense(8, 8, rng=rng), cr.Tanh()]), cr.Dense(8, 1, rng=rng)]

    X = np.random.default_rng(3).normal(size=(40, 5))
    y = X[:, :1] ** 2
    cpu, gpu = _pair(layers)
    kwargs = dict(loss="mse", optimizer="sgd", epochs=5, batch_size=10, verbose=0, rng=2)
    h_cpu, h_gpu = cpu.fit(X, y, **kwargs), gpu.fit(X, y, **kwargs)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), **F32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_draws_its_masks_on_the_gpu(dtype):
    # the GPU's masks come from a CuPy generator seeded from the layer's rng: not the CPU's masks
    x = cupy.ones((400, 50), dtype=dtype)
    first, twin = cr.Dropout(0.25, rng=7), cr.Dropout(0.25, rng=7)
    a, b, c = first.forward(x), twin.forward(x), first.forward(x)
    assert isinstance(a, cupy.ndarray) and a.dtype == np.dtype(dtype)
    values = np.unique(a.get())
    np.testing.assert_allclose(values, [0.0, 1 / 0.75], rtol=1e-6)
    assert abs(float((a > 0).mean()) - 0.75) < 0.01
    np.testing.assert_array_equal(a.get(), b.get())
    assert not bool((a == c).all())
    _close(first.backward(cupy.ones_like(x)), c)


def _rel(got, ref) -> float:
    got = backend.to_numpy(got).astype(np.float64)
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def test_float32_matrix_products_are_plain_float32_not_tf32():
    """Dense(784, 256) forward and backward on the GPU in float32 against the CPU in float64
    (the same float32 inputs and weights): plain float32 is off by ~1e-6 at these fan-ins
    (784 forward, 512 for the weight gradient, 256 for the input gradient), TF32's 10-bit
    inputs by ~3e-4, so a TF32 or reduced-precision product fails the 2e-5 bound."""
    assert os.environ.get("CUPY_TF32") in (None, "0"), "CUPY_TF32 switches CuPy's float32 products to TF32"
    rng = np.random.default_rng(8)
    x = rng.standard_normal((512, 784)).astype(np.float32)
    dy = rng.standard_normal((512, 256)).astype(np.float32)
    ref = cr.Sequential([cr.Dense(784, 256, rng=0)], dtype="float64")
    ref.set_weights([w.astype(np.float32) for w in ref.get_weights()])  # weights both can hold exactly
    gpu = cr.Sequential([cr.Dense(784, 256, rng=0)], dtype="float32", device="cuda")
    gpu.set_weights(ref.get_weights())
    out_ref = ref.forward(x.astype(np.float64))
    out_gpu = gpu.forward(cupy.asarray(x))
    dx_ref = ref.backward(dy.astype(np.float64))
    dx_gpu = gpu.backward(cupy.asarray(dy))
    assert out_gpu.dtype == np.float32 and dx_gpu.dtype == np.float32
    errors = {"forward": _rel(out_gpu, out_ref), "input gradient": _rel(dx_gpu, dx_ref)}
    for name, p, q in zip(("weight gradient", "bias gradient"), gpu.parameters(), ref.parameters()):
        errors[name] = _rel(p.grad, q.grad)
    assert max(errors.values()) < 2e-5, errors


def test_float32_product_that_tf32_would_round_is_exact():
    # (1 + 2**-12) rounds to 1 in TF32 (10 mantissa bits); 784 of them sum exactly in float32
    a = cupy.full((256, 784), 1 + 2.0**-12, dtype=cupy.float32)
    b = cupy.ones((784, 256), dtype=cupy.float32)
    assert float(cupy.abs(a @ b - 784 * (1 + 2.0**-12)).max()) == 0.0


def test_float64_gradients_on_gpu_equal_cpu_to_machine_precision():
    cpu, gpu = _pair(_mlp_layers([3, 7, 5, 2], "sigmoid"), dtype="float64")
    X = np.random.default_rng(4).normal(size=(11, 3))
    dy = np.random.default_rng(5).normal(size=(11, 2))
    cpu.forward(X), gpu.forward(cupy.asarray(X))
    dx_cpu, dx_gpu = cpu.backward(dy), gpu.backward(cupy.asarray(dy))
    _close(dx_gpu, dx_cpu, rtol=1e-12, atol=1e-14)
    for p, q in zip(gpu.parameters(), cpu.parameters()):
        _close(p.grad, q.grad, rtol=1e-12, atol=1e-14)


def test_data_moves_to_the_device_once_per_fit(monkeypatch):
    net = cr.mlp([2, 8, 1], device="cuda", rng=0)
    X, y = cr.datasets.load_builtin("moons", 0)[:2]
    moved = []
    original = net.to_device
    monkeypatch.setattr(net, "to_device", lambda a: moved.append(a.shape) or original(a))
    net.fit(X, y, loss="bce", optimizer="adam", epochs=3, batch_size=8, verbose=0)
    assert len(moved) == 2  # X and y, not once per batch or epoch


def test_fit_accepts_features_already_on_the_gpu():
    X, y = cr.datasets.load_builtin("moons", 0)[:2]
    cpu, gpu = _pair(_mlp_layers([2, 8, 1], "relu"))
    kwargs = dict(loss="bce", optimizer="adam", epochs=4, batch_size=16, verbose=0, rng=0, validation_split=0.25)
    h_cpu = cpu.fit(X, y, **kwargs)
    h_gpu = gpu.fit(cupy.asarray(X), y, **kwargs)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    bad = cupy.asarray(X).copy()
    bad[3, 1] = cupy.nan
    with pytest.raises(ValueError, match="nan"):
        gpu.fit(bad, y, loss="bce", epochs=1, verbose=0)


def test_batch_hooks_get_float_losses_and_divergence_restores_weights():
    seen = []

    class Hook(Callback):
        def on_batch_end(self, trainer, batch, logs):
            seen.append(logs["loss"])

    X, y = cr.datasets.load_builtin("moons", 0)[:2]
    net = cr.mlp([2, 8, 1], device="cuda", rng=0)
    net.fit(X, y, loss="bce", optimizer="adam", epochs=1, batch_size=50, callbacks=[Hook()], verbose=0)
    assert seen and all(isinstance(v, float) for v in seen)

    net = cr.mlp([2, 8, 1], activation="relu", device="cuda", rng=0)
    good = net.get_weights()
    with pytest.raises(DivergenceError, match="epoch 1"):
        net.fit(X, y * 1e15, loss="mse", optimizer=cr.optim.SGD(1e10), epochs=5, batch_size=20, verbose=0)
    for restored, before in zip(net.get_weights(), good):  # the last good state: the start of epoch 1
        np.testing.assert_array_equal(restored, before)


def test_cross_entropy_kernel_matches_numpy_in_float64():
    from chainrule import kernels_cuda

    rng = np.random.default_rng(6)
    z = rng.normal(size=(200, 7)) * 5
    y = rng.integers(0, 7, 200)
    losses, grad = kernels_cuda.softmax_cross_entropy(cupy.asarray(z), cupy.asarray(y), 0.5)
    shifted = z - z.max(axis=1, keepdims=True)
    logsum = np.log(np.exp(shifted).sum(axis=1))
    np.testing.assert_allclose(losses.get(), logsum - shifted[np.arange(200), y], rtol=1e-12)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    p[np.arange(200), y] -= 1
    np.testing.assert_allclose(grad.get(), 0.5 * p, rtol=1e-12, atol=1e-15)


def test_targets_already_on_the_gpu_are_checked_there():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 60)
    cpu, gpu = _pair(_mlp_layers([3, 8, 3], "relu"))
    kwargs = dict(loss="cross_entropy", optimizer="adam", epochs=3, batch_size=20, verbose=0, rng=0)
    h_cpu = cpu.fit(X, labels, **kwargs)
    h_gpu = gpu.fit(cupy.asarray(X), cupy.asarray(labels), **kwargs)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    with pytest.raises(ValueError, match="in 0..2"):
        gpu.fit(cupy.asarray(X), cupy.asarray(labels + 1), loss="cross_entropy", epochs=1, verbose=0)
    reg_cpu, reg_gpu = _pair(_mlp_layers([3, 8, 2], "tanh"))
    target = np.stack([X[:, 0], X[:, 1] * X[:, 2]], axis=1)
    h_cpu = reg_cpu.fit(X, target, loss="mse", optimizer="adam", epochs=3, batch_size=20, verbose=0, rng=0)
    h_gpu = reg_gpu.fit(cupy.asarray(X), cupy.asarray(target), loss="mse", optimizer="adam", epochs=3,
                        batch_size=20, verbose=0, rng=0)
    np.testing.assert_allclose(h_gpu.loss, h_cpu.loss, rtol=1e-4)
    np.testing.assert_allclose(h_gpu.metric, h_cpu.metric, rtol=1e-4, atol=1e-5)
    bad = cupy.asarray(target).copy()
    bad[5, 0] = cupy.inf
    with pytest.raises(ValueError, match="inf"):
        reg_gpu.fit(cupy.asarray(X), bad, loss="mse", epochs=1, verbose=0)


def test_environment_describes_the_gpu():
    from chainrule.environment import gpu_description

    gpu = gpu_description()
    assert gpu["available"] and gpu["devices"] and gpu["cuda_runtime"] > 0
    assert all(d["name"] and d["memory_gib"] > 0 for d in gpu["devices"])
