"""Bad input gets a clear ValueError/TypeError naming the problem and value, before training."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def data(rng):
    X = rng.normal(size=(20, 2))
    return X, (X[:, 0] > 0).astype(float)


def _fit(X, y, **kwargs):
    net = cr.mlp([2, 3, 1], "tanh", rng=0)
    before = net.get_weights()
    options = dict(loss="bce", optimizer="sgd", epochs=2, verbose=0)
    options.update(kwargs)
    try:
        net.fit(X, y, **options)
    finally:
        after = net.get_weights()
    return before, after


@pytest.mark.parametrize("mutate, error, message", [
    (lambda X, y: (X[:5], y), ValueError, "X has 5 samples but y has 20"),
    (lambda X, y: (X[:, :1], y), ValueError, "X has 1 features but the network's first layer takes 2"),
    (lambda X, y: (X[0], y), ValueError, "X must have 2 dimensions, got shape \\(2,\\)"),
    (lambda X, y: (np.where(np.arange(40).reshape(20, 2) == 7, np.nan, X), y), ValueError, "X contains nan at index \\(3, 1\\)"),
    (lambda X, y: (X, np.where(np.arange(20) == 4, np.inf, y)), ValueError, "y contains inf at index 4"),
    (lambda X, y: (X, np.where(np.arange(20) == 2, 2.0, y)), ValueError, "BinaryCrossEntropy needs targets in \\[0, 1\\].*2"),
    (lambda X, y: (X[:0], y[:0]), ValueError, "X is empty"),
    (lambda X, y: (np.array([["a", "b"]] * 20), y), TypeError, "X must be numeric"),
    (lambda X, y: (X, np.c_[y, y]), ValueError, "network has 1 output"),
])
def test_bad_data(data, mutate, error, message):
    X, y = mutate(*data)
    net = cr.mlp([2, 3, 1], "tanh", rng=0)
    before = net.get_weights()
    with pytest.raises(error, match=message):
        net.fit(X, y, loss="bce", optimizer="sgd", epochs=2, verbose=0)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"loss": "crossentropyy"}, ValueError, "unknown loss 'crossentropyy'; choose one of"),
    ({"optimizer": "adamm"}, ValueError, "unknown optimizer 'adamm'"),
    ({"epochs": 0}, ValueError, "epochs must be > 0, got 0"),
    ({"epochs": 2.5}, TypeError, "epochs must be an integer, got 2.5"),
    ({"batch_size": 0}, ValueError, "batch_size must be > 0, got 0"),
    ({"batch_size": -3}, ValueError, "batch_size must be > 0, got -3"),
    ({"validation_split": 1.0}, ValueError, "validation_split must be in \\[0, 1\\), got 1.0"),
    ({"validation_split": 0.99}, ValueError, "leaves 20 validation and 0 training"),
    ({"verbose": 5}, ValueError, "verbose must be 0, 1 or 2, got 5"),
    ({"callbacks": [print]}, TypeError, "callbacks must be Callback instances"),
    ({"rng": "seed"}, TypeError, "rng must be None, an int seed"),
    ({"metric": "f1"}, ValueError, "unknown metric 'f1'"),
    ({"sample_weight": np.ones(3)}, ValueError, "sample_weight must have shape \\(20,\\)"),
])
def test_bad_options(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        _fit(*data, **kwargs)


def test_logit_losses_refuse_a_final_squashing_layer(data):
    net = cr.Sequential([cr.Dense(2, 1), cr.Sigmoid()])
    with pytest.raises(ValueError, match="remove the final Sigmoid"):
        net.fit(*data, loss="bce", epochs=1, verbose=0)
    net = cr.Sequential([cr.Dense(2, 2), cr.Softmax()])
    with pytest.raises(ValueError, match="remove the final Softmax"):
        net.fit(data[0], data[1].astype(int), loss="cross_entropy", epochs=1, verbose=0)


def test_layers_that_do_not_fit_together():
    with pytest.raises(ValueError, match="layer 2 \\(Dense\\).*Dense\\(4, 1\\) cannot take 3 input features"):
        cr.Sequential([cr.Dense(2, 3), cr.ReLU(), cr.Dense(4, 1)])
    with pytest.raises(TypeError, match="layer 1 must be a chainrule Layer"):
        cr.Sequential([cr.Dense(2, 3), "relu"])
    with pytest.raises(ValueError, match="at least one layer"):
        cr.Sequential([])


@pytest.mark.parametrize("build, error, message", [
    (lambda: cr.Dense(0, 3), ValueError, "n_in must be > 0, got 0"),
    (lambda: cr.Dense(2, 3, init="zeros"), ValueError, "unknown initialiser 'zeros'"),
    (lambda: cr.mlp([2, 3, 1], activation="swish"), ValueError, "unknown activation 'swish'; choose one of"),
    (lambda: cr.LeakyReLU(alpha=2), ValueError, "alpha must be in \\[0, 1\\), got 2"),
    (lambda: cr.Sequential([cr.Dense(2, 1)], dtype="int32"), ValueError, "dtype must be one of"),
    (lambda: cr.Sequential([cr.Dense(2, 1)], device="tpu"), ValueError, "unknown device 'tpu'"),
    (lambda: cr.losses.Huber(delta=0), ValueError, "Huber delta must be > 0, got 0"),
])
def test_bad_construction(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_predict_checks_input(data):
    net = cr.mlp([2, 1])
    with pytest.raises(ValueError, match="X has 3 features but the network takes 2"):
        net.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X contains nan"):
        net.predict(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (1999, 99), (777, 41)])
def test_large_inputs_name_every_kind_of_non_finite_entry(dtype, bad, where):
    # large contiguous arrays take the quick matrix-vector check first: it must not miss one
    from chainrule.validation import as_float_array

    X = np.random.default_rng(0).standard_normal((2000, 100)).astype(dtype)
    X[where] = bad
    with pytest.raises(ValueError, match=rf"X contains {bad} at index \({where[0]}, {where[1]}\)"):
        as_float_array("X", X, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_finite_inputs_whose_row_sums_overflow_are_accepted(dtype):
    from chainrule.validation import as_float_array

    X = np.full((2000, 100), np.finfo(dtype).max / 4, dtype=dtype)
    X[::2] *= -1  # rows of +max/4 and -max/4: the sums overflow, the entries are finite
    X[:, ::3] *= -1
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_float_array("X", X, dtype=dtype) is X


def test_the_quick_finiteness_check_takes_only_matrices_it_speeds_up():
    from chainrule.validation import _finite_by_product

    assert _finite_by_product(np.zeros((2000, 100)))
    for shape in [(200_000,), (100_000, 4), (4, 50_000), (2000, 100, 1)]:  # vectors, few columns, few rows
        assert not _finite_by_product(np.zeros(shape))  # left to np.isfinite, which is quicker there


def test_finite_values_beyond_float32_are_named_for_a_float32_network():
    """1e39 is finite in float64 but inf in float32: the message says so, not "contains inf"."""
    import warnings

    X = np.array([[0.5, 1.0], [2.0, -1e39]])
    net = cr.mlp([2, 3, 1], "tanh", rng=0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow RuntimeWarning on the way
        with pytest.raises(ValueError, match=r"X has -1e\+39 at index \(1, 1\), beyond the range of float32"):
            net.fit(X, np.array([0.0, 1.0]), loss="bce", epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"X has -1e\+39 at index \(1, 1\), beyond the range of float32"):
            net.predict(X)
        with pytest.raises(ValueError, match=r"X contains inf at index \(1, 1\)"):  # a real infinity stays one
            net.predict(np.array([[0.5, 1.0], [2.0, np.inf]]))


@pytest.mark.parametrize("dtype, scale", [("float64", 1e200), ("float32", 1e25)])
def test_regression_targets_whose_squares_overflow_are_refused_before_training(dtype, scale):
    """fit names the target instead of diverging at epoch 1 with an inf loss (and an overflow
    warning from R²): the same rule as the estimators'."""
    import warnings

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 1)) * scale
    net = cr.mlp([3, 4, 1], "tanh", rng=0, dtype=dtype)
    before = net.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"y has a value of magnitude .*its squared error overflows {dtype} "
                                             r"\(rescale the target\)"):
            net.fit(X, y, loss="mse", epochs=2, verbose=0)
        with pytest.raises(ValueError, match="y_val has a value of magnitude"):
            net.fit(X, y / scale, loss="mse", epochs=2, verbose=0, validation_data=(X, y))
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
