"""Every registered layer's backward against central differences in float64, and the
layer contract (assigned gradients, backward-before-forward raises)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import LAYERS

from conftest import numerical_gradient, relative_error

TOL = 1e-7


def _away_from_kinks(x):
    """Move inputs at least 0.1 away from 0, where ReLU-like derivatives jump."""
    return np.where(np.abs(x) < 0.1, np.sign(x + 1e-12) * 0.1 + x, x)


@pytest.mark.parametrize("layer_cls", LAYERS.classes(), ids=lambda c: c.name)
def test_layer_gradients_match_central_differences(layer_cls, rng):
    layer = layer_cls.example(rng, n_features=4)
    net = cr.Sequential([layer], dtype="float64") if layer.parameters() else None
    x = _away_from_kinks(rng.normal(size=(6, 4)))
    upstream = rng.normal(size=layer.forward(x).shape)

    def objective():
        return float((layer.forward(x, training=True) * upstream).sum())

    objective()
    dx = layer.backward(upstream)
    assert relative_error(dx, numerical_gradient(objective, x)) < TOL, "dL/dx"
    for p in layer.parameters():
        objective()
        layer.backward(upstream)
        analytic = p.grad.copy()
        assert relative_error(analytic, numerical_gradient(objective, p.value)) < TOL, p.name
    del net


@pytest.mark.parametrize("layer_cls", LAYERS.classes(), ids=lambda c: c.name)
def test_backward_before_forward_raises(layer_cls, rng):
    layer = layer_cls.example(rng, n_features=4)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, layer.output_size(4))))
    layer.forward(rng.normal(size=(2, 4)), training=False)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, layer.output_size(4))))


def test_gradients_are_assigned_not_accumulated(rng):
    layer = cr.Dense(3, 2, rng=0)
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer.forward(x)
    layer.backward(dy)
    first = layer.W.grad.copy()
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_array_equal(layer.W.grad, first)
    np.testing.assert_allclose(layer.W.grad, dy.T @ x)
    np.testing.assert_allclose(layer.b.grad, dy.sum(axis=0))


def test_dense_layout_is_lecture_and_pytorch(rng):
    layer = cr.Dense(3, 2, rng=0)
    assert layer.W.value.shape == (2, 3) and layer.b.value.shape == (2,)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer.forward(x), x @ layer.W.value.T + layer.b.value)
    single = layer.forward(x[:1])[0]
    np.testing.assert_allclose(single, layer.W.value @ x[0] + layer.b.value)  # z = W x + b


def test_dense_from_arrays_and_no_bias():
    layer = cr.Dense.from_arrays([[1.0, 2.0]], b=None)
    assert layer.b is None and layer.parameters() == [layer.W]
    np.testing.assert_allclose(layer.forward(np.array([[3.0, 4.0]])), [[11.0]])
    with pytest.raises(ValueError, match="b must have shape"):
        cr.Dense.from_arrays([[1.0, 2.0]], b=[1.0, 2.0])


def test_custom_activation_equals_builtin_xtanh(rng):
    custom = cr.CustomActivation(lambda z: z * np.tanh(z), lambda z: np.tanh(z) + z * (1 - np.tanh(z) ** 2), "xtanh")
    builtin = cr.XTanh()
    z, da = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(custom.forward(z), builtin.forward(z))
    np.testing.assert_allclose(custom.backward(da), builtin.backward(da))


def test_custom_activation_gradient_checks(rng):
    act = cr.CustomActivation(np.sin, np.cos, "sin")
    z = rng.normal(size=(4, 3))
    up = rng.normal(size=(4, 3))

    def objective():
        return float((act.forward(z) * up).sum())

    objective()
    assert relative_error(act.backward(up), numerical_gradient(objective, z)) < TOL


def test_sigmoid_is_stable_for_large_inputs():
    z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    a = cr.Sigmoid().forward(z)
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, [[0.0, np.exp(-40.0), 0.5, 1.0, 1.0]], rtol=1e-12, atol=0)


def test_softmax_rows_sum_to_one_and_are_shift_invariant(rng):
    z = rng.normal(size=(4, 5)) * 50
    a = cr.Softmax().forward(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(cr.Softmax().forward(z + 1000.0), a)


@pytest.mark.parametrize("name", ["normal", "small_normal", "uniform", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform"])
def test_initializers_have_their_documented_spread(name):
    W = cr.Dense(400, 300, init=name, rng=0).W.value
    expected_std = {
        "normal": 1.0, "small_normal": 0.01, "uniform": np.sqrt(1 / 3),
        "glorot_normal": np.sqrt(2 / 700), "glorot_uniform": np.sqrt(2 / 700),
        "he_normal": np.sqrt(2 / 400), "he_uniform": np.sqrt(2 / 400),
    }[name]
    assert abs(W.std() / expected_std - 1) < 0.02
    assert abs(W.mean()) < 0.02 * expected_std * 10
    if name == "uniform":
        assert W.min() >= -1 and W.max() <= 1


def test_same_seed_same_weights():
    a, b = cr.mlp([3, 5, 2], rng=7), cr.mlp([3, 5, 2], rng=7)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_all_layers_importable_from_top_level():
    for name in ["Dense", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Identity", "Softmax", "XTanh", "CustomActivation"]:
        assert hasattr(cr, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_matches_maximum_with_zero_for_every_shape_and_dtype(dtype):
    # ReLU compares with blocks of a shared array of zeros (NumPy's quick loop): every shape,
    # size and dtype must give np.maximum(z, 0) exactly (NaN stays NaN), in a new array
    import chainrule as cr

    relu = cr.ReLU()
    rng = np.random.default_rng(0)
    from chainrule.layers.activations import ZEROS_BLOCK

    for shape in [(4, 3), (4, 3), (7, 3), (2, 5), (5,), (2, 3, 4), (3, ZEROS_BLOCK + 7), (ZEROS_BLOCK,)]:
        z = rng.standard_normal(shape).astype(dtype)
        z.reshape(-1)[0], z.reshape(-1)[-1] = np.nan, -np.inf
        before = z.copy()
        a = relu.forward(z)
        assert a.dtype == dtype and a is not z
        np.testing.assert_array_equal(a, np.maximum(before, 0))
        np.testing.assert_array_equal(z, before)
    z64 = relu.forward(np.array([[-1.0, 2.0]]))
    z32 = relu.forward(np.array([[-1.0, 2.0]], dtype=np.float32))
    assert z64.dtype == np.float64 and z32.dtype == np.float32
    np.testing.assert_array_equal(z32, [[0.0, 2.0]])
    strided = np.arange(-6.0, 6.0).reshape(3, 4)[:, ::2]  # not contiguous: the plain path
    np.testing.assert_array_equal(relu.forward(strided), np.maximum(strided, 0))
    for odd in (np.array(-2.0), np.array([[-1.0, 3.0]], dtype=">f8")):  # 0-d, byte-swapped
        got, want = relu.forward(odd), np.maximum(odd, 0)
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
