"""Random malformed inputs get a clean ValueError/TypeError (never a crash deep in NumPy)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule as cr
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from chainrule.io import ModelFileError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

shapes = st.tuples(st.integers(0, 6), st.integers(0, 4))
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
weird = st.one_of(
    arrays(np.float64, shapes, elements=floats),
    arrays(np.float64, st.tuples(st.integers(0, 5)), elements=floats),
    arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))),
    st.lists(st.one_of(st.text(max_size=3), st.none(), st.floats()), max_size=5),
    st.text(max_size=5),
    st.none(),
)


def _clean(call):
    try:
        call()
    except (ValueError, TypeError, cr.DivergenceError) as exc:
        # DivergenceError: finite but huge inputs (1e308) overflow the loss, and fit says so
        assert str(exc), "errors must say what is wrong"
        return
    # accepted input: fine, as long as nothing else was raised


@FAST
@given(X=weird, y=weird)
def test_fit_rejects_malformed_input_cleanly(X, y):
    net = cr.mlp([3, 2, 1], rng=0)
    _clean(lambda: net.fit(X, y, loss="bce", epochs=1, verbose=0))


@FAST
@given(X=weird, y=weird)
def test_estimators_reject_malformed_input_cleanly(X, y):
    _clean(lambda: NeuralNetClassifier(epochs=1).fit(X, y))
    _clean(lambda: NeuralNetRegressor(epochs=1).fit(X, y))


@FAST
@given(X=weird)
def test_predict_rejects_malformed_input_cleanly(X):
    net = cr.mlp([3, 1], rng=0)
    _clean(lambda: net.predict(X))


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400))
def test_model_loader_rejects_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("files") / "random.chainrule"
    path.write_bytes(data)
    with pytest.raises(ModelFileError):
        cr.load(path)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 2000), flip=st.integers(0, 2000))
def test_model_loader_rejects_damaged_files(tmp_path_factory, cut, flip):
    path = tmp_path_factory.mktemp("files") / "m.chainrule"
    original = cr.mlp([3, 4, 1], rng=0)
    original.save(path)
    data = bytearray(path.read_bytes())
    if cut < len(data) - 1:
        damaged = bytes(data[:cut])
    else:
        data[flip % len(data)] ^= 0xFF
        damaged = bytes(data)
    path.write_bytes(damaged)
    try:
        loaded = cr.load(path)
    except ModelFileError:
        return
    # the damage left a valid file: then the weights (checksummed) must be the original ones
    for got, want in zip(loaded.get_weights(), original.get_weights()):
        np.testing.assert_array_equal(got, want)
