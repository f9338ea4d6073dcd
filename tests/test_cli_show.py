"""chainrule show MODEL: what a model file holds (layers, training, features, classes,
estimator), read as chainrule.load reads it, with one-line errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor
from conftest import one_line_error, train_iris


def _shown(argv, capsys):
    assert main(["show", *argv]) == 0
    return capsys.readouterr().out


def test_a_trained_table_model_shows_its_layers_training_features_and_classes(tmp_path, iris_csv, capsys):
    model = tmp_path / "iris.chainrule"
    assert main(train_iris(iris_csv, "--save", model, "--no-plots", "--quiet", epochs=7)) == 0
    capsys.readouterr()
    record = json.loads(_shown([str(model), "--json"], capsys))
    net = cr.load(model)
    assert record["parameters"] == sum(p.size for p in net.parameters())
    assert [row["parameters"] for row in record["layers"]] == [sum(p.size for p in layer.parameters())
                                                               for layer in net.layers]
    assert [row["outputs"] for row in record["layers"]][-1] == net.n_outputs == len(record["classes"])
    assert record["training"]["epochs"] == 7 and record["loss"] == "cross_entropy" and record["task"] == "multiclass"
    assert record["target"] == "species" and record["standardised"] == {"features": True, "target": False}
    assert record["estimator"] is None and record["other_metadata"] == []
    text = _shown([str(model)], capsys)
    assert "checksum and architecture verified" in text
    assert f"{record['parameters']} parameters, float64, loss cross_entropy" in text
    assert f"classes: {', '.join(map(str, record['classes']))}" in text
    assert "training: 7 epochs; last training loss" in text
    assert f"features (4): {', '.join(record['features'])}, standardised" in text


def test_an_estimator_file_shows_its_class_parameters_and_iterations(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(50, 3)), columns=["dose", "age", "weight"])
    reg = NeuralNetRegressor(hidden_layer_sizes=(6,), epochs=4, random_state=0).fit(X, X["dose"] * 2)
    reg.save(tmp_path / "reg.chainrule", experiment="run 3")
    record = json.loads(_shown([str(tmp_path / "reg.chainrule"), "--json"], capsys))
    assert record["estimator"]["class"] == "NeuralNetRegressor" and record["estimator"]["n_iter_"] == 4
    assert record["estimator"]["params"]["hidden_layer_sizes"] == [6]
    assert record["features"] == ["dose", "age", "weight"] and record["other_metadata"] == ["experiment"]
    text = _shown([str(tmp_path / "reg.chainrule")], capsys)
    assert "estimator: NeuralNetRegressor(" in text and "other metadata: experiment" in text
    assert f"training: 4 epochs in all; last loss_curve_ value {reg.loss_curve_[-1]:.6g}" in text


def test_an_estimator_trained_by_many_calls_counts_them_all(tmp_path, capsys):
    X = np.random.default_rng(3).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = NeuralNetClassifier(hidden_layer_sizes=(3,), random_state=0)
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.save(tmp_path / "pf.chainrule")
    cr.load(tmp_path / "pf.chainrule").save(tmp_path / "again.chainrule")  # its network's record is then empty
    for name in ("pf.chainrule", "again.chainrule"):
        text = _shown([str(tmp_path / name)], capsys)
        assert "training: 5 epochs in all" in text and "1 epochs" not in text


def test_an_estimators_own_metadata_named_like_trains_is_only_listed(tmp_path, capsys):
    X = np.random.default_rng(4).normal(size=(30, 2))
    reg = NeuralNetRegressor(hidden_layer_sizes=(2,), epochs=1, random_state=0).fit(X, X[:, 0])
    reg.save(tmp_path / "m.chainrule", scaler_mean="abc", scaler_std=[2, 2], dataset="mine")
    record = json.loads(_shown([str(tmp_path / "m.chainrule"), "--json"], capsys))
    assert record["standardised"] == {"features": False, "target": False} and record["dataset"] is None
    assert record["other_metadata"] == ["dataset", "scaler_mean", "scaler_std"]


def test_a_multilabel_estimator_names_its_label_columns(tmp_path, capsys):
    X = np.random.default_rng(1).normal(size=(40, 3))
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, (X[:, :2] > 0).astype(int))
    clf.save(tmp_path / "ml.chainrule")
    assert "task: multilabel, label columns: 0, 1" in _shown([str(tmp_path / "ml.chainrule")], capsys)


def test_a_bare_untrained_network_with_every_layer_kind(tmp_path, capsys):
    net = cr.Sequential([cr.Dense(3, 4, rng=0), cr.BatchNorm(4), cr.ReLU(),
                         cr.Residual([cr.Dense(4, 4, rng=1), cr.Tanh()]), cr.Dropout(0.2), cr.Dense(4, 2, rng=2)])
    net.save(tmp_path / "bare.chainrule")
    record = json.loads(_shown([str(tmp_path / "bare.chainrule"), "--json"], capsys))
    assert [row["outputs"] for row in record["layers"]] == [4, 4, 4, 4, 4, 2]
    assert record["parameters"] == 16 + 8 + 20 + 10 and record["loss"] is None and record["task"] is None
    assert record["training"] is None or not record["training"].get("epochs")
    text = _shown([str(tmp_path / "bare.chainrule")], capsys)
    assert "loss none (never trained)" in text and "training: none recorded" in text
    assert "features (3): by position" in text and "standardised" not in text


def test_many_feature_names_are_shortened(tmp_path, capsys):
    X = pd.DataFrame(np.random.default_rng(2).normal(size=(30, 20)), columns=[f"f{i}" for i in range(20)])
    NeuralNetRegressor(hidden_layer_sizes=(2,), epochs=1, random_state=0).fit(X, X["f0"]).save(tmp_path / "m.chainrule")
    assert "f11, and 8 more" in _shown([str(tmp_path / "m.chainrule")], capsys)


@pytest.mark.parametrize("content, said", [
    (None, "no such model file"),
    (b"hello", "is not a chainrule model file"),
    (b"\x80\x04\x95pickle", "is not a chainrule model file"),
])
def test_a_file_that_is_not_a_model_gets_one_line(tmp_path, capsys, content, said):
    path = tmp_path / "model.chainrule"
    if content is not None:
        path.write_bytes(content)
    assert said in one_line_error(["show", str(path)], capsys)


@pytest.mark.parametrize("monitor, kept", [("val_loss", "ended with"), ("val_accuracy", "ended with"),
                                           ("loss", "started from")])
def test_early_stoppings_kept_weights_are_said_as_what_they_are(tmp_path, capsys, monitor, kept):
    from chainrule.datasets import moons

    X, _, y, _ = moons()
    net = cr.mlp([2, 4, 1], rng=0)
    net.fit(X, y, loss="bce", optimizer=cr.optim.Adam(0.05), epochs=40, validation_split=0.3, rng=1, verbose=0,
            callbacks=[cr.EarlyStopping(monitor=monitor, patience=3)])
    net.save(tmp_path / "m.chainrule", dataset=float("nan"))
    text = _shown([str(tmp_path / "m.chainrule")], capsys)
    assert f"early stopping kept the weights epoch {net.history.best_epoch + 1} {kept}" in text
    assert "lowest validation loss" not in text and "last validation loss" in text
    record = json.loads(_shown([str(tmp_path / "m.chainrule"), "--json"], capsys))  # NaN metadata: still JSON
    assert record["dataset"] is None


def test_an_estimators_target_is_shown_once(tmp_path, capsys):
    X = np.random.default_rng(5).normal(size=(30, 2))
    NeuralNetRegressor(hidden_layer_sizes=(2,), epochs=1, random_state=0).fit(X, X[:, 0]).save(
        tmp_path / "m.chainrule", target="k")
    text = _shown([str(tmp_path / "m.chainrule")], capsys)
    assert "target: k" in text and "other metadata" not in text
