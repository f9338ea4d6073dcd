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


# -- from a review of the checks above ------------------------------------------------------------

def test_a_custom_multiclass_loss_round_trips(tmp_path, monkeypatch):
    from chainrule.losses import LOSSES, CrossEntropy

    monkeypatch.setattr(LOSSES, "_classes", dict(LOSSES._classes))  # the class registers only for this test
    monkeypatch.setattr(LOSSES, "_canonical", dict(LOSSES._canonical))

    class RenamedCrossEntropy(CrossEntropy):
        name, aliases = "renamed_ce", ()

    model = NeuralNetClassifier(hidden_layer_sizes=(4,), loss="renamed_ce", epochs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(cr.load(model.save(tmp_path / "m.chainrule")).predict_proba(X),
                                  model.predict_proba(X))
    # a multiclass loss gives two classes two outputs (one logit is a binary loss's form), by its task
    binary = NeuralNetClassifier(hidden_layer_sizes=(4,), loss="renamed_ce", epochs=2, random_state=0)
    assert binary.fit(X, Y > 0).network_.n_outputs == 2


def test_a_record_claiming_huge_hidden_layers_is_refused_without_building_them(tmp_path, saved):
    bad = rewrite_record(saved[0], tmp_path / "bad.chainrule",
                         set_key("estimator", "params", "hidden_layer_sizes", value=[10**6, 10**6]))
    with pytest.raises(ModelFileError, match=r"hidden_layer_sizes=\(1000000, 1000000\).*build another network.*"
                                             r"chainrule.load_network\(path\) reads the network alone"):
        cr.load(bad)  # a MemoryError (or gigabytes filled) if the check built the claimed network


def test_a_class_label_that_is_not_unicode_text_is_refused_at_load(tmp_path, saved):
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, np.where(Y > 0, "b", "a"))
    path = model.save(tmp_path / "labels.chainrule")
    bad = rewrite_record(path, tmp_path / "surrogate.chainrule",
                         set_key("estimator", "state", "classes_", "values", value=["\ud800a", "b"]))
    with pytest.raises(ModelFileError, match="classes_ holds a label that is not valid Unicode text"):
        cr.load(bad)


def test_a_record_claiming_many_hidden_layers_is_refused_before_any_network_is_built(tmp_path, saved):
    import time

    bad = rewrite_record(saved[0], tmp_path / "many.chainrule",
                         set_key("estimator", "params", "hidden_layer_sizes", value=list(range(10, 1410))))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="hidden_layer_sizes records 1400 hidden layers but the file's network "
                                             "has 3 layers in all"):
        cr.load(bad)  # a reference network of 1400 layers of ranks up to 1400: ~12 GB and 40 s before
    assert time.perf_counter() - start < 5


def test_a_long_unknown_name_in_a_record_is_shown_shortened(tmp_path, saved):
    bad = rewrite_record(saved[0], tmp_path / "wide.chainrule",
                         set_key("estimator", "params", "activation", value="t" * 100_000))
    with pytest.raises((ModelFileError, ValueError), match=r"unknown activation 'ttt+\.\.\.t+'") as caught:
        cr.load(bad)
    assert len(str(caught.value)) < 2000


def _with_bias_before_batch_norm(layers: list) -> list:
    """``layers`` as files saved before 2026-12-02 had them: a Dense feeding a BatchNorm has a bias."""
    out = []
    for layer, following in zip(layers, [*layers[1:], None]):
        if isinstance(layer, cr.Dense) and isinstance(following, cr.BatchNorm):
            layer = cr.Dense.from_arrays(layer.W.value, np.full(layer.W.value.shape[0], 0.25))
        elif isinstance(layer, cr.Residual):
            layer.block = _with_bias_before_batch_norm(layer.block)
        out.append(layer)
    return out


@pytest.mark.parametrize("residual", [False, True])
def test_a_batch_norm_estimator_saved_with_the_older_layout_still_loads(tmp_path, residual):
    model = NeuralNetRegressor(hidden_layer_sizes=(5, 5), batch_norm=True, residual=residual, epochs=2,
                               random_state=0).fit(X, X[:, 0])
    model.network_.layers = _with_bias_before_batch_norm(model.network_.layers)
    loaded = cr.load(model.save(tmp_path / "old.chainrule"))
    biased = [layer for layer in loaded.network_.layers if isinstance(layer, cr.Dense) and layer.b is not None]
    assert len(biased) >= 2  # the hidden Dense kept its bias, as the file has it
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.partial_fit(X, X[:, 0])  # and it trains on


def test_a_negative_variance_inside_a_residual_block_is_refused():
    net = cr.mlp([3, 4, 4, 1], rng=0, batch_norm=True, residual=True)
    weights = net.get_weights()
    weights[-1] = -np.ones_like(weights[-1])  # the block's BatchNorm running_var
    with pytest.raises(ValueError, match=r"1.running_var\): running_var holds -1: a variance cannot be negative"):
        net.set_weights(weights)


def test_save_after_a_loss_change_names_the_change():
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, (Y > 0).astype(int))
    model.set_params(loss="cross_entropy")
    with pytest.raises(ValueError, match=r"loss \('bce' -> 'cross_entropy'\) changed since it was built"):
        model.save("never-written.chainrule")


def test_python_float_as_dtype_is_saved(tmp_path):
    model = NeuralNetRegressor(hidden_layer_sizes=(3,), dtype=float, epochs=2, random_state=0).fit(X, X[:, 0])
    assert cr.load(model.save(tmp_path / "m.chainrule")).get_params()["dtype"] == "float64"


def test_a_partial_fit_refused_for_its_data_leaves_the_optimizer_as_it_was():
    """X beyond float32's range is refused before the optimizer takes the new learning rate:
    restoring the estimator's attributes would not restore the optimizer object."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(60, 3))
    labels = (data[:, 0] > 0).astype(int)
    model = NeuralNetClassifier(hidden_layer_sizes=(4,), dtype="float32", optimizer="sgd", learning_rate=0.01,
                                random_state=0).partial_fit(data, labels, classes=[0, 1])
    model.set_params(learning_rate=1.0)
    huge = data.copy()
    huge[0, 0] = 1e39
    with pytest.raises(ValueError, match="beyond the range of float32"):
        model.partial_fit(huge, labels)
    model.set_params(learning_rate=0.01).partial_fit(data, labels)
    assert model._optimizer.lr == pytest.approx(0.01)


def test_the_target_range_counts_every_output_and_spares_huber():
    """The sum of squared errors runs over n·k values; Huber squares only small errors."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(10, 3))
    limit = np.sqrt(np.finfo(np.float32).max / (4 * 10))  # the old limit, for one output
    net = cr.mlp([3, 4, 8], "tanh", rng=0, dtype="float32")
    with pytest.raises(ValueError, match="squared error overflows float32"):
        net.fit(data, np.full((10, 8), 0.9 * limit), loss="mse", epochs=1, verbose=0)
    huber = cr.mlp([3, 4, 1], "tanh", rng=0, dtype="float32")
    history = huber.fit(data, np.full((10, 1), 0.9 * limit), loss="huber", epochs=1, verbose=0)
    assert np.isfinite(history.loss[0])


def test_a_warm_fit_failing_after_its_epochs_keeps_the_state_of_the_network_it_trained(tmp_path, monkeypatch):
    model = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=3, warm_start=True, random_state=0).fit(X, Y)
    curve = list(model.loss_curve_)

    def fails(self, history, validated):
        raise ValueError("a check after the epochs ran")

    monkeypatch.setattr(NeuralNetClassifier, "_record", fails)
    with pytest.raises(ValueError, match="after the epochs"):
        model.fit(X, Y)
    # the weights moved on: so do the curves and the count (putting them back would describe another network)
    assert model.n_iter_ == len(model.loss_curve_) == 6 and model.loss_curve_[:3] == curve
    assert not hasattr(model, "_trained_in_this_call")
    monkeypatch.undo()
    model.save(tmp_path / "model.chainrule")  # save checks that the curves and n_iter_ agree
