"""Model files from an adversarial audit: forged headers, odd paths and odd save targets.

Each test builds the file by hand where the library would refuse to write it, and checks that
loading fails with a ``ModelFileError`` naming the file (or the CLI prints one line), without
allocating a large network, hanging, or leaving the target in a wrong state.
"""

import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.io import ModelFileError
from conftest import rewrite_record, set_key


def _raw_file(path, tensors: dict, document_text: str) -> None:
    """Write a safetensors file by hand: ``tensors`` (name -> array) and the chainrule record
    as given, byte for byte."""
    table, data = {}, b""
    kinds = {np.dtype("float64"): "F64", np.dtype("float32"): "F32"}
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        table[name] = {"dtype": kinds[array.dtype], "shape": list(array.shape),
                       "data_offsets": [len(data), len(data) + array.nbytes]}
        data += array.tobytes()
    table["__metadata__"] = {"chainrule": document_text}
    header = json.dumps(table).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def _forge(path, tensors: dict, layers: list, dtype="float64", **fields) -> None:
    """A version-1 model file written by hand (its checksum covers the tensors only), as
    anyone can write one: ``tensors`` as given, whatever the ``layers`` say."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensors[name]).tobytes())
    document = {"format": "chainrule-model", "format_version": 1, "chainrule_version": "0.1.0", "dtype": dtype,
                "layers": layers, "loss": None, "training": None, "sha256": digest.hexdigest(), "metadata": {},
                **fields}
    _raw_file(path, tensors, json.dumps(document))


def _dense(n_in, n_out, **config):
    return {"type": "dense", "config": {"n_in": n_in, "n_out": n_out, **config}}


def _good_parts(tmp_path):
    """The tensors and record of a small saved network (2 -> 3 -> 1)."""
    from safetensors.numpy import load_file

    path = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path)
    return load_file(str(path)), cr.io.read_header(path)


# -- D6, D10: the record's JSON and its version ---------------------------------------------------------------

@pytest.mark.parametrize("where", ["record", "table"])
def test_an_integer_too_long_for_python_is_a_model_file_error(tmp_path, where):
    tensors, document = _good_parts(tmp_path)
    path = tmp_path / "long.chainrule"
    text = json.dumps(document)
    if where == "record":
        _raw_file(path, tensors, text.replace('"training": null', '"training": ' + "9" * 5000))
    else:
        header = json.dumps({"__metadata__": {"chainrule": text}}).encode()[:-1] + b', "x": ' + b"9" * 5000 + b"}"
        path.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ModelFileError, match=f"{path.name}.*not valid JSON .*4300 digits"):
        cr.load(path)


@pytest.mark.parametrize("version", [True, 1.0, "1", [1]])
def test_the_format_version_is_an_exact_integer(tmp_path, version):
    tensors, document = _good_parts(tmp_path)
    document["format_version"] = version
    path = tmp_path / "v.chainrule"
    _raw_file(path, tensors, json.dumps(document))
    with pytest.raises(ModelFileError, match="format version .* is not supported"):
        cr.load(path)


# -- D3: paths that are not regular files ---------------------------------------------------------------------

@pytest.fixture
def no_hang():
    """Fail the test instead of hanging (a FIFO opened for reading waits for a writer)."""
    import signal

    def hung(signum, frame):
        raise TimeoutError("the loader blocked")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, no_hang, capsys):
    import os

    fifo = tmp_path / "model.chainrule"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match=f"{fifo} is a pipe \\(FIFO\\), not a model file"):
        cr.load(fifo)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    for argv in (["predict", str(fifo), str(table)], ["evaluate", str(fifo), str(table), "--target", "b"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a pipe (FIFO), not a model file" in err


def test_a_pipe_on_standard_input_is_refused_by_name(tmp_path):
    """``cr.load("/dev/stdin")`` with a pickle piped in said only "File or stream is not seekable"."""
    import pickle
    import subprocess
    import sys

    code = ("import chainrule as cr\ntry:\n    cr.load('/dev/stdin')\n"
            "except Exception as e:\n    print(type(e).__name__, e)")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps({"W": 1}), capture_output=True,
                         timeout=60).stdout.decode()
    assert out.startswith("ModelFileError /dev/stdin is a pipe (FIFO), not a model file"), out
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 1], rng=0).save(good)
    with good.open("rb") as stdin:  # a regular file on standard input is one
        out = subprocess.run([sys.executable, "-c", code], stdin=stdin, capture_output=True, timeout=60)
    assert out.stdout == b"" and out.returncode == 0, out.stderr


def test_devices_and_special_files_are_refused_by_name():
    with pytest.raises(ModelFileError, match="/dev/null is a character device, not a model file"):
        cr.load("/dev/null")
    import os

    if os.path.exists("/proc/self/cmdline"):  # a regular file of size 0 that cannot seek from its end
        with pytest.raises(ModelFileError, match="/proc/self/cmdline is not a chainrule model file"):
            cr.load("/proc/self/cmdline")


def test_symbolic_links_are_followed_and_loops_named(tmp_path):
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 1], rng=0).save(good)
    (tmp_path / "link.chainrule").symlink_to("good.chainrule")
    assert isinstance(cr.load(tmp_path / "link.chainrule"), cr.Sequential)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(ModelFileError, match="a is a symbolic link loop, not a model file"):
        cr.load(tmp_path / "a")
    (tmp_path / "dangling").symlink_to("nothere")
    with pytest.raises(FileNotFoundError, match="no such model file: .*dangling \\(a symbolic link to nothere"):
        cr.load(tmp_path / "dangling")
    with pytest.raises(FileNotFoundError, match="no such model file"):
        cr.load(good / "inside")


# -- D8: pickles of every kind are named as such (never unpickled) --------------------------------------------

@pytest.mark.parametrize("protocol", [0, 1])
@pytest.mark.parametrize("value", [{"W": [1.0, 2.0]}, list(range(1000)), "model", np.zeros(3)])
def test_text_pickles_are_called_pickles(tmp_path, protocol, value):
    path = tmp_path / "m.chainrule"
    path.write_bytes(__import__("pickle").dumps(value, protocol=protocol))
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


def test_a_legacy_torch_save_file_is_called_a_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.pt"
    torch.save({"W": torch.zeros(3, 2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFileError, match="looks like a pickle or zip archive"):
        cr.load(path)


def test_random_bytes_and_text_are_not_called_pickles(tmp_path):
    path = tmp_path / "m.chainrule"
    for data in (np.random.default_rng(0).bytes(500), b"W,b\n1,2\n", b"hello world.", b"N." + bytes(20)):
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match="not safetensors, or truncated"):
            cr.load(path)


# -- D1: a forged header cannot make the loader build a large network ----------------------------------------

def _peak_bytes(action) -> int:
    """Peak memory traced (NumPy's arrays included) while ``action`` runs."""
    import tracemalloc

    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_square_layer_with_only_its_bias_in_the_file_is_refused_before_it_is_built(tmp_path):
    """Dense(n, n) with only its n biases present: the largest size (n) is within the weight
    count, but building it needs n² weights (here 200 MB) before "missing tensor" is found."""
    n = 5000
    path = tmp_path / "square.chainrule"
    _forge(path, {"layers.0.b": np.zeros(n, np.float32)}, [_dense(n, n)], dtype="float32")

    def load():
        with pytest.raises(ModelFileError, match=r"weights do not match the architecture \(missing layers.0.W\)"):
            cr.load(path)

    assert _peak_bytes(load) < 20 * 1024 * 1024


@pytest.mark.parametrize("n_in", [1e12, 2.0, True, "2", None, -2], ids=repr)
def test_layer_sizes_must_be_integers(tmp_path, n_in):
    path = tmp_path / "sizes.chainrule"
    _forge(path, {"layers.0.W": np.ones((1, 2)), "layers.0.b": np.zeros(1)}, [_dense(n_in, 1)])
    with pytest.raises(ModelFileError, match=f"{path.name}: the architecture record is invalid .*n_in must be a "
                                             "positive integer"):
        cr.load(path)


@pytest.fixture
def layer_without_a_plan():
    """A registered layer class of "another library": parameters, but no shape_plan of its own
    (so the loader must build it to find its tensors); unregistered afterwards."""
    from chainrule.layers import LAYERS, Layer, Parameter

    class Scaled(Layer):
        name = "test_scaled_without_plan"

        def __init__(self, n=1, scale=1.0):
            self.n, self.scale = int(n), scale
            self.w = Parameter(np.full(self.n, float(scale)), "w")

        def parameters(self):
            return [self.w]

        def get_config(self):
            return {"n": self.n, "scale": self.scale}

    yield Scaled
    for table in (LAYERS._classes, LAYERS._canonical):
        table.pop(Scaled.name, None)


def test_a_layer_without_a_plan_is_built_only_within_the_files_weight_count(tmp_path, layer_without_a_plan):
    net = cr.Sequential([cr.Dense(2, 3, rng=0), layer_without_a_plan(3, scale=5.0)])
    path = tmp_path / "other.chainrule"
    net.save(path)
    np.testing.assert_array_equal(cr.load(path).layers[1].w.value, np.full(3, 5.0))  # 5.0 > 3: not a size
    tensors = {"layers.0.w": np.ones(2)}
    for n in (10**12, 1e12):
        _forge(path, tensors, [{"type": "test_scaled_without_plan", "config": {"n": n}}])
        with pytest.raises(ModelFileError, match="asks for a size of 1000000000000, but the file holds only 2 weights"):
            cr.load(path)


def test_a_residual_projection_must_be_in_the_file(tmp_path):
    """Residual([Dense(n, 1), Dense(1, m)]) needs a projection of n·m weights: only n + m are there."""
    n, m = 3000, 2000
    tensors = {"layers.0.0.W": np.ones((1, n)), "layers.0.0.b": np.zeros(1),
               "layers.0.1.W": np.ones((m, 1)), "layers.0.1.b": np.zeros(m)}
    block = {"type": "residual", "config": {"block": [_dense(n, 1), _dense(1, m)], "projection": True}}
    path = tmp_path / "residual.chainrule"
    _forge(path, tensors, [block])

    def load():
        with pytest.raises(ModelFileError, match=r"missing layers.0.2.W"):
            cr.load(path)

    assert _peak_bytes(load) < 20 * 1024 * 1024


def test_thousands_of_layers_for_two_tensors_are_refused(tmp_path):
    path = tmp_path / "many.chainrule"
    _forge(path, {"layers.0.W": np.ones((1, 1)), "layers.0.b": np.zeros(1)},
           [_dense(1, 1)] + [{"type": "relu", "config": {}}] * 20000)
    with pytest.raises(ModelFileError, match="the architecture has 20001 layers for 2 tensors"):
        cr.load(path)


def test_missing_and_unexpected_tensors_are_named_briefly(tmp_path):
    tensors = {f"layers.{i}.x": np.zeros(1) for i in range(1, 1001)} | {"layers.0.W": np.ones((1, 1))}
    path = tmp_path / "extra.chainrule"
    _forge(path, tensors, [_dense(1, 1)])
    with pytest.raises(ModelFileError) as info:
        cr.load(path)
    message = str(info.value)
    assert message.endswith("(missing layers.0.b; unexpected layers.1.x, layers.10.x, layers.100.x and 997 more)")


def test_a_tensor_whose_bytes_do_not_hold_its_shape_is_refused(tmp_path):
    """Shape [3000, 3000] with 8 bytes of data: safetensors would be asked only after the network was built."""
    path = tmp_path / "offsets.chainrule"
    _forge(path, {"layers.0.W": np.ones((1, 1)), "layers.0.b": np.zeros(1)}, [_dense(1, 1)])
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header["layers.0.W"]["shape"] = [3000, 3000]
    document = json.loads(header["__metadata__"]["chainrule"])
    document["layers"] = [_dense(3000, 3000)]
    header["layers.0.b"]["shape"] = [3000]
    header["__metadata__"]["chainrule"] = json.dumps(document)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])

    def load():
        with pytest.raises(ModelFileError, match=r"corrupted: tensor 'layers.0.\w' has data offsets \[\d+, \d+\], "
                                                 r"which do not hold its shape \[3000"):
            cr.load(path)

    assert _peak_bytes(load) < 20 * 1024 * 1024


@pytest.mark.parametrize("layer_cls", cr.layers.LAYERS.classes(), ids=lambda c: c.name)
def test_every_layers_shape_plan_is_what_it_builds(layer_cls):
    from chainrule.layers.base import tensor_shapes

    layer = layer_cls.example(np.random.default_rng(0), n_features=4)
    plan = layer_cls.shape_plan(layer.get_config())
    assert plan.tensors == tensor_shapes(layer)
    assert plan.n_in == getattr(layer, "n_in", None)
    if plan.n_in is not None:
        assert plan.n_out == layer.output_size(plan.n_in)


@pytest.mark.parametrize("block, projection", [
    (lambda: [cr.Dense(4, 4), cr.ReLU(), cr.Dense(4, 4)], "auto"),
    (lambda: [cr.Dense(4, 4)], True),
    (lambda: [cr.ReLU(), cr.Dense(4, 2, bias=False)], "auto"),
    (lambda: [cr.layers.BatchNorm(4), cr.Dense(4, 3)], "auto"),
    (lambda: [cr.layers.Residual([cr.Dense(4, 3)]), cr.Tanh(), cr.Dense(3, 5)], "auto"),
    (lambda: [cr.ReLU()], False),
])
def test_a_residual_blocks_shape_plan_is_what_it_builds(block, projection):
    from chainrule.layers import Residual
    from chainrule.layers.base import tensor_shapes

    layer = Residual(block(), projection=projection)
    plan = Residual.shape_plan(layer.get_config())
    assert plan.tensors == tensor_shapes(layer) and plan.n_in == layer.n_in
    if plan.n_in is not None:
        assert plan.n_out == layer.output_size(plan.n_in)


# -- the header's size ----------------------------------------------------------------------------------------

def test_a_header_over_16_mib_is_refused_before_it_is_parsed(tmp_path):
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(good)
    data = good.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    padded = 17 * 1024 * 1024
    big = tmp_path / "big.chainrule"
    big.write_bytes(struct.pack("<Q", padded) + data[8:8 + length] + b" " * (padded - length) + data[8 + length:])
    with pytest.raises(ModelFileError, match=f"{big.name}: its header is {padded} bytes, more than the 16 MiB"):
        cr.load(big)


def test_saving_refuses_metadata_the_loader_would_refuse(tmp_path):
    path = tmp_path / "m.chainrule"
    with pytest.raises(ValueError, match="header would be about .* bytes, more than the 16 MiB"):
        cr.mlp([2, 1], rng=0).save(path, notes="x" * (17 * 1024 * 1024))
    assert not path.exists()
    cr.mlp([2, 1], rng=0).save(path, notes="x" * (15 * 1024 * 1024))  # under the cap: saved and loaded
    assert len(cr.load(path).metadata["notes"]) == 15 * 1024 * 1024


# -- D2: numbers past the float range ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_classifier():
    from chainrule.estimators import NeuralNetClassifier

    X = np.random.default_rng(0).normal(size=(40, 2))
    return NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, (X[:, 0] > 0).astype(int))


@pytest.mark.parametrize("keys, value, message", [
    (("state", "best_validation_score_"), 10**400, "best_validation_score_ holds an integer too large"),
    (("state", "best_validation_score_"), "high", "best_validation_score_ must be a number, got 'high'"),
    (("params", "l2"), 10**400, "l2 must be a finite number, got an integer too large for a float"),
    (("params", "learning_rate"), 10**400, "learning_rate must be a finite number"),
    (("class",), ["NeuralNetClassifier"], r"unknown estimator class \['NeuralNetClassifier'\]"),
], ids=["best_score", "best_score_text", "l2", "learning_rate", "class_list"])
def test_numbers_past_the_float_range_are_named(tmp_path, fitted_classifier, keys, value, message):
    good = fitted_classifier.save(tmp_path / "good.chainrule")
    bad = rewrite_record(good, tmp_path / "bad.chainrule", set_key("estimator", *keys, value=value))
    with pytest.raises(ModelFileError, match=f"bad.chainrule: .*{message}"):
        cr.load(bad)


def test_the_cli_prints_one_line_for_a_number_past_the_float_range(tmp_path, fitted_classifier, capsys):
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n0.1,0.2,0\n0.3,-0.4,1\n")
    estimator = rewrite_record(fitted_classifier.save(tmp_path / "good.chainrule"), tmp_path / "est.chainrule",
                        set_key("estimator", "state", "loss_curve_", value=[10**400]))
    network = tmp_path / "net.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(network, scaler_mean=[10**400, 0], features=["a", "b"])
    for model in (estimator, network):
        for argv in (["predict", str(model), str(table)], ["evaluate", str(model), str(table), "--target", "y"]):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and err.startswith(f"chainrule: error: {model}: ") and "Traceback" not in err


def test_the_cli_prints_one_line_for_any_failure_to_load(tmp_path, monkeypatch, capsys):
    """Whatever goes wrong while loading (here an unforeseen error), the command names the file in one line."""
    import chainrule

    def broken(path, device=None):
        raise LookupError("something nobody foresaw\nsecond line")

    monkeypatch.setattr(chainrule, "load", broken)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    assert main(["predict", str(tmp_path / "m.chainrule"), str(table)]) == 2
    err = capsys.readouterr().err
    expected = f"{tmp_path / 'm.chainrule'} could not be loaded (LookupError: something nobody foresaw)"
    assert err == f"chainrule: error: {expected}\n"


# -- D9, D5: the command line's metadata is checked ---------------------------------------------------------

@pytest.mark.parametrize("metadata, message", [
    ({"features": 5}, "metadata features must be a list of column names, got 5"),
    ({"features": "ab"}, "metadata features must be a list of column names, got 'ab'"),
    ({"features": ["a", "a"]}, "metadata features must name the network's 2 input columns once each"),
    ({"task": "binary", "classes": 5}, "metadata classes must be a list of labels"),
    ({"task": "binary", "classes": "ab"}, "metadata classes must be a list of labels .*got 'ab'"),
    ({"task": "binary", "classes": ["a", "a"]}, "metadata classes must be distinct"),
    ({"task": "binary", "classes": [float("nan"), 1.0]}, "metadata classes must not hold NaN or infinity"),
    ({"task": "binary", "classes": [["a"], "b"]}, "metadata classes must be a list of labels"),
    ({"task": "evil"}, "metadata task must be one of binary, multiclass, regression, got 'evil'"),
    ({"task": 5}, "metadata task must be binary, multiclass or regression, got 5"),
    ({"target": {"a": 1}}, "metadata target must be a column name"),
    ({"scaler_mean": "ab"}, "metadata scaler_mean must hold numbers, got 'ab'"),
    ({"scaler_mean": [[1, 2]]}, "metadata scaler_mean must hold numbers"),
    ({"scaler_mean": [1.0]}, r"metadata scaler_mean must hold 2 numbers for this network, got \[1.0\]"),
    ({"scaler_mean": [10**400, 0]}, "metadata scaler_mean holds an integer too large for a float"),
    ({"scaler_mean": [float("inf"), 0]}, "metadata scaler_mean must be finite"),
    ({"scaler_std": [1.0, 0.0]}, "metadata scaler_std must be finite and > 0"),
    ({"target_std": [1, 2, 3]}, "metadata target_std must hold 1 number for this network"),
    ({"target_std": 0}, "metadata target_std must be finite and > 0"),
    ({"target_mean": float("nan")}, "metadata target_mean must be finite"),
    ({"target_mean": True}, "metadata target_mean must hold numbers"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 12 else None)
def test_a_network_files_metadata_is_type_checked(tmp_path, capsys, metadata, message):
    net = cr.mlp([2, 3, 1], rng=0)
    if metadata.get("task") == "binary":
        net.loss = cr.losses.get_loss("bce")
    path = tmp_path / "m.chainrule"
    net.save(path, **metadata)
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n0.1,0.2,0\n0.3,-0.4,1\n")
    for argv in (["predict", str(path), str(table)], ["evaluate", str(path), str(table), "--target", "y"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"chainrule: error: {path}: ")
        assert __import__("re").search(message, err), err


# -- D5: an estimator record's fitted state is checked --------------------------------------------------------

@pytest.mark.parametrize("keys, value, message", [
    (("classes_", "values"), [1, 0], r"classes_ must be sorted and distinct, got \[1, 0\]"),
    (("classes_", "values"), [0, 0], "classes_ must be sorted and distinct"),
    (("classes_",), {"values": [float("nan"), 1.0], "dtype": "<f8"}, "classes_ must not hold NaN or infinity"),
    (("classes_",), {"values": ["b", 1], "dtype": "object"}, "classes_ must be labels of one sortable kind"),
    (("feature_names_in_",), ["a", "a"], "feature_names_in_ must be 2 distinct names"),
], ids=["unsorted", "repeated", "nan", "mixed", "feature_names"])
def test_a_classifiers_fitted_state_is_checked(tmp_path, fitted_classifier, keys, value, message):
    good = fitted_classifier.save(tmp_path / "good.chainrule")
    if keys == ("feature_names_in_",):
        good = rewrite_record(good, tmp_path / "named.chainrule", set_key("estimator", "state", "feature_names_in_",
                                                                   value=["a", "b"]))
        assert list(cr.load(good).feature_names_in_) == ["a", "b"]
    bad = rewrite_record(good, tmp_path / "bad.chainrule", set_key("estimator", "state", *keys, value=value))
    with pytest.raises(ModelFileError, match=f"bad.chainrule: estimator record: {message}"):
        cr.load(bad)


@pytest.mark.parametrize("value", ["no", 1, None])
def test_a_regressors_single_output_flag_is_a_bool(tmp_path, value):
    from chainrule.estimators import NeuralNetRegressor

    X = np.random.default_rng(0).normal(size=(30, 2))
    good = NeuralNetRegressor(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, X[:, 0]).save(
        tmp_path / "good.chainrule")
    bad = rewrite_record(good, tmp_path / "bad.chainrule", set_key("estimator", "state", "single_output", value=value))
    with pytest.raises(ModelFileError, match="single_output must be true or false"):
        cr.load(bad)


# -- D5: the checksum covers the record ----------------------------------------------------------------------

def _flip(path, out, old: bytes, new: bytes) -> None:
    """Copy a file with the first ``old`` bytes replaced by as many ``new`` ones (a same-length
    change: the JSON stays valid)."""
    assert len(old) == len(new)
    data = path.read_bytes()
    assert old in data
    out.write_bytes(data.replace(old, new, 1))


def test_a_changed_digit_of_the_metadata_is_caught(tmp_path):
    good = tmp_path / "good.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(good, scaler_mean=[51.125, -3.5], classes=["cat", "dog"])
    bad = tmp_path / "bad.chainrule"
    _flip(good, bad, b"51.125", b"91.125")
    with pytest.raises(ModelFileError, match="bad.chainrule is corrupted: its record or weights do not match"):
        cr.load(bad)
    _flip(good, bad, b'\\"cat\\", \\"dog\\"', b'\\"dog\\", \\"cat\\"')  # the labels swapped
    with pytest.raises(ModelFileError, match="is corrupted: its record or weights do not match"):
        cr.load(bad)


@pytest.mark.parametrize("old, new", [(b'"n_iter_": 2', b'"n_iter_": 3'), (b'"relu"', b'"tanh"'),
                                      (b'"epochs": 2', b'"epochs": 7')])
def test_a_changed_estimator_record_or_architecture_is_caught(tmp_path, fitted_classifier, old, new):
    good = fitted_classifier.save(tmp_path / "good.chainrule")
    bad = tmp_path / "bad.chainrule"
    _flip(good, bad, old.replace(b'"', b'\\"'), new.replace(b'"', b'\\"'))
    with pytest.raises(ModelFileError, match="is corrupted: its record or weights do not match"):
        cr.load(bad)


def test_new_files_are_version_2_and_version_1_files_still_load(tmp_path):
    from chainrule.io_format import checksum

    path = tmp_path / "new.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(path, note="é")
    document = cr.io.read_header(path)
    assert document["format_version"] == 2
    from safetensors.numpy import load_file

    assert document["sha256"] == checksum(document, load_file(str(path)))
    tensors = {"layers.0.W": np.ones((1, 2)), "layers.0.b": np.zeros(1)}
    old = tmp_path / "old.chainrule"
    _forge(old, tensors, [_dense(2, 1)], metadata={"scaler_mean": [1.0, 2.0]})
    assert cr.load(old).metadata == {"scaler_mean": [1.0, 2.0]}  # version 1: its checksum covers the tensors
    (tmp_path / "bad.chainrule").write_bytes(old.read_bytes()[:-8] + np.full(1, 0.5).tobytes())  # the bias
    with pytest.raises(ModelFileError, match="bad.chainrule is corrupted: the weights do not match their checksum"):
        cr.load(tmp_path / "bad.chainrule")


# -- D10: the training record and the weights' values ---------------------------------------------------------

@pytest.mark.parametrize("training, message", [
    ("abc", "the training record must be an object or null, got 'abc'"),
    ([1], "the training record must be an object or null"),
    ({"epochs": -1}, "the training record's epochs must be a count or null, got -1"),
    ({"epochs": 2.5}, "epochs must be a count or null"),
    ({"final_loss": "low"}, "final_loss must be a number or null, got 'low'"),
    ({"metric": 3}, "metric must be text or null, got 3"),
])
def test_the_training_record_is_type_checked(tmp_path, training, message):
    tensors, document = _good_parts(tmp_path)
    path = tmp_path / "t.chainrule"
    _forge(path, tensors, document["layers"], training=training)
    with pytest.raises(ModelFileError, match=f"t.chainrule: .*{message}"):
        cr.load(path)


def test_a_training_record_as_saved_loads(tmp_path):
    net = cr.mlp([2, 3, 1], rng=0)
    X = np.random.default_rng(0).normal(size=(20, 2))
    net.fit(X, X[:, 0], loss="mse", epochs=2, verbose=0)
    net.save(tmp_path / "m.chainrule")
    assert cr.load(tmp_path / "m.chainrule").training_summary["epochs"] == 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_that_are_not_finite_are_refused_at_save_and_at_load(tmp_path, bad):
    net = cr.mlp([2, 3, 1], rng=0)
    net.layers[2].b.value[0] = bad
    path = tmp_path / "m.chainrule"
    with pytest.raises(ValueError, match=f"cannot save {path}: tensor layers.2.b holds NaN or infinite values"):
        net.save(path)
    assert not path.exists()
    W = np.ones((1, 2))
    W[0, 1] = bad
    _forge(path, {"layers.0.W": W, "layers.0.b": np.zeros(1)}, [_dense(2, 1)])
    with pytest.raises(ModelFileError, match="m.chainrule: tensor layers.0.W holds NaN or infinite values"):
        cr.load(path)


# -- D4: what a save replaces ----------------------------------------------------------------------------------

def test_saving_through_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path):
    from chainrule.cli._output import write_text_atomic

    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "real.chainrule"
    cr.mlp([2, 3, 1], rng=0).save(real)
    link = tmp_path / "current.chainrule"
    link.symlink_to("models/real.chainrule")
    cr.mlp([2, 3, 1], rng=1).save(link)
    assert link.is_symlink() and link.readlink().as_posix() == "models/real.chainrule"
    np.testing.assert_array_equal(cr.load(real).layers[0].W.value, cr.mlp([2, 3, 1], rng=1).layers[0].W.value)
    text_link = tmp_path / "notes.txt"
    text_link.symlink_to(tmp_path / "models" / "notes.txt")  # dangling: the target is created, as open() would
    write_text_atomic(text_link, "new")
    assert text_link.is_symlink() and (tmp_path / "models" / "notes.txt").read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["notes.txt", "real.chainrule"]


def test_a_hard_link_keeps_the_old_contents(tmp_path):
    """Documented: the new file is renamed over the old one, so another hard link keeps the old file."""
    path, other = tmp_path / "m.chainrule", tmp_path / "other.chainrule"
    cr.mlp([2, 1], rng=0).save(path)
    __import__("os").link(path, other)
    before = other.read_bytes()
    cr.mlp([2, 1], rng=1).save(path)
    assert other.read_bytes() == before and path.read_bytes() != before


def test_saving_onto_a_fifo_refuses_and_keeps_the_fifo(tmp_path, no_hang):
    import os
    import stat

    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(ValueError, match=f"{target} is a pipe \\(FIFO\\): chainrule writes a file by replacing it"):
            cr.mlp([2, 1], rng=0).save(target)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["link", "out"]
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(ValueError, match="a is a symbolic link loop"):
        cr.mlp([2, 1], rng=0).save(tmp_path / "a")


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() != 0,
                    reason="creating a device node needs root")
def test_saving_onto_a_device_node_refuses_and_keeps_it(tmp_path):
    """A copy of /dev/null made here (never the real one): as root, save replaced the node with a file."""
    import os
    import stat

    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    with pytest.raises(ValueError, match="null is a character device"):
        cr.mlp([2, 1], rng=0).save(node)
    assert stat.S_ISCHR(os.lstat(node).st_mode)


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() != 0,
                    reason="giving a file to another owner needs root")
def test_overwriting_keeps_the_owner_and_group(tmp_path):
    import os

    path = tmp_path / "m.chainrule"
    cr.mlp([2, 1], rng=0).save(path)
    os.chown(path, 12345, 23456)
    cr.mlp([2, 1], rng=1).save(path)
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (12345, 23456)
    np.testing.assert_array_equal(cr.load(path).layers[0].W.value, cr.mlp([2, 1], rng=1).layers[0].W.value)


# -- D7: umasks, failures and long names -----------------------------------------------------------------------

@pytest.fixture
def umask():
    import os

    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o222, 0o277, 0o377, 0o777], ids=oct)
def test_the_temporary_file_is_writable_by_its_owner_whatever_the_umask(tmp_path, umask, mask):
    import os
    import stat

    from chainrule.atomic import replacing

    umask(mask)
    target = tmp_path / "t.txt"
    with replacing(target, fsync=True) as tmp:
        assert stat.S_IMODE(os.stat(tmp).st_mode) & 0o600 == 0o600
        tmp.write_text("data")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~mask
    os.chmod(target, 0o600)
    assert target.read_text() == "data"


def _as_unprivileged(action) -> None:
    """Run ``action()`` without root's exemption from file permissions: directly for an
    ordinary user; as root, in a forked child that has become ``nobody``."""
    import os

    if os.geteuid() != 0:
        action()
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            action()
            message = "ok"
        except BaseException as exc:  # any failure goes back to the parent
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    assert message == "ok", message


@pytest.fixture
def shared_dir():
    """A directory that ``nobody`` may write (tmp_path's parents are root's own)."""
    import os
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="chainrule-")
    os.chmod(folder, 0o777)
    cr.mlp([2, 1], rng=0).save(os.path.join(folder, "warm.chainrule"))  # imports done before any fork
    os.remove(os.path.join(folder, "warm.chainrule"))
    yield __import__("pathlib").Path(folder)
    shutil.rmtree(folder)


@pytest.mark.parametrize("mask", [0o222, 0o277, 0o377], ids=oct)
def test_saving_works_under_a_umask_without_owner_write(shared_dir, mask):
    import os
    import stat

    def save():
        os.umask(mask)
        path = shared_dir / f"m{mask:o}.chainrule"
        cr.mlp([2, 3, 1], rng=0).save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
        os.chmod(path, 0o600)
        assert isinstance(cr.load(path), cr.Sequential)

    _as_unprivileged(save)


def test_save_errors_name_the_file_not_the_temporary(shared_dir):
    import os

    def fail():
        os.umask(0o022)
        read_only = shared_dir / "ro"
        read_only.mkdir()
        os.chmod(read_only, 0o555)
        locked = shared_dir / "locked.chainrule"
        cr.mlp([2, 1], rng=0).save(locked)
        os.chmod(locked, 0o444)
        before = locked.read_bytes()
        for path in (read_only / "m.chainrule", locked):
            try:
                cr.mlp([2, 1], rng=1).save(path)
            except PermissionError as exc:
                assert exc.filename == str(path) and ".tmp" not in str(exc), str(exc)
            else:
                raise AssertionError(f"{path} was written")
        assert locked.read_bytes() == before
        assert sorted(p.name for p in shared_dir.iterdir()) == ["locked.chainrule", "ro"]

    _as_unprivileged(fail)


def test_a_parent_that_is_a_file_is_named(tmp_path):
    (tmp_path / "afile").write_text("x")
    target = tmp_path / "afile" / "m.chainrule"
    with pytest.raises(NotADirectoryError) as info:
        cr.mlp([2, 1], rng=0).save(target)
    assert info.value.filename == str(target)


def test_a_long_file_name_that_open_accepts_is_saved(tmp_path):
    name = "x" * 240 + ".chainrule"  # 250 bytes: the temporary name must not pass 255
    cr.mlp([2, 1], rng=0).save(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    wide = "é" * 120 + ".txt"  # 244 bytes of UTF-8: cut on a character boundary
    from chainrule.cli._output import write_text_atomic

    write_text_atomic(tmp_path / wide, "ok")
    assert (tmp_path / wide).read_text() == "ok"


def test_an_estimator_files_recorded_target_is_type_checked(tmp_path, fitted_classifier, capsys):
    path = fitted_classifier.save(tmp_path / "est.chainrule", target={"a": 1})
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n0.1,0.2,0\n0.3,-0.4,1\n")
    assert main(["evaluate", str(path), str(table)]) == 2
    err = capsys.readouterr().err
    assert err == f"chainrule: error: {path}: metadata target must be a column name, got {{'a': 1}}\n"


def test_a_large_realistic_header_is_far_below_the_cap(tmp_path):
    """The 16 MiB header cap leaves room: a 200-class classifier with 1000 named features and
    two 10000-epoch curves (tensors, not header) writes a header of 23 kB (interfaces.md)."""
    import pandas as pd

    from chainrule.estimators import NeuralNetClassifier
    from chainrule.io_format import MAX_HEADER

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, 1000)), columns=[f"feature_{i:04d}" for i in range(1000)])
    y = np.repeat([f"class_{k:03d}" for k in range(200)], 2)
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)
    clf.loss_curve_ = list(rng.random(10000))
    clf.validation_scores_ = list(rng.random(10000))
    clf.n_iter_ = 10000
    path = clf.save(tmp_path / "big.chainrule")
    with open(path, "rb") as handle:
        header_bytes = struct.unpack("<Q", handle.read(8))[0]
    assert 20e3 < header_bytes < 25e3 and header_bytes < MAX_HEADER / 600
