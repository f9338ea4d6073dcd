"""Model files: safetensors weights + JSON architecture, never pickle, atomic, clear errors."""

import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.io import ModelFileError, load_model, save_model
from chainrule.layers import LAYERS


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
    (lambda p, good: p.write_bytes(good.read_bytes()[:-10]), "corrupted"),
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
