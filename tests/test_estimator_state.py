"""An estimator's fitted state always describes the network it holds: a failed fit leaves
it as it was, save refuses a state that does not match, and a model file whose record
contradicts its network (forged, checksum and all) does not load."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from chainrule.io import ModelFileError
from conftest import rewrite_record, set_key

X, Y = load_iris(return_X_y=True)


def _state(estimator):
    return {key: value for key, value in vars(estimator).items() if key.endswith("_") and not key.startswith("_")}


def _same_state(before, after):
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value)
        else:
            assert after[key] is value or after[key] == value, key


@pytest.mark.parametrize("refit", [
    lambda m: m.fit(X[:, :3], Y, sample_weight=np.zeros(len(Y))),         # new feature count, refused late
    lambda m: m.fit(X[:100], Y[:100], sample_weight=-np.ones(100)),        # 2 classes, refused late
    lambda m: m.fit(X, np.array(["a", "b", "c"])[Y], sample_weight=np.zeros(len(Y))),  # new labels
    lambda m: m.set_params(batch_norm=True, batch_size=1).fit(X, Y),       # a batch BatchNorm cannot train on
], ids=["features", "two_classes", "string_labels", "batch_norm_batch"])
def test_a_failed_classifier_fit_leaves_the_fitted_estimator_as_it_was(tmp_path, refit):
    model = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=3, random_state=0).fit(X, Y)
    before, predicted = _state(model), model.predict_proba(X)
    with pytest.raises(ValueError):
        refit(model)
    model.set_params(batch_norm=False, batch_size=32)
    _same_state(before, _state(model))
    np.testing.assert_array_equal(model.predict_proba(X), predicted)
    loaded = cr.load(model.save(tmp_path / "m.chainrule"))  # the file loads and predicts the same
    np.testing.assert_array_equal(loaded.predict_proba(X), predicted)


def test_a_failed_regressor_fit_keeps_its_outputs(tmp_path):
    targets = X[:, :2]
    model = NeuralNetRegressor(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, targets)
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        model.fit(X, X[:, 0], sample_weight=np.zeros(len(X)))
    assert model.n_outputs_ == 2 and model.predict(X[:2]).shape == (2, 2)
    assert cr.load(model.save(tmp_path / "r.chainrule")).predict(X[:2]).shape == (2, 2)


def test_a_failed_first_partial_fit_leaves_the_estimator_unfitted():
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), random_state=0)
    with pytest.raises(ValueError):
        model.partial_fit(X, Y, classes=[0, 1, 2], sample_weight=np.zeros(len(Y)))
    assert not hasattr(model, "classes_") and not hasattr(model, "n_features_in_")
    model.partial_fit(X, Y, classes=[0, 1, 2])  # and can then be fitted
    assert list(model.classes_) == [0, 1, 2]


def test_a_diverged_fit_keeps_the_network_it_trained():
    model = NeuralNetRegressor(hidden_layer_sizes=(3,), epochs=3, random_state=0).fit(X, X[:, :2])
    with pytest.raises(cr.DivergenceError):
        model.fit(X * 1e300, X[:, 0])
    assert model.n_outputs_ == 1 and model.network_.n_outputs == 1 and model.predict(X[:2]).shape == (2,)


def test_save_refuses_a_state_that_does_not_match_the_network(tmp_path):
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, Y)
    model.n_features_in_ = 3
    with pytest.raises(ValueError, match="fitted state does not match its network .n_features_in_=3, the network "
                                         "takes 4.; fit it again"):
        model.save(tmp_path / "m.chainrule")
    assert not (tmp_path / "m.chainrule").exists()


@pytest.mark.parametrize("params", [
    {"dtype": np.float32}, {"dtype": np.dtype("float32")}, {"early_stopping": np.bool_(False)},
], ids=["dtype_type", "dtype", "numpy_bool"])
def test_numpy_valued_parameters_are_saved(tmp_path, params):
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0, **params).fit(X, Y)
    loaded = cr.load(model.save(tmp_path / "m.chainrule"))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.network_.dtype == model.network_.dtype


def test_labels_that_cannot_be_stored_are_named(tmp_path):
    days = np.array(["2026-01-01", "2026-01-02"], dtype="datetime64[D]")[(Y > 0).astype(int)]
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, days)
    with pytest.raises(TypeError, match=r"class labels of dtype datetime64\[D\] cannot be stored"):
        model.save(tmp_path / "m.chainrule")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, Y)
    reg = NeuralNetRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0, batch_norm=True).fit(X, X[:, 0])
    return clf.save(folder / "clf.chainrule"), reg.save(folder / "reg.chainrule")


@pytest.mark.parametrize("which, edit, message", [
    (0, set_key("estimator", "params", "hidden_layer_sizes", value=[4]),
     r"the parameters \(hidden_layer_sizes=\(4,\), .*\) build another network than the file's layers"),
    (0, set_key("estimator", "params", "activation", value="tanh"), "build another network"),
    (1, set_key("estimator", "params", "batch_norm", value=False), "build another network"),
    (0, set_key("loss", value={"name": "mse", "config": {}}),
     "NeuralNetClassifier needs a classification loss, the network was trained with 'mse'"),
    (0, set_key("loss", value=None), "the file has no loss record"),
    (0, set_key("loss", value={"name": "bce", "config": {}}), "loss 'bce' is for 2 classes, the record has 3"),
    (1, set_key("loss", value={"name": "cross_entropy", "config": {}}),
     "NeuralNetRegressor needs a regression loss, the network was trained with 'cross_entropy'"),
    (0, lambda doc: doc["layers"].append({"type": "softmax", "config": {}}), "applies the softmax itself"),
    (0, set_key("estimator", "state", "classes_", value={"values": [0.5, 1.5, 2.7], "dtype": "<i8"}),
     r"classes_ values do not fit dtype <i8: \[0.5, 1.5, 2.7\]"),
    (0, set_key("estimator", "state", "classes_", value={"values": ["ab", "cd", "ef"], "dtype": "<U1"}),
     "classes_ values do not fit dtype <U1"),
], ids=["hidden_sizes", "activation", "batch_norm", "mse", "no_loss", "bce_3_classes", "regressor_ce",
        "softmax_head", "float_labels_as_int", "truncated_strings"])
def test_a_record_that_contradicts_its_network_does_not_load(tmp_path, saved, which, edit, message):
    bad = rewrite_record(saved[which], tmp_path / "bad.chainrule", edit)
    with pytest.raises(ModelFileError, match=message):
        cr.load(bad)


def test_a_negative_running_variance_does_not_load(tmp_path, saved):
    from safetensors.numpy import load_file, save_file

    from chainrule.io import read_header
    from chainrule.io_format import checksum

    document, tensors = read_header(saved[1]), load_file(str(saved[1]))
    (name,) = [key for key in tensors if key.endswith("running_var")]
    tensors[name] = tensors[name].copy()
    tensors[name][0] = -1.0
    document["sha256"] = checksum(document, tensors)
    save_file(tensors, str(tmp_path / "bad.chainrule"), metadata={"chainrule": json.dumps(document)})
    with pytest.raises(ModelFileError, match=rf"{name} is invalid \(running_var holds -1: a variance cannot be negative"):
        cr.load(tmp_path / "bad.chainrule")
    net = cr.load(saved[1]).network_
    weights = net.get_weights()
    weights[-1] = -np.ones_like(weights[-1])
    with pytest.raises(ValueError, match="running_var.*a variance cannot be negative"):
        net.set_weights(weights)
