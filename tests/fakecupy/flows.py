"""chainrule's device flows (``device="cuda"``) under the fake ``cupy`` of this folder.

Run by ``tests/test_device_emulated.py`` in a subprocess, never imported by the test run:
``python tests/fakecupy/flows.py OUT.json [FLOW ...]`` (the script's folder comes first on
``sys.path``, so ``import cupy`` finds the fake). Each flow runs with the fake's counters
reset and reports its error, if any, and the syncs and copies it caused; a fit flow runs the
same fit twice, with 8 and with 4 batches per epoch, so that the test can tell per-batch
costs from per-epoch and per-fit ones.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import sys
import tempfile
import traceback
import warnings

import cupy
import numpy as np

import chainrule as cr
from chainrule.callbacks import DivergenceError

N, D = 128, 6  # samples and features of every fit
EPOCHS = 2
BATCH_SIZES = (16, 32)  # 8 and 4 batches per epoch

FLOWS = {}


def flow(fn):
    FLOWS[fn.__name__] = fn
    return fn


def flows_over(prefix: str, names, fit_for) -> None:
    """One flow ``prefix + name`` per name, running ``fit_for(name)``."""
    for name in names:
        def run(name=name):
            return fit_for(name)

        run.__name__ = prefix + name
        flow(run)


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype(np.float32)
    binary = (X[:, 0] > 0).astype(float)
    classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    regression = np.stack([X[:, 0] * X[:, 1], X[:, 2]], axis=1)
    return X, binary, classes, regression


X, Y_BINARY, Y_CLASSES, Y_REGRESSION = _data()


def _net(out=1, activation="tanh", **kwargs):
    return cr.mlp([D, 16, out], activation=activation, rng=0, device="cuda", **kwargs)


def _record():
    return {"events": dict(cupy.EVENTS), "copies": [list(c) for c in cupy.COPIES],
            "sites": {kind: dict(sites.most_common(4)) for kind, sites in cupy.SITES.items()}}


def _fits(make_net, y, **kwargs):
    """The same fit with 8 and with 4 batches per epoch; events counted from the call to fit."""
    runs = {}
    kwargs = {"verbose": 0, **kwargs}
    for batch_size in BATCH_SIZES:
        net = make_net()
        cupy.reset()
        net.fit(X, y, epochs=EPOCHS, batch_size=batch_size, rng=0, **kwargs)
        runs[str(batch_size)] = _record()
    return {"fit": runs}


# -- the emulation itself --------------------------------------------------------------------------
@flow
def the_fake_refuses_what_cupy_refuses():
    device, host = cupy.asarray(X), X.copy()
    refusals = {
        "np.asarray(device)": lambda: np.asarray(device),
        "device + host": lambda: device + host,
        "host * device": lambda: host * device,
        "np.add(device, host)": lambda: np.add(device, host),
        "device[...] = host": lambda: device.__setitem__(Ellipsis, host),
        "pickle a generator": lambda: pickle.dumps(cupy.random.default_rng(0)),
        "deepcopy a generator": lambda: copy.deepcopy(cupy.random.default_rng(0)),
    }
    for what, attempt in refusals.items():
        try:
            attempt()
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"the fake cupy allowed {what}")
    cupy.reset()
    float(device.sum()), device.get(), cupy.asarray(host)
    assert dict(cupy.EVENTS) == {"sync": 1, "d2h": 1, "h2d": 1}, dict(cupy.EVENTS)
    return {}


# -- fit: layers -----------------------------------------------------------------------------------
flows_over("fit_activation_", cr.layers.ACTIVATIONS.names(),
           lambda name: _fits(lambda: _net(activation=name), Y_BINARY, loss="bce", optimizer="adam"))


@flow
def fit_custom_activation():
    def make():
        sine = cr.layers.CustomActivation(np.sin, np.cos, "sin")
        return cr.Sequential([cr.Dense(D, 8, rng=0), sine, cr.Dense(8, 1, rng=1)], device="cuda")

    return _fits(make, Y_BINARY, loss="bce")


@flow
def fit_batch_norm():
    return _fits(lambda: _net(batch_norm=True), Y_BINARY, loss="bce")


@flow
def fit_dropout():
    return _fits(lambda: _net(dropout=0.3), Y_BINARY, loss="bce")


@flow
def dropout_masks_on_the_device():
    x = cupy.asarray(np.ones((500, 40), dtype=np.float32))
    first, second = cr.Dropout(0.25, rng=7), cr.Dropout(0.25, rng=7)
    masks = [layer.forward(x).get() for layer in (first, second, first)]
    assert all(m.dtype == np.float32 for m in masks)
    assert set(np.unique(masks[0]).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs((masks[0] > 0).mean() - 0.75) < 0.01
    np.testing.assert_array_equal(masks[0], masks[1])  # the same seed, the same masks
    assert not np.array_equal(masks[0], masks[2])
    cupy.reset()
    first.backward(first.forward(x))
    assert not cupy.EVENTS, dict(cupy.EVENTS)
    return {}


@flow
def fit_residual():
    return _fits(lambda: cr.mlp([D, 16, 16, 1], rng=0, device="cuda", residual=True), Y_BINARY, loss="bce")


# -- fit: losses -----------------------------------------------------------------------------------
LOSS_TARGETS = {"bce": (1, Y_BINARY), "cross_entropy": (3, Y_CLASSES), "hinge": (1, 2 * Y_BINARY - 1),
                "huber": (2, Y_REGRESSION), "mse": (2, Y_REGRESSION), "sse": (2, Y_REGRESSION)}


flows_over("fit_loss_", LOSS_TARGETS,
           lambda name: _fits(lambda: _net(LOSS_TARGETS[name][0]), LOSS_TARGETS[name][1], loss=name, optimizer="sgd"))


@flow
def fit_loss_cross_entropy_one_hot():
    return _fits(lambda: _net(3), np.eye(3)[Y_CLASSES], loss="cross_entropy")


# -- fit: optimizers -------------------------------------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda: cr.optim.SGD(0.1), "momentum": lambda: cr.optim.SGD(0.1, momentum=0.9),
    "nesterov": lambda: cr.optim.SGD(0.1, momentum=0.9, nesterov=True), "rmsprop": lambda: cr.optim.RMSprop(0.01),
    "adam": lambda: cr.optim.Adam(0.01), "adamw": lambda: cr.optim.AdamW(0.01, weight_decay=0.1),
    "penalties": lambda: cr.optim.SGD(0.1, l1=1e-3, l2=1e-3), "clip_value": lambda: cr.optim.Adam(0.01, clip_value=0.5),
    "clip_norm": lambda: cr.optim.Adam(0.01, clip_norm=1.0), "cosine": lambda: cr.optim.Adam(0.01, schedule="cosine"),
    "plateau": lambda: cr.optim.Adam(0.01, schedule="plateau"),
}


flows_over("fit_optimizer_", OPTIMIZERS, lambda name: _fits(_net, Y_BINARY, loss="bce", optimizer=OPTIMIZERS[name]()))


@flow
def clip_norm_rescales_an_overflowing_gradient():
    """float32 gradients of 1e20, whose squares overflow: clipping to norm 1 rescales them
    (each entry 1/√n) instead of zeroing them, with no sync in the step."""
    net, before = _net(), None
    params = net.parameters()
    before = [cupy.asnumpy(p.value).copy() for p in params]
    for p in params:
        p.grad = cupy.full(p.value.shape, 1e20, dtype=cupy.float32)
    n = sum(p.value.size for p in params)
    optimizer = cr.optim.SGD(1.0, clip_norm=1.0)
    cupy.reset()
    optimizer.step(params)
    record = _record()
    steps = [before_p - cupy.asnumpy(p.value) for before_p, p in zip(before, params)]
    return {**record, "n": int(n), "largest_step": float(max(np.abs(s).max() for s in steps)),
            "smallest_step": float(min(np.abs(s).min() for s in steps)),
            "norm": optimizer.last_grad_norm}


# -- fit: data, validation, callbacks --------------------------------------------------------------
@flow
def fit_full_batch():
    net = _net()
    cupy.reset()
    net.fit(X, Y_BINARY, loss="bce", epochs=EPOCHS, verbose=0)
    return {}


@flow
def fit_sample_weight():
    return _fits(_net, Y_BINARY, loss="bce", sample_weight=np.linspace(0.5, 2.0, N))


@flow
def fit_validation_split():
    return _fits(_net, Y_BINARY, loss="bce", validation_split=0.25)


@flow
def fit_validation_data():
    return _fits(_net, Y_BINARY, loss="bce", validation_data=(X[:40], Y_BINARY[:40]))


@flow
def fit_device_data():
    runs = {}
    for batch_size in BATCH_SIZES:
        net = _net()
        Xd, yd = cupy.asarray(X), cupy.asarray(Y_BINARY)
        val = (cupy.asarray(X[:40]), cupy.asarray(Y_BINARY[:40]))
        cupy.reset()
        net.fit(Xd, yd, loss="bce", epochs=EPOCHS, batch_size=batch_size, verbose=0, rng=0, validation_data=val)
        runs[str(batch_size)] = _record()
    return {"fit": runs}


@flow
def fit_early_stopping():
    return _fits(_net, Y_BINARY, loss="bce", validation_split=0.25, callbacks=[cr.EarlyStopping(patience=1)])


@flow
def fit_stop_on_divergence():
    return _fits(_net, Y_BINARY, loss="bce", callbacks=[cr.StopOnDivergence()])


@flow
def fit_gradient_flow():
    from chainrule.inspect import GradientFlow

    return _fits(lambda: _net(batch_norm=True), Y_BINARY, loss="bce", callbacks=[GradientFlow(warn=False)])


@flow
def fit_with_the_default_progress_bar():
    return _fits(_net, Y_BINARY, loss="bce", verbose=1)


@flow
def fit_epoch_hook():
    return _fits(_net, Y_BINARY, loss="bce", callbacks=[cr.EpochHook(lambda epoch, logs, net: None)])


@flow
def fit_divergence_restores_the_last_good_weights():
    net = _net(activation="relu", batch_norm=True)
    good = net.get_weights()
    try:
        net.fit(X, Y_BINARY * 1e15, loss="mse", optimizer=cr.optim.SGD(1e10), epochs=3, batch_size=32, verbose=0)
    except DivergenceError:
        pass
    else:
        raise AssertionError("the fit did not diverge")
    for restored, before in zip(net.get_weights(), good):
        np.testing.assert_array_equal(restored, before)
    net.predict(X)
    return {}


@flow
def fit_growth_divergence_on_a_regression_loss():
    """StopOnDivergence's growth rule on a regression loss measures the mean predictor's loss
    on the device data."""
    net = _net(out=2, activation="relu")
    try:
        net.fit(X * 10, Y_REGRESSION, loss="mse", optimizer=cr.optim.SGD(0.02), epochs=50, verbose=0)
    except DivergenceError as error:
        assert "over 1000×" in str(error), str(error)
    else:
        raise AssertionError("the fit did not diverge")
    return {}


# -- inspection ------------------------------------------------------------------------------------
def _trained(**kwargs):
    net = cr.mlp([D, 4, 1], rng=0, device="cuda", **kwargs)
    net.fit(X[:8], Y_BINARY[:8], loss="bce", epochs=1, verbose=0)  # one full batch: caches and masks of 8 rows
    return net


@flow
def gradcheck_batch_norm():
    from chainrule.inspect import gradcheck

    assert gradcheck(_trained(batch_norm=True), X[:8], Y_BINARY[:8], loss="bce").passed
    return {}


@flow
def gradcheck_dropout():
    from chainrule.inspect import gradcheck

    assert gradcheck(_trained(dropout=0.3), X[:8], Y_BINARY[:8], loss="bce").passed
    return {}


@flow
def explain_host_input():
    from chainrule.inspect import explain

    explain(cr.mlp([D, 3, 1], rng=0, device="cuda"), X[:2], Y_BINARY[:2], loss="bce", l2=0.1)
    return {}


@flow
def explain_device_input():
    from chainrule.inspect import explain

    explain(cr.mlp([D, 3, 1], rng=0, device="cuda"), cupy.asarray(X[:2]), cupy.asarray(Y_BINARY[:2]), loss="mse")
    return {}


# -- moving weights between host and device --------------------------------------------------------
@flow
def network_back_to_the_cpu():
    gpu = _trained(batch_norm=True)
    cpu = cr.Sequential(copy.deepcopy(gpu.layers), device="cpu")
    cpu.loss = gpu.loss
    np.testing.assert_allclose(cpu.predict(X), gpu.predict(X), rtol=1e-6)
    return {}


@flow
def assign_host_arrays_on_the_device():
    net = _net(batch_norm=True)
    dense, norm = net.layers[0], net.layers[1]
    dense.W.assign(np.ones(dense.W.shape))
    norm.assign_buffer("running_mean", np.full(norm.n_features, 0.5))
    weights = net.get_weights()  # the parameters, then BatchNorm's running mean and variance
    n = len(net.parameters())
    assert float(weights[n].sum()) == 0.5 * norm.n_features
    net.set_weights([np.zeros(w.shape) for w in weights[:n]] + [np.full(w.shape, 0.25) for w in weights[n:]])
    assert float(dense.W.value.sum()) == 0.0 and float(norm.running_mean.sum()) == 0.25 * norm.n_features
    return {}


@flow
def save_and_load():
    net = _trained(batch_norm=True)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.chainrule")
        net.save(path)
        loaded = cr.load(path)
    np.testing.assert_allclose(loaded.predict(X), net.predict(X), rtol=1e-6)
    return {}


@flow
def load_onto_the_device():
    net = _trained(batch_norm=True)
    cpu_trained = cr.mlp([D, 16, 1], activation="tanh", rng=0, batch_norm=True)  # float64
    cpu_trained.fit(X, Y_BINARY, loss="bce", epochs=2, batch_size=32, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path, cpu_path = os.path.join(folder, "m.chainrule"), os.path.join(folder, "cpu.chainrule")
        net.save(path)
        cpu_trained.save(cpu_path)
        on_cpu, on_gpu = cr.load(path), cr.load(path, device="cuda")
        float64_on_gpu = cr.io.load_network(cpu_path, device="cuda")
    assert on_cpu.device == "cpu" and on_gpu.device == "cuda", (on_cpu.device, on_gpu.device)
    assert on_cpu.dtype == on_gpu.dtype == np.float32 and float64_on_gpu.dtype == np.float64
    for loaded in (on_gpu, float64_on_gpu):
        assert all(isinstance(w.value, cupy.ndarray) for w in loaded.parameters())
        assert all(isinstance(b, cupy.ndarray) for b in loaded.layers[1].buffers().values())
    np.testing.assert_array_equal(on_gpu.predict(X), net.predict(X))
    np.testing.assert_allclose(on_cpu.predict(X), net.predict(X), rtol=1e-6)
    np.testing.assert_allclose(float64_on_gpu.predict(X), cpu_trained.predict(X), rtol=1e-12)
    on_gpu.fit(X, Y_BINARY, epochs=1, batch_size=32, verbose=0)
    return {}


# -- using a trained network -----------------------------------------------------------------------
def _use(call):
    net = _trained()
    Xd = cupy.asarray(X)
    cupy.reset()
    out = call(net, Xd)
    return {**_record(), "output_shape": list(np.shape(out))}


@flow
def predict_device_input():
    return _use(lambda net, Xd: net.predict(Xd))


@flow
def predict_classes_device_input():
    return _use(lambda net, Xd: net.predict_classes(Xd))


@flow
def predict_host_input():
    return _use(lambda net, Xd: net.predict(X))


@flow
def evaluate_host_input():
    _trained().evaluate(X, Y_BINARY)
    return {}


@flow
def pickle_and_train_on():
    net = _trained(dropout=0.3, batch_norm=True)
    for twin in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        before = twin.get_weights()
        twin.fit(X, Y_BINARY, loss="bce", epochs=2, batch_size=32, verbose=0)
        assert all(not np.array_equal(a, b) for a, b in zip(twin.get_weights(), before))
    return {}


@flow
def playground_model():
    from chainrule.playground import model

    net = _trained(batch_norm=True)
    model.output_scores(net, "bce", "binary", X)
    model.evaluate(net, "bce", "binary", X, Y_BINARY, Y_BINARY.astype(int))
    model.hidden_activations(net, X)
    return {}


@flow
def cross_entropy_kernel_label_out_of_range():
    from chainrule import kernels_cuda

    z = cupy.asarray(np.zeros((3, 4), dtype=np.float32))
    losses, grad = kernels_cuda.softmax_cross_entropy(z, cupy.asarray(np.array([0, 4, -1])), 1.0)
    losses, grad = losses.get(), grad.get()
    assert np.isfinite(losses[0]) and np.isfinite(grad[0]).all()
    assert np.isnan(losses[1:]).all() and np.isnan(grad[1:]).all()
    return {}


@flow
def command_line_train_and_predict():
    from chainrule.cli import main

    with tempfile.TemporaryDirectory() as folder:
        model = os.path.join(folder, "m.chainrule")
        code = main(["train", "--device", "cuda", "--epochs", "3", "--no-plots", "--quiet", "--batch-norm",
                     "--dropout", "0.1", "--save", model])
        assert code == 0, f"chainrule train exited with {code}"
        table = os.path.join(folder, "new.csv")
        np.savetxt(table, X[:10, :2], delimiter=",", header="x0,x1", comments="")
        assert main(["predict", model, table, "--out", os.path.join(folder, "p.csv")]) == 0
    return {}


@flow
def command_line_info():
    import contextlib
    import io

    from chainrule.cli import main

    as_json, as_table = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(as_json):
        assert main(["info", "--json", "--no-probe"]) == 0
    with contextlib.redirect_stdout(as_table):
        assert main(["info", "--no-probe"]) == 0
    gpu = json.loads(as_json.getvalue())["gpu"]
    assert gpu["available"] and gpu["reason"] is None, gpu
    assert gpu["devices"] == [{"index": 0, "name": "fake GPU (tests/fakecupy)", "memory_gib": 16.0}], gpu
    assert gpu["cuda_runtime"] == 12000
    assert "GPU 0" in as_table.getvalue() and "fake GPU (tests/fakecupy), 16.0 GiB" in as_table.getvalue()
    return {}


# -- estimators ------------------------------------------------------------------------------------
@flow
def estimator_classifier():
    from chainrule.estimators import NeuralNetClassifier

    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, device="cuda", random_state=0, batch_norm=True,
                              dropout=0.2).fit(X, Y_CLASSES)
    clf.partial_fit(X, Y_CLASSES)
    clf.predict_proba(X)
    pickle.loads(pickle.dumps(clf)).partial_fit(X, Y_CLASSES)
    return {}


@flow
def estimator_regressor():
    from chainrule.estimators import NeuralNetRegressor

    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), epochs=2, device="cuda", random_state=0, early_stopping=True)
    reg.fit(X, Y_REGRESSION).score(X, Y_REGRESSION)
    return {}


@flow
def estimator_default_dtype_is_float32():
    from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor

    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, device="cuda", random_state=0).fit(X, Y_CLASSES)
    assert clf.get_params()["dtype"] is None
    assert clf.network_.dtype == np.float32, clf.network_.dtype
    assert clf.predict_proba(X).dtype == np.float32
    clf.set_params(dtype="float32", warm_start=True).fit(X, Y_CLASSES)  # the same dtype: it continues
    assert clf.n_iter_ == 4
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), epochs=2, device="cuda", random_state=0)
    try:  # 1e30 squared overflows float32 (not float64)
        reg.fit(X, np.full(N, 1e30))
    except ValueError as exc:
        assert "overflows float32" in str(exc), exc
    else:
        raise AssertionError("a float32 network was given targets whose squared error overflows float32")
    assert reg.fit(X, Y_REGRESSION).network_.dtype == np.float32
    return {}


@flow
def estimator_save_and_load():
    from chainrule.estimators import NeuralNetClassifier

    clf = NeuralNetClassifier(hidden_layer_sizes=(8,), epochs=2, device="cuda", random_state=0,
                              batch_norm=True).fit(X, Y_CLASSES)
    with tempfile.TemporaryDirectory() as folder:
        path = clf.save(os.path.join(folder, "clf.chainrule"))
        on_cpu, on_gpu = cr.load(path), cr.load(path, device="cuda")
        # save ignores the device, and dtype=None means float32 for the GPU network it holds
        clf.set_params(device="cpu").save(os.path.join(folder, "again.chainrule"))
        clf.set_params(device="cuda")
    # the parameters describe the network each holds: on the CPU, float32 is not the default
    assert on_cpu.network_.device == "cpu" and on_cpu.network_.dtype == np.float32
    assert (on_cpu.get_params()["device"], on_cpu.get_params()["dtype"]) == ("cpu", "float32")
    assert on_gpu.network_.device == "cuda" and on_gpu.network_.dtype == np.float32
    assert (on_gpu.get_params()["device"], on_gpu.get_params()["dtype"]) == ("cuda", None)
    assert isinstance(on_gpu.network_.layers[0].W.value, cupy.ndarray)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(on_gpu.predict_proba(X), expected)
    np.testing.assert_allclose(on_cpu.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    on_cpu.partial_fit(X, Y_CLASSES)  # each trains on where its network is
    on_gpu.partial_fit(X, Y_CLASSES)
    on_gpu.set_params(warm_start=True).fit(X, Y_CLASSES)
    assert isinstance(on_gpu.network_.layers[0].W.value, cupy.ndarray)
    return {}


# -- the runner ------------------------------------------------------------------------------------
def _where(exc) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "fakecupy" not in f.filename]
    if not frames:
        return "?"
    f = frames[-1]
    return f"{os.path.basename(f.filename)}:{f.lineno} {f.name}"


def run(names) -> dict:
    results = {}
    for name in names:
        cupy.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                extra = FLOWS[name]() or {}
                results[name] = {"error": None, **_record(), **extra}
            except Exception as exc:
                results[name] = {"error": f"{type(exc).__name__}: {exc} (at {_where(exc)})", **_record()}
    return results


if __name__ == "__main__":
    out, names = sys.argv[1], sys.argv[2:] or list(FLOWS)
    with open(out, "w") as handle:
        json.dump(run(names), handle, indent=1)
