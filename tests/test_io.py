"""Model files: safetensors weights + JSON architecture, never pickle, atomic, clear errors."""

import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import ModelFileError, load_model, save_model
from chainrule.layers import LAYERS
from conftest import rewrite_record, set_key


def _network_with(layer_cls, rng):
    """Dense(3→4), the layer under test (its example for 4 features), Dense(→2)."""
    layer = layer_cls.example(rng, n_features=4)
    width = layer.output_size(4)
    return cr.Sequential([cr.Dense(3, 4, rng=0), layer, cr.Dense(width, 2, rng=1)])


@pytest.mark.parametrize("layer_cls", LAYERS.classes(), ids=lambda c: c.name)
def test_round_trip_is_exact_for_every_layer_type(layer_cls, rng, tmp_path):
    net = _network_with(layer_cls, rng)
    X = rng.normal(size=(16, 3))
    net.fit(X, rng.integers(0, 2, size=16), loss="cross_entropy", optimizer="adam", epochs=3,
            batch_size=8, verbose=0, rng=0)
    path = net.save(tmp_path / "model.chainrule", classes=["a", "b"]) or tmp_path / "model.chainrule"
    loaded = cr.load(path)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert isinstance(loaded.loss, cr.losses.CrossEntropy)
    assert loaded.metadata == {"classes": ["a", "b"]}
    assert loaded.training_summary["epochs"] == 3


def test_float32_and_loss_options_survive(tmp_path, rng):
    net = cr.mlp([2, 5, 1], "tanh", rng=0, dtype="float32")
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    net.fit(X, y, loss=cr.losses.Huber(delta=0.5), optimizer="adam", epochs=2, verbose=0)
    save_model(net, tmp_path / "m.chainrule")
    loaded = load_model(tmp_path / "m.chainrule")
    assert loaded.dtype == np.float32 and loaded.loss.delta == 0.5
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_weights_load_into_torch_linear_unchanged(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    net = cr.mlp([3, 4, 2], "relu", rng=0)
    net.save(tmp_path / "m.chainrule")
    tensors = load_file(str(tmp_path / "m.chainrule"))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    model.load_state_dict({"0.weight": tensors["layers.0.W"], "0.bias": tensors["layers.0.b"],
                           "2.weight": tensors["layers.2.W"], "2.bias": tensors["layers.2.b"]})
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(model(torch.tensor(X)).detach().numpy(), net.predict(X), rtol=1e-12)


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    import safetensors.numpy

    path = tmp_path / "m.chainrule"
    old = cr.mlp([2, 3, 1], rng=0)
    old.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.numpy, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        cr.mlp([2, 3, 1], rng=1).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.chainrule"]


def _saved(tmp_path):
    path = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p, good: p.write_bytes(b""), "it is empty"),
    (lambda p, good: p.write_bytes(b"abc"), "only 3 bytes"),
    (lambda p, good: p.write_bytes(pickle.dumps({"W": [1, 2]})), "looks like a pickle"),
    (lambda p, good: p.write_bytes(b"PK\x03\x04" + bytes(100)), "pickle or zip"),
    (lambda p, good: p.write_bytes(np.random.default_rng(0).bytes(500)), "not safetensors, or truncated"),
    (lambda p, good: p.write_bytes(good.read_bytes()[:-10]), "truncated, not a complete safetensors file"),
    (lambda p, good: p.write_bytes(good.read_bytes() + bytes(10)), "corrupted"),
    (lambda p, good: p.write_bytes(good.read_bytes()[:-10] + bytes(10)), "checksum"),
    (lambda p, good: p.write_text("W,b\n1,2\n"), "not a chainrule model file"),
])
def test_bad_files_get_a_clear_error(tmp_path, make, message):
    good = _saved(tmp_path)
    bad = tmp_path / "bad.chainrule"
    make(bad, good)
    with pytest.raises(ModelFileError, match=message):
        cr.load(bad)


def test_foreign_safetensors_file(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "other.safetensors"
    save_file({"weight": np.zeros((2, 2))}, str(path))
    with pytest.raises(ModelFileError, match="from another tool"):
        cr.load(path)


def test_missing_file_and_unsaveable_layers(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        cr.load(tmp_path / "nope.chainrule")
    net = cr.Sequential([cr.Dense(2, 2), cr.CustomActivation(np.sin, np.cos, "sine")])
    with pytest.raises(ValueError, match="cannot be saved.*CustomActivation"):
        net.save(tmp_path / "x.chainrule")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        cr.mlp([2, 1]).save(tmp_path / "y.chainrule", scaler=object())


# -- estimators in model files -------------------------------------------------------------------
from sklearn import datasets
from sklearn.exceptions import NotFittedError

from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from chainrule.io import load_network, read_header
from chainrule.models import LinearRegressionGD, LinearSVMGD, LogisticRegressionGD

IRIS_X, IRIS_Y = datasets.load_iris(return_X_y=True)


@pytest.mark.parametrize("make, labels", [
    (lambda: NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=5, random_state=0), IRIS_Y),
    (lambda: NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=5, random_state=0),
     np.array(["setosa", "versicolor", "virginica"])[IRIS_Y]),
    (lambda: NeuralNetClassifier(epochs=5, random_state=0, dtype="float32"), IRIS_Y > 0),
    (lambda: NeuralNetClassifier(loss="hinge", epochs=5, random_state=0), IRIS_Y.astype(float)),
    (lambda: NeuralNetClassifier(loss="cross_entropy", epochs=5, random_state=0), np.where(IRIS_Y > 0, "b", "a")),
    (lambda: LogisticRegressionGD(epochs=20, random_state=0), IRIS_Y + 10),
    (lambda: LinearSVMGD(epochs=20, random_state=0), np.array(["x", "y", "z"], dtype=object)[IRIS_Y]),
    (lambda: NeuralNetRegressor(hidden_layer_sizes=(4, 4), batch_norm=True, dropout=0.2, residual=True,
                                epochs=5, random_state=0), IRIS_X[:, 0]),
    (lambda: NeuralNetRegressor(epochs=5, random_state=0), IRIS_X[:, :2]),
    (lambda: LinearRegressionGD(epochs=20, l2=0.5, random_state=0), IRIS_X[:, 3]),
], ids=["ints", "strings", "bools-float32", "hinge-floats", "softmax-binary", "logistic", "svm-objects",
        "deep-regressor", "multi-output", "linear"])
def test_estimator_round_trip(make, labels, tmp_path):
    X = IRIS_X
    estimator = make().fit(X, labels)
    path = estimator.save(tmp_path / "est.chainrule", target="species")
    loaded = cr.load(path)
    assert type(loaded) is type(estimator) and loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    if hasattr(estimator, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
        assert loaded.classes_.dtype == estimator.classes_.dtype
    assert loaded.loss_curve_ == estimator.loss_curve_ and loaded.n_iter_ == estimator.n_iter_
    assert loaded.score(X, labels) == estimator.score(X, labels)
    network = load_network(path)
    assert isinstance(network, cr.Sequential) and network.metadata == {"target": "species"}
    assert read_header(path)["estimator"]["class"] == type(estimator).__name__


def test_loaded_estimator_keeps_training_and_feature_names(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(IRIS_X, columns=["sl", "sw", "pl", "pw"])
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(frame, IRIS_Y)
    clf.save(tmp_path / "m.chainrule")
    loaded = cr.load(tmp_path / "m.chainrule")
    assert list(loaded.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    loaded.partial_fit(frame, IRIS_Y)
    clf.partial_fit(frame, IRIS_Y)
    assert loaded.n_iter_ == 4 and len(loaded.loss_curve_) == 4
    # a fresh optimizer after loading: close to, but not the same as, the uninterrupted run
    assert loaded.loss_curve_[-1] == pytest.approx(clf.loss_curve_[-1], rel=0.2)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(frame.rename(columns={"sl": "other"}))


def test_unsaveable_estimators(tmp_path):
    from sklearn.linear_model import LinearRegression

    with pytest.raises(NotFittedError):
        NeuralNetClassifier().save(tmp_path / "a.chainrule")
    with pytest.raises(TypeError, match="LinearRegression is not one of chainrule's estimators"):
        save_model(LinearRegression().fit(IRIS_X, IRIS_Y), tmp_path / "b.chainrule")
    sizes = NeuralNetClassifier(hidden_layer_sizes=np.array([3, 2]), epochs=1).fit(IRIS_X, IRIS_Y)
    assert cr.load(sizes.save(tmp_path / "s.chainrule")).hidden_layer_sizes == (3, 2)
    (tmp_path / "s.chainrule").unlink()
    clf = NeuralNetClassifier(epochs=1, random_state=np.random.RandomState(0)).fit(IRIS_X, IRIS_Y)
    clf.save(tmp_path / "rs.chainrule")  # a RandomState only seeds future fits: stored as None
    assert cr.load(tmp_path / "rs.chainrule").random_state is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rs.chainrule"]



@pytest.mark.parametrize("keys, value, message", [
    (["estimator", "class"], "os.system", "unknown estimator class 'os.system'"),
    (["estimator", "params", "exec"], "print(1)", "has no parameter\\(s\\) exec"),
    (["estimator", "params", "activation"], "swish", "unknown activation"),
    (["estimator", "state", "classes_", "values"], [0, 1], "2 classes need 1 network output.s., the network has 3"),
    (["estimator", "state", "classes_", "values"], ["a", "b", "c"], "classes_ values do not fit dtype <i8"),
    (["estimator", "state", "classes_", "dtype"], "<U99999999", "unsupported dtype"),
    (["estimator", "state", "n_features_in_"], 7, "does not match the network's 4 inputs"),
    (["estimator", "version"], 99, "unsupported version 99 .*reads versions 1 and 2.; it was written by a newer chainrule: upgrade"),
    (["estimator", "version"], 0, "unsupported version 0$"),
    (["layers", 0, "type"], "__import__", "unknown layer '__import__'"),
    (["layers", 0, "config", "n_out"], 10**12, "invalid .*cannot take 1000000000000 input features"),
    (["layers", 0, "config", "n_out"], 6, "architecture record is invalid .*cannot take 6 input features"),
    (["dtype"], "float32", "is F64, the model is float32"),
    (["dtype"], "object", "unsupported dtype 'object'"),
    (["loss", "name"], "evil", "the loss record is invalid"),
    (["metadata"], [1, 2], "metadata record must be an object"),
    (["format"], "other", "unknown format marker 'other'"),
    (["format_version"], 3, "format version 3 is not supported .*written by a newer chainrule .*upgrade"),
])
def test_damaged_or_forged_records_get_clear_errors(tmp_path, keys, value, message):
    clf = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=2, random_state=0).fit(IRIS_X, IRIS_Y)
    good = clf.save(tmp_path / "good.chainrule")
    bad = rewrite_record(good, tmp_path / "bad.chainrule", set_key(*keys, value=value))
    with pytest.raises(ModelFileError, match=message):
        cr.load(bad)


def test_save_path_errors(tmp_path):
    net = cr.mlp([2, 1], rng=0)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        net.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="directory does not exist"):
        net.save(tmp_path / "missing" / "m.chainrule")
    with pytest.raises(ModelFileError, match="is a directory"):
        cr.load(tmp_path)


def test_metadata_and_training_summary_round_trip(tmp_path):
    net = cr.mlp([2, 3, 1], "tanh", rng=0)
    X = np.random.default_rng(0).normal(size=(30, 2))
    net.fit(X, (X[:, 0] > 0).astype(int), loss="bce", optimizer="adam", epochs=4, verbose=0)
    extras = {"scaler_mean": [0.5, -1.0], "classes": ["no", "yes"], "notes": {"author": "me", "nan": None}}
    net.save(tmp_path / "m.chainrule", **extras)
    loaded = cr.load(tmp_path / "m.chainrule")
    assert loaded.metadata == extras
    assert loaded.training_summary["epochs"] == 4 and loaded.training_summary["metric"] == "accuracy"
    header = read_header(tmp_path / "m.chainrule")
    assert header["chainrule_version"] == cr.__version__ and header["dtype"] == "float64"
    assert loaded.training_summary["restored_epoch"] is None


def test_the_training_summary_names_the_epoch_early_stopping_restored(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.5 * rng.normal(size=120)
    net = cr.mlp([3, 16, 1], rng=0)
    history = net.fit(X[:90], y[:90], loss="mse", optimizer=cr.optim.Adam(0.05), epochs=300, batch_size=16,
                      validation_data=(X[90:], y[90:]), verbose=0, callbacks=[cr.EarlyStopping(patience=5)])
    assert history.best_epoch < history.epochs - 1
    net.save(tmp_path / "m.chainrule")
    summary = cr.load(tmp_path / "m.chainrule").training_summary
    assert summary["restored_epoch"] == history.best_epoch + 1 and summary["epochs"] == history.epochs
    assert summary["restored_val_loss"] == pytest.approx(net.evaluate(X[90:], y[90:])["loss"], rel=1e-12)
    assert summary["final_val_loss"] == history.val_loss[-1]  # the last epoch's, as the name says
    # monitoring the training loss restores the weights an epoch started from: no validation
    # loss was measured on them, so none is recorded
    net = cr.mlp([3, 16, 1], rng=0)
    history = net.fit(X[:90], y[:90], loss="mse", optimizer=cr.optim.Adam(0.05), epochs=300, batch_size=16,
                      validation_data=(X[90:], y[90:]), verbose=0,
                      callbacks=[cr.EarlyStopping(monitor="loss", patience=3)])
    net.save(tmp_path / "t.chainrule")
    summary = cr.load(tmp_path / "t.chainrule").training_summary
    assert summary["restored_epoch"] == history.best_epoch + 1 and summary["restored_val_loss"] is None


# -- where a loaded network goes, and what a loaded estimator's parameters say --------------------------
def test_a_file_loads_on_the_cpu_unless_another_device_is_asked_for(tmp_path):
    from chainrule import backend

    net = cr.mlp([4, 5, 3], rng=0)
    clf = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=2, random_state=0).fit(IRIS_X, IRIS_Y)
    net_path, clf_path = tmp_path / "net.chainrule", clf.save(tmp_path / "clf.chainrule")
    net.save(net_path)
    for device in (None, "cpu", "CPU"):
        assert cr.load(net_path, device=device).device == "cpu"
        assert load_network(clf_path, device=device).device == "cpu"
        loaded = load_model(clf_path, device=device)
        assert loaded.network_.device == loaded.get_params()["device"] == "cpu"
    for load in (cr.load, load_model, load_network):
        with pytest.raises(ValueError, match="unknown device 'tpu'"):
            load(net_path, device="tpu")
    if not backend.gpu_available():  # a (fake) GPU: tests/fakecupy/flows.py, load_onto_the_device
        with pytest.raises(RuntimeError, match="device='cuda'"):
            cr.load(tmp_path / "no such file", device="cuda")  # said before the file is read


def test_a_loaded_estimator_has_the_dtype_of_its_network(tmp_path):
    default = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=2, random_state=0).fit(IRIS_X, IRIS_Y)
    path = default.save(tmp_path / "default.chainrule")
    assert read_header(path)["estimator"]["params"]["dtype"] is None and read_header(path)["dtype"] == "float64"
    assert cr.load(path).get_params()["dtype"] is None  # None still means the network's float64 here
    # files written before dtype=None was the default record "float64"; one whose record
    # disagrees with its weights (save did not always refuse a dtype set after the fit) gets the weights'
    old = rewrite_record(path, tmp_path / "old.chainrule", set_key("estimator", "params", "dtype", value="float64"))
    assert cr.load(old).get_params()["dtype"] == "float64"
    single = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=2, dtype="float32", random_state=0).fit(IRIS_X, IRIS_Y)
    single_path = single.save(tmp_path / "single.chainrule")
    for dtype in (None, "float64"):
        edit = set_key("estimator", "params", "dtype", value=dtype)
        odd = rewrite_record(single_path, tmp_path / "odd.chainrule", edit)
        loaded = cr.load(odd)
        assert loaded.get_params()["dtype"] == "float32" and loaded.network_.dtype == np.float32
        np.testing.assert_array_equal(loaded.predict_proba(IRIS_X), single.predict_proba(IRIS_X))
        loaded.partial_fit(IRIS_X, IRIS_Y)


def test_a_loaded_estimator_predicts_with_the_loss_its_network_was_fitted_with(tmp_path):
    """A file whose ``loss`` parameter differs from its network's loss (written before save
    refused a loss set after the fit): predictions follow the network's (the file's loss record)."""
    y = IRIS_Y > 0
    clf = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=5, random_state=0).fit(IRIS_X, y)  # bce
    path = clf.save(tmp_path / "clf.chainrule")
    odd = rewrite_record(path, tmp_path / "odd.chainrule", set_key("estimator", "params", "loss", value="hinge"))
    loaded = cr.load(odd)
    assert loaded.get_params()["loss"] == "hinge" and hasattr(loaded, "predict_proba")
    np.testing.assert_array_equal(loaded.predict_proba(IRIS_X), clf.predict_proba(IRIS_X))
    np.testing.assert_array_equal(loaded.predict(IRIS_X), clf.predict(IRIS_X))
    with pytest.raises(ValueError, match=r"loss \('bce' -> 'hinge'\) changed"):
        loaded.partial_fit(IRIS_X, y)
