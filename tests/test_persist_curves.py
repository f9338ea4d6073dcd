"""An estimator's training curves in its model file: float64 tensors beside the weights
(``chainrule.io_curves``), so that a streaming fit's hundreds of thousands of epochs save,
exactly; files that kept them as JSON in the header (record version 1) still load."""

from __future__ import annotations

import json
import struct
import time

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import chainrule as cr
from chainrule.cli import main
from chainrule.estimators import NeuralNetClassifier
from chainrule.io import ModelFileError, load_network, read_header
from chainrule.io_curves import CURVE_TENSORS
from chainrule.io_format import checksum

LOSS, SCORES = CURVE_TENSORS["loss_curve_"], CURVE_TENSORS["validation_scores_"]
X = np.random.default_rng(0).normal(size=(40, 2))
Y = (X[:, 0] > 0).astype(int)


def _fitted(**params):
    return NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0, **params).fit(X, Y)


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


def _header_length(path) -> int:
    with open(path, "rb") as handle:
        return struct.unpack("<Q", handle.read(8))[0]


def _forge(path, out, edit):
    """Copy a model file with its record and tensors changed by ``edit(document, tensors)``
    and its checksum made to match, as a forger would."""
    document, tensors = read_header(path), load_file(str(path))
    edit(document, tensors)
    document["sha256"] = checksum(document, tensors)
    save_file(tensors, str(out), metadata={"chainrule": json.dumps(document)})
    return out


def _old_layout(document, tensors):
    """An edit for ``_forge``: the file as chainrule wrote an estimator before record version
    2, its curves JSON lists in the record's state (NaN as the token NaN), no curve tensors."""
    for key, name in CURVE_TENSORS.items():
        document["estimator"]["state"][key] = tensors.pop(name).tolist()
    document["estimator"]["version"] = 1


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """An estimator with 900 000 epochs of curves (a partial_fit per mini-batch), some
    without validation (NaN), its file, and the seconds its save and load took."""
    n = 900_000
    rng = np.random.default_rng(1)
    estimator = _fitted()
    estimator.loss_curve_ = list(rng.random(n))
    scores = rng.random(n)
    scores[::7] = np.nan
    scores[1:4] = [0.0, -0.0, 5e-324]  # the sign of zero and a subnormal, which must survive too
    estimator.validation_scores_ = list(scores)
    estimator.n_iter_ = n
    start = time.perf_counter()
    path = estimator.save(tmp_path_factory.mktemp("streamed") / "m.chainrule")
    saved = time.perf_counter()
    loaded = cr.load(path)
    return estimator, path, loaded, (saved - start, time.perf_counter() - saved)


def test_a_900k_epoch_history_saves_and_loads_exactly_and_quickly(streamed):
    """The header used to hold these curves as JSON: some 800 000 epochs passed its 16 MiB cap and
    save refused the estimator."""
    estimator, path, loaded, (save_s, load_s) = streamed
    np.testing.assert_array_equal(_bits(loaded.loss_curve_), _bits(estimator.loss_curve_))
    np.testing.assert_array_equal(_bits(loaded.validation_scores_), _bits(estimator.validation_scores_))
    assert type(loaded.loss_curve_) is list and type(loaded.validation_scores_) is list  # as a fit leaves them
    assert loaded.n_iter_ == 900_000
    assert save_s < 5 and load_s < 5, (save_s, load_s)  # about 0.1 s each here
    assert _header_length(path) < 4096  # the curves are not in the header
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_the_curves_are_float64_tensors_other_tools_read(streamed):
    estimator, path, _, _ = streamed
    import safetensors.torch
    import torch

    tensors = load_file(str(path))
    assert tensors[LOSS].dtype == np.float64 and tensors[LOSS].shape == (900_000,)
    np.testing.assert_array_equal(tensors[LOSS], estimator.loss_curve_)
    by_torch = safetensors.torch.load_file(str(path))
    assert by_torch[SCORES].dtype == torch.float64 and by_torch["layers.0.W"].shape == (3, 2)
    state = read_header(path)["estimator"]
    assert state["version"] == 2 and "loss_curve_" not in state["state"] and "validation_scores_" not in state["state"]


def test_a_float32_estimator_keeps_float64_curves_and_nan_payloads(tmp_path):
    """JSON kept one NaN; the tensors keep every bit, whatever the network's dtype."""
    estimator = _fitted(dtype="float32")
    payload = np.array([0x7FF8000000000001, -0x0008000000000000], dtype=np.int64).view(np.float64)  # NaN, -NaN
    estimator.loss_curve_ = [0.1, 1e-310]
    estimator.validation_scores_ = [float(value) for value in payload]
    loaded = cr.load(estimator.save(tmp_path / "m.chainrule"))
    np.testing.assert_array_equal(_bits(loaded.validation_scores_), payload.view(np.int64))
    np.testing.assert_array_equal(_bits(loaded.loss_curve_), _bits([0.1, 1e-310]))
    assert loaded.network_.dtype == np.float32 and load_file(str(tmp_path / "m.chainrule"))[LOSS].dtype == np.float64


def test_empty_curves_round_trip(tmp_path):
    """A first fit that diverged in its first epoch keeps its initial weights and no epoch:
    empty tensors, shape (0,)."""
    from chainrule.callbacks import DivergenceError
    from chainrule.estimators import NeuralNetRegressor

    estimator = NeuralNetRegressor(hidden_layer_sizes=(3,), epochs=3, optimizer="sgd", learning_rate=1e10,
                                   batch_size=8, random_state=0)
    with pytest.raises(DivergenceError, match="diverged at epoch 1"):
        estimator.fit(X, X @ [1e150, 2e150])
    assert estimator.loss_curve_ == [] and estimator.n_iter_ == 0
    path = estimator.save(tmp_path / "m.chainrule")
    assert load_file(str(path))[LOSS].shape == (0,)
    loaded = cr.load(path)
    assert loaded.loss_curve_ == [] and loaded.validation_scores_ == [] and loaded.n_iter_ == 0


def test_a_loaded_estimator_continues_its_curves(tmp_path):
    """Validation scores with NaN for the epochs without validation come back aligned, and
    training continues them (lists, not arrays: ``+=`` appends)."""
    estimator = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=3, early_stopping=True, validation_fraction=0.25,
                                    random_state=0).fit(X, Y)
    estimator.set_params(early_stopping=False).partial_fit(X, Y)  # no validation: NaN
    assert np.isnan(estimator.validation_scores_[-1]) and len(estimator.validation_scores_) == estimator.n_iter_
    loaded = cr.load(estimator.save(tmp_path / "m.chainrule"))
    np.testing.assert_array_equal(_bits(loaded.validation_scores_), _bits(estimator.validation_scores_))
    loaded.partial_fit(X, Y)
    assert loaded.n_iter_ == len(loaded.loss_curve_) == len(loaded.validation_scores_) == estimator.n_iter_ + 1
    assert loaded.loss_curve_[:-1] == estimator.loss_curve_


def test_files_with_the_curves_in_the_record_still_load(tmp_path):
    estimator = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=3, early_stopping=True, validation_fraction=0.25,
                                    random_state=0).fit(X, Y)
    estimator.set_params(early_stopping=False).partial_fit(X, Y)
    old = _forge(estimator.save(tmp_path / "new.chainrule"), tmp_path / "old.chainrule", _old_layout)
    document = read_header(old)
    assert document["estimator"]["version"] == 1 and len(document["estimator"]["state"]["loss_curve_"]) == 4
    assert set(load_file(str(old))) == {"layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"}
    loaded = cr.load(old)
    np.testing.assert_array_equal(_bits(loaded.loss_curve_), _bits(estimator.loss_curve_))
    np.testing.assert_array_equal(_bits(loaded.validation_scores_), _bits(estimator.validation_scores_))
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    resaved = cr.load(loaded.save(tmp_path / "again.chainrule"))  # a loaded old file saves in the new layout
    assert read_header(tmp_path / "again.chainrule")["estimator"]["version"] == 2
    np.testing.assert_array_equal(_bits(resaved.validation_scores_), _bits(estimator.validation_scores_))


@pytest.mark.parametrize("key, value, message", [
    ("loss_curve_", [10**400], "loss_curve_ holds an integer too large for a float"),
    ("validation_scores_", [0.5, 10**400], "validation_scores_ holds an integer too large for a float"),
    ("loss_curve_", [0.5, "x"], "loss_curve_ must be a list of numbers"),
])
def test_an_old_records_curves_are_checked_as_before(tmp_path, key, value, message):
    def edit(document, tensors):
        _old_layout(document, tensors)
        document["estimator"]["state"][key] = value

    bad = _forge(_fitted().save(tmp_path / "good.chainrule"), tmp_path / "bad.chainrule", edit)
    with pytest.raises(ModelFileError, match=f"bad.chainrule: estimator record: {message}"):
        cr.load(bad)


def test_a_changed_curve_value_fails_the_checksum(tmp_path):
    path = _fitted().save(tmp_path / "m.chainrule")
    entry = json.loads(path.read_bytes()[8:8 + _header_length(path)])[LOSS]
    data = bytearray(path.read_bytes())
    data[8 + _header_length(path) + entry["data_offsets"][0]] ^= 0x01  # the last bit of the first loss
    (tmp_path / "bad.chainrule").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="bad.chainrule is corrupted: its record or weights do not match"):
        cr.load(tmp_path / "bad.chainrule")
    assert isinstance(cr.load(path), NeuralNetClassifier)


def _set(name, value):
    def edit(document, tensors):
        tensors[name] = value
    return edit


def _drop(name):
    def edit(document, tensors):
        del tensors[name]
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set(LOSS, np.array([0.5, 0.25], dtype=np.float32)), f"tensor '{LOSS}' is F32, a training curve is float64"),
    (_set(SCORES, np.zeros(2, dtype=np.int64)), f"tensor '{SCORES}' is I64, a training curve is float64"),
    (_set(LOSS, np.array([[0.5, 0.25]])), rf"tensor '{LOSS}' has shape \[1, 2\], a training curve is one-dimensional"),
    (_set(SCORES, np.zeros(())), rf"tensor '{SCORES}' has shape \[\], a training curve is one-dimensional"),
    (_set(LOSS, np.array([0.5])), f"{LOSS} holds 1 epochs, n_iter_ is 2"),
    (_set(SCORES, np.array([0.5])), f"{SCORES} holds 1 epochs, {LOSS} 2 .none or one validation score per epoch"),
    (_drop(SCORES), f"the file has no tensor {SCORES}"),
    (lambda document, tensors: document["estimator"]["state"].update(loss_curve_=[0.5, 0.25]),
     f"loss_curve_ is kept in tensor {LOSS}, not in a version 2 record"),
    (lambda document, tensors: document["estimator"].update(version=1),
     f"a version 1 record keeps its curves itself, but the file also holds tensor.s. {LOSS}, {SCORES}"),
    (lambda document, tensors: document["estimator"].update(version=True), "unsupported version True"),
    (lambda document, tensors: document.update(estimator=None),
     "is an estimator's training curve, but the file holds no estimator record"),
], ids=["float32", "int64", "rank2", "rank0", "short-loss", "short-scores", "missing", "also-in-record",
        "version-1-with-tensors", "version-true", "no-estimator"])
def test_forged_curve_tensors_are_refused_by_name(tmp_path, edit, message):
    """Checksum recomputed, as a forger would: the loader's own checks name the problem."""
    bad = _forge(_fitted().save(tmp_path / "good.chainrule"), tmp_path / "bad.chainrule", edit)
    with pytest.raises(ModelFileError, match=f"bad.chainrule.*{message}"):
        cr.load(bad)


def test_a_forged_curve_shape_is_refused_before_anything_is_read(tmp_path):
    """A header claiming a curve of 10**12 epochs (8 TB) is refused from the header alone."""
    path = _fitted().save(tmp_path / "m.chainrule")
    length, raw = _header_length(path), path.read_bytes()
    header = raw[8:8 + length].replace(b'"shape":[2]', b'"shape":[1000000000000]', 1)
    bad = tmp_path / "bad.chainrule"
    bad.write_bytes(struct.pack("<Q", len(header)) + header + raw[8 + length:])
    with pytest.raises(ModelFileError, match=r"bad.chainrule is corrupted: tensor 'estimator\.[a-z_]+' has data "
                                             r"offsets .*, which do not hold its shape \[1000000000000\]"):
        read_header(bad)


def test_the_curves_are_not_weights_to_the_layer_count_guard(tmp_path):
    """A header may list at most 64 + 8 layers per weight tensor: an estimator's two curves
    do not raise that limit (a linear model has 2 weights: 80 layers, not 96)."""
    from chainrule.models import LinearRegressionGD

    good = LinearRegressionGD(epochs=2).fit(X, X @ [1.0, 2.0]).save(tmp_path / "good.chainrule")

    def pad(count):
        return lambda document, tensors: document["layers"].extend([{"type": "identity", "config": {}}] * count)

    bad = _forge(good, tmp_path / "bad.chainrule", pad(80))
    with pytest.raises(ModelFileError, match=r"the architecture has 81 layers for 2 tensors \(at most 80;"):
        read_header(bad)
    _forge(good, tmp_path / "ok.chainrule", pad(79))
    assert len(read_header(tmp_path / "ok.chainrule")["layers"]) == 80  # passes the guard (checked later)


def test_save_refuses_curves_that_disagree(tmp_path):
    estimator = _fitted()
    estimator.loss_curve_ = estimator.loss_curve_ + [0.5]
    with pytest.raises(ValueError, match="cannot save NeuralNetClassifier: loss_curve_ holds 3 epochs, n_iter_ is 2"):
        estimator.save(tmp_path / "a.chainrule")
    estimator.n_iter_ = 3
    estimator.validation_scores_ = [0.5]
    with pytest.raises(ValueError, match="validation_scores_ holds 1 epochs, loss_curve_ 3"):
        estimator.save(tmp_path / "b.chainrule")
    for scores in ([[0.5, 0.5, 0.5]], [0.5, None, 0.5]):  # not taken for NaN
        estimator.validation_scores_ = scores
        with pytest.raises(ValueError, match="cannot save NeuralNetClassifier: validation_scores_ must be a list of "
                                             "numbers .float.. argument must be"):
            estimator.save(tmp_path / "c.chainrule")
    assert list(tmp_path.iterdir()) == []


def test_networks_hold_no_curves_and_an_estimators_network_loads_alone(tmp_path):
    net = cr.mlp([2, 3, 1], rng=0)
    assert set(load_file(str(net.save(tmp_path / "net.chainrule")))) == {"layers.0.W", "layers.0.b",
                                                                         "layers.2.W", "layers.2.b"}
    estimator = _fitted()
    network = load_network(estimator.save(tmp_path / "est.chainrule"))
    np.testing.assert_array_equal(network.predict(X), estimator.network_.predict(X))


def test_the_cli_predicts_and_evaluates_from_new_and_old_files(tmp_path, capsys):
    import pandas as pd

    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=Y)
    frame.to_csv(tmp_path / "t.csv", index=False)
    estimator = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(frame[["a", "b"]], Y)
    new = estimator.save(tmp_path / "new.chainrule", target="y")
    old = _forge(new, tmp_path / "old.chainrule", _old_layout)
    outputs = []
    for model in (new, old):
        assert main(["predict", str(model), str(tmp_path / "t.csv"), "--out", str(tmp_path / f"{model.stem}.csv")]) == 0
        outputs.append((tmp_path / f"{model.stem}.csv").read_text())
        assert main(["evaluate", str(model), str(tmp_path / "t.csv"), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3] and outputs[1]["rows"] == 40
