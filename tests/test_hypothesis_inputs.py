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

_IRIS = np.random.default_rng(0).normal(size=(30, 4))
FITTED = [
    NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=1, random_state=0).fit(_IRIS, np.arange(30) % 3),
    NeuralNetRegressor(hidden_layer_sizes=(3,), epochs=1, random_state=0).fit(_IRIS, _IRIS[:, 0]),
]

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
# what scikit-learn's own validation says of such inputs on the way to refusing them: a column y,
# a cast of inf or huge values
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
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


@FAST
@given(X=weird)
def test_fitted_estimators_reject_malformed_input_cleanly(X):
    y = np.zeros(len(X)) if hasattr(X, "__len__") else X
    for estimator in FITTED:
        _clean(lambda est=estimator: est.predict(X))
        _clean(lambda est=estimator: est.partial_fit(X, y))


cells = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4),
                  st.none(), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=8),
       names=st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=4),
       raw=st.binary(max_size=200))
def test_table_loader_rejects_malformed_tables_cleanly(tmp_path_factory, rows, names, raw):
    import pandas as pd

    from chainrule.datasets import load_table

    folder = tmp_path_factory.mktemp("tables")
    width = len(names)
    frame = pd.DataFrame([(r + [None] * width)[:width] for r in rows], columns=names) if rows else pd.DataFrame()
    frame.to_csv(folder / "t.csv", index=False)
    (folder / "raw.csv").write_bytes(raw)
    for path in (folder / "t.csv", folder / "raw.csv"):
        for task in ("auto", "classification", "regression"):
            try:
                table = load_table(path, names[-1], task=task)
            except (ValueError, TypeError):
                continue
            except OSError as exc:  # bytes that start like zstd ask for the optional zstandard package
                assert "needs the zstandard package" in str(exc)
                continue
            assert np.isfinite(table.X).all() and len(table.y) == table.X.shape[0]


def _json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=False),
                        st.text(max_size=6))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["estimator", "layers", "loss", "metadata", "dtype", "training"]),
       inner=st.sampled_from([None, "class", "params", "state", "version", 0]), value=_json_values())
def test_model_loader_rejects_forged_records_cleanly(tmp_path_factory, key, inner, value):
    """Random JSON put into a record of a valid file: a ModelFileError, or a model that works."""
    import json

    from safetensors.numpy import load_file, save_file

    from chainrule.io import read_header
    from chainrule.io_format import checksum

    folder = tmp_path_factory.mktemp("forged")
    good = FITTED[0].save(folder / "good.chainrule")
    document = read_header(good)
    target = document.get(key)
    if inner is not None and isinstance(target, dict) and isinstance(inner, str):
        target[inner] = value
    elif inner == 0 and isinstance(target, list) and target:
        target[0] = value
    else:
        document[key] = value
    tensors = load_file(str(good))
    document["sha256"] = checksum(document, tensors)  # as a forger would: the checks below must hold anyway
    save_file(tensors, str(folder / "bad.chainrule"), metadata={"chainrule": json.dumps(document)})
    try:
        model = cr.load(folder / "bad.chainrule")
    except ModelFileError as exc:
        assert str(exc)
        return
    model.predict(np.zeros((2, 4)))


def test_outputs_that_overflow_are_an_error_not_inf():
    """Found by hypothesis: finite inputs near 1e308 overflow the first matrix product."""
    huge = np.full((1, 4), 7e307)
    for estimator in FITTED:
        with pytest.raises(ValueError, match=r"outputs are not finite .*largest \|X\| = 7e\+307"):
            estimator.predict(huge)
    net = cr.mlp([4, 3, 2], rng=0)
    with pytest.raises(ValueError, match="outputs are not finite"):
        net.predict_classes(huge)
    assert np.isfinite(net.predict(np.full((2, 4), 1e3))).all()  # large but representable: fine
