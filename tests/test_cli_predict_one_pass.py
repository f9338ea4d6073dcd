"""chainrule predict and evaluate decide from one pass of the model, as the network does:
a class from the sign of the logit (not from a probability that rounds to 0.5), and the
probabilities or margins written beside it from the same outputs."""

import numpy as np
import pandas as pd
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.estimators import NeuralNetClassifier
from chainrule.network import Sequential


def _binary_network(path):
    """A 2-1 logistic network whose logit is x₁ exactly (W = [1, 0], b = 0), saved."""
    net = cr.Sequential([cr.Dense(2, 1, rng=0)])
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    net.fit(X, np.array([1.0, 0.0]), loss="bce", epochs=1, verbose=0)
    net.layers[0].W.value[...] = [[1.0, 0.0]]
    net.layers[0].b.value[...] = 0.0
    net.save(path)
    return net


def test_a_logit_too_small_to_move_the_probability_is_still_class_1(tmp_path):
    net = _binary_network(tmp_path / "model.chainrule")
    X = np.array([[1e-18, 0.0], [-1e-18, 0.0], [0.0, 0.0], [3.0, 0.0]])
    assert cr.Sequential.predict(net, X)[0, 0] == 0.5  # σ(1e-18) rounds to one half
    pd.DataFrame(X, columns=["a", "b"]).to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(tmp_path / "model.chainrule"), str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["prediction"].tolist() == net.predict_classes(X).tolist() == [1, 0, 0, 1]
    np.testing.assert_allclose(out["p_1"], [0.5, 0.5, 0.5, 1 / (1 + np.exp(-3.0))])


@pytest.fixture
def count_passes(monkeypatch):
    """Count calls of Sequential.predict (every pass of a network over the rows)."""
    calls = []
    original = Sequential.predict

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Sequential, "predict", counted)
    return calls


def _table(tmp_path, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    return X, frame


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "hinge"])
def test_predict_runs_an_estimators_network_once(tmp_path, kind, count_passes):
    X, frame = _table(tmp_path)
    if kind == "multilabel":
        y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    elif kind == "multiclass":
        y = np.digitize(X[:, 0], [-0.5, 0.5])
    else:
        y = (X[:, 0] > 0).astype(int)
    loss = "hinge" if kind == "hinge" else None
    clf = NeuralNetClassifier(hidden_layer_sizes=(5,), epochs=5, random_state=0, loss=loss).fit(frame, y)
    clf.save(tmp_path / "clf.chainrule")
    frame.to_csv(tmp_path / "new.csv", index=False)
    count_passes.clear()
    assert main(["predict", str(tmp_path / "clf.chainrule"), str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "out.csv")]) == 0
    assert len(count_passes) == 1
    out = pd.read_csv(tmp_path / "out.csv")
    predicted = clf.predict(frame)
    if kind == "multilabel":
        assert out[["prediction_0", "prediction_1"]].to_numpy().tolist() == predicted.tolist()
        np.testing.assert_allclose(out[["p_0", "p_1"]], clf.predict_proba(frame), rtol=1e-12)
    else:
        assert out["prediction"].tolist() == predicted.tolist()
        if kind == "hinge":
            np.testing.assert_allclose(out["margin"], clf.decision_function(frame), rtol=1e-12)
        else:
            columns = [f"p_{c}" for c in clf.classes_]
            np.testing.assert_allclose(out[columns], clf.predict_proba(frame), rtol=1e-12)


def test_predict_runs_a_saved_networks_network_once(tmp_path, count_passes):
    _binary_network(tmp_path / "model.chainrule")
    X, frame = _table(tmp_path)
    frame[["u", "v"]].to_csv(tmp_path / "new.csv", index=False)
    count_passes.clear()
    assert main(["predict", str(tmp_path / "model.chainrule"), str(tmp_path / "new.csv")]) == 0
    assert len(count_passes) == 1


def test_a_loaded_table_model_saved_again_keeps_its_metadata_and_predictions(tmp_path, iris_csv):
    from chainrule.io import read_header
    from conftest import train_iris

    model, again = tmp_path / "model.chainrule", tmp_path / "again.chainrule"
    assert main(train_iris(iris_csv, "--save", model, "--no-plots")) == 0
    cr.load(model).save(again, note="re-saved")
    before, after = read_header(model)["metadata"], read_header(again)["metadata"]
    assert after == {**before, "note": "re-saved"}
    outs = []
    for path in (model, again):
        assert main(["predict", str(path), str(iris_csv), "--out", str(tmp_path / f"{path.stem}.csv")]) == 0
        outs.append(pd.read_csv(tmp_path / f"{path.stem}.csv"))
    pd.testing.assert_frame_equal(outs[0], outs[1])  # features and scaling still applied
