"""The compiled CPU kernels (chainrule.kernels_cpu, Numba): the same results as the NumPy
updates bit for bit, used only where they may be, and a clear error for an unusable setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule import kernels_cpu
from chainrule.optim import OPTIMIZERS

needs_numba = pytest.mark.skipif(
    __import__("importlib").util.find_spec("numba") is None, reason="Numba is not installed (chainrule[fast])")

BIG = kernels_cpu.MIN_SIZE  # elements: the smallest update the kernels take

OPTIMIZER_CASES = {
    "sgd": lambda: cr.optim.SGD(0.01),
    "momentum": lambda: cr.optim.SGD(0.01, momentum=0.9),
    "nesterov": lambda: cr.optim.SGD(0.01, momentum=0.9, nesterov=True),
    "rmsprop": lambda: cr.optim.RMSprop(1e-3),
    "adam": lambda: cr.optim.Adam(1e-3),
    "adamw": lambda: cr.optim.AdamW(1e-3, weight_decay=0.05),
}


@pytest.fixture(autouse=True)
def fresh_setting(monkeypatch):
    """Each test starts from the environment's setting (re-read) and leaves it as it was."""
    monkeypatch.delenv(kernels_cpu.SETTING, raising=False)
    monkeypatch.setattr(kernels_cpu, "_mode", None)
    yield


@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts the compiled kernels' calls by name."""
    calls = {}
    for name in ("sgd", "momentum", "rmsprop", "adam"):
        original = getattr(kernels_cpu._Kernels, name)

        def counting(self, *args, _name=name, _original=original):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(self, *args)

        monkeypatch.setattr(kernels_cpu._Kernels, name, counting)
    return calls


def _fit(mode, make_optimizer, dtype, sizes=(300, 256, 3), **fit_kwargs):
    kernels_cpu.use(mode)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((256, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], 256)
    net = cr.mlp(list(sizes), activation="relu", rng=0, dtype=dtype)
    optimizer = make_optimizer()
    net.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=2, batch_size=64, verbose=0, rng=0,
            **fit_kwargs)
    return [p.value.copy() for p in net.parameters()], optimizer


def assert_same_bits(a, b):
    """Equal as bit patterns (+0 and -0 differ), except that a NaN matches any NaN: which NaN
    an operation on NaNs returns (its sign bit, its payload) depends on the order of the
    operands in the machine code, and IEEE 754 leaves it open."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    unsigned = np.uint32 if a.dtype == np.float32 else np.uint64
    numbers = ~np.isnan(a)
    np.testing.assert_array_equal(a[numbers].view(unsigned), b[numbers].view(unsigned))


def _optimizer_state(optimizer):
    """The moments (not the NumPy update's scratch buffer, which the kernels do without)."""
    return [array for state in optimizer._states for key, array in sorted(state.items()) if key != "scratch"]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_each_optimizer_matches_its_numpy_update_bit_for_bit(name, dtype, kernel_calls):
    compiled, opt_compiled = _fit("numba", OPTIMIZER_CASES[name], dtype)
    assert kernel_calls, "the compiled kernels were not used"
    kernel_calls.clear()
    plain, opt_plain = _fit("numpy", OPTIMIZER_CASES[name], dtype)
    assert not kernel_calls
    for a, b in zip(compiled, plain):
        assert a.dtype == np.dtype(dtype)
        assert_same_bits(a, b)
    for a, b in zip(_optimizer_state(opt_compiled), _optimizer_state(opt_plain)):
        assert_same_bits(a, b)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
@pytest.mark.parametrize("extra", [{"l2": 1e-3}, {"clip_norm": 0.5}, {"clip_value": 0.01}])
def test_per_parameter_updates_use_the_kernels_for_large_parameters_only(name, extra, dtype, kernel_calls):
    # penalties and clipping update parameter by parameter: the 300×256 weights (76 800
    # elements) take the kernel, the biases and the small output layer the NumPy code
    make = lambda: type(OPTIMIZER_CASES[name]())(**{**OPTIMIZER_CASES[name]().get_config(), **extra})  # noqa: E731
    compiled, _ = _fit("numba", make, dtype)
    steps = 2 * 4
    assert sum(kernel_calls.values()) == steps
    plain, _ = _fit("numpy", make, dtype)
    for a, b in zip(compiled, plain):
        assert_same_bits(a, b)


class _HalvingAsNumPyScalar(cr.optim.schedules.Schedule):
    """A schedule returning NumPy float64 scalars (as np.exp or np.cos would)."""

    def __call__(self, epoch, base_lr, monitor=None):
        return base_lr * np.float64(0.5) ** epoch


class _SetsNumPyRate(cr.Callback):
    adds_log_keys = False

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def on_epoch_begin(self, trainer, epoch):
        self.optimizer.lr = np.float64(1e-3) / (epoch + 1)


@needs_numba
@pytest.mark.parametrize("name", ["adam", "adamw", "sgd", "rmsprop"])
def test_a_rate_given_as_a_numpy_scalar_gives_the_same_bits(name, kernel_calls):
    """NumPy computes with a float64 scalar in float64 (NEP 50): the optimizers pass the rate on
    as a Python float, so both paths round it to float32 alike."""
    make = lambda: type(OPTIMIZER_CASES[name]())(schedule=_HalvingAsNumPyScalar())  # noqa: E731
    compiled, _ = _fit("numba", make, "float32")
    assert kernel_calls
    plain, _ = _fit("numpy", make, "float32")
    for a, b in zip(compiled, plain):
        assert_same_bits(a, b)
    results = []
    for mode in ("numba", "numpy"):
        optimizer = OPTIMIZER_CASES[name]()
        results.append(_fit(mode, lambda: optimizer, "float32", callbacks=[_SetsNumPyRate(optimizer)])[0])
    for a, b in zip(*results):
        assert_same_bits(a, b)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(OPTIMIZER_CASES)), dtype=st.sampled_from([np.float32, np.float64]),
       t=st.integers(1, 10_000))
def test_every_kernel_agrees_on_any_values(data, name, dtype, t):
    """Extreme, subnormal, infinite and NaN gradients, moments and weights give the same bits."""
    size = 64
    floats = st.floats(width=np.dtype(dtype).itemsize * 8)
    grad, theta, first, second = (data.draw(hnp.arrays(dtype, size, elements=floats)) for _ in range(4))
    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels_cpu, "MIN_SIZE", size)  # dense coverage: every element drawn
        for mode in ("numba", "numpy"):
            kernels_cpu.use(mode)
            assert (kernels_cpu.for_arrays(theta, grad) is not None) == (mode == "numba")
            optimizer = OPTIMIZER_CASES[name]()
            optimizer.iterations = t - 1
            with np.errstate(all="ignore"):  # inf weights, NaN moments: NumPy warns, the kernels do not
                state = optimizer._init_state(theta)
                for key, start in zip([k for k in ("m", "v", "velocity") if k in state], (first, np.abs(second))):
                    state[key][:] = start
                value = theta.copy()
                optimizer._update(value, grad, state, optimizer.lr)
            results.append([value] + [state[k] for k in sorted(state) if k != "scratch"])
    for a, b in zip(*results):
        assert_same_bits(a, b)


@needs_numba
def test_the_kernels_refuse_what_they_cannot_update_in_place():
    kernels_cpu.use("auto")
    big = np.zeros(BIG, np.float32)
    assert kernels_cpu.for_arrays(big, big.copy()) is not None
    assert kernels_cpu.for_arrays(np.zeros(BIG - 1, np.float32), np.zeros(BIG - 1, np.float32)) is None
    strided = np.zeros(2 * BIG, np.float32)[::2]
    assert kernels_cpu.for_arrays(strided, big) is None  # a copy would lose the update
    assert kernels_cpu.for_arrays(big, strided) is None
    assert kernels_cpu.for_arrays(big, np.zeros(BIG, np.float64)) is None  # mixed dtypes
    assert kernels_cpu.for_arrays(big, np.zeros(BIG + 1, np.float32)) is None
    assert kernels_cpu.for_arrays(np.zeros(BIG, np.float16), np.zeros(BIG, np.float16)) is None
    assert kernels_cpu.for_arrays(np.zeros(BIG, np.int64), np.zeros(BIG, np.int64)) is None
    fortran = np.zeros((256, BIG // 256), np.float32, order="F")
    assert kernels_cpu.for_arrays(fortran, fortran.copy(order="F")) is None
    kernels_cpu.use("numpy")
    assert kernels_cpu.for_arrays(big, big.copy()) is None


def test_use_overrides_an_unusable_environment_value(monkeypatch):
    monkeypatch.setenv(kernels_cpu.SETTING, "turbo")
    assert kernels_cpu.use("numpy") is None  # the environment's value was unusable
    assert kernels_cpu.mode() == "numpy"
    assert kernels_cpu.use(None) == "numpy"
    with pytest.raises(ValueError, match="CHAINRULE_CPU_KERNELS must be one of"):
        kernels_cpu.mode()


def test_an_empty_environment_value_means_auto(monkeypatch):
    monkeypatch.setenv(kernels_cpu.SETTING, "")
    assert kernels_cpu.mode() == "auto"


def test_use_checks_the_mode_and_returns_the_previous_one():
    assert kernels_cpu.use("numpy") == "auto"
    assert kernels_cpu.use("NUMBA ") == "numpy"
    assert kernels_cpu.mode() == "numba"
    with pytest.raises(ValueError, match="CPU kernel mode must be one of auto, numba, numpy"):
        kernels_cpu.use("fast")
    assert kernels_cpu.mode() == "numba"


class _Records(cr.Callback):
    adds_log_keys = False

    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append("train_begin")


def test_an_unknown_setting_is_refused_before_training(monkeypatch):
    monkeypatch.setenv(kernels_cpu.SETTING, "turbo")
    net = cr.mlp([2, 3, 1], rng=0)
    before = [p.value.copy() for p in net.parameters()]
    record = _Records()
    with pytest.raises(ValueError, match="CHAINRULE_CPU_KERNELS must be one of auto, numba, numpy, got 'turbo'"):
        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0, callbacks=[record])
    assert record.events == []  # refused before anything started, not at the first update
    for a, b in zip(before, net.parameters()):
        np.testing.assert_array_equal(a, b.value)


def test_an_estimator_with_an_unknown_setting_stays_unfitted(monkeypatch):
    from sklearn.exceptions import NotFittedError

    monkeypatch.setenv(kernels_cpu.SETTING, "turbo")
    from chainrule.estimators import NeuralNetClassifier

    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=1)
    with pytest.raises(ValueError, match="CHAINRULE_CPU_KERNELS must be one of"):
        model.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(NotFittedError):
        model.predict(np.zeros((1, 2)))


def test_an_estimator_file_loads_and_predicts_whatever_the_setting(monkeypatch, tmp_path):
    """The setting concerns training: loading a model for prediction neither checks it nor
    imports Numba (mode numba included)."""
    from chainrule.estimators import NeuralNetClassifier

    X = np.random.default_rng(0).normal(size=(20, 2))
    model = NeuralNetClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, [0, 1] * 10)
    model.save(tmp_path / "m.chainrule")
    for value in ("turbo", "numba"):
        monkeypatch.setenv(kernels_cpu.SETTING, value)
        monkeypatch.setattr(kernels_cpu, "_mode", None)
        _numba_unloadable(monkeypatch)
        np.testing.assert_array_equal(cr.load(tmp_path / "m.chainrule").predict(X), model.predict(X))


def test_the_playground_refuses_to_play_with_an_unknown_setting(monkeypatch):
    pytest.importorskip("starlette")
    from chainrule.playground.config import parse_config
    from chainrule.playground.session import Session

    session = Session("s", parse_config({}))
    monkeypatch.setenv(kernels_cpu.SETTING, "turbo")
    with pytest.raises(ValueError, match="CHAINRULE_CPU_KERNELS must be one of"):
        session.play()
    assert session.status == "paused"


def test_a_failing_playground_run_stops_and_says_why(monkeypatch):
    pytest.importorskip("starlette")
    from chainrule.playground.config import parse_config
    from chainrule.playground.session import Session

    session = Session("s", parse_config({}))
    session.step(3)
    good = session.net.get_weights()

    def broken(epochs):
        session.net.set_weights([w + 1.0 for w in good])  # a chunk that changed the weights, then failed
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(session, "_train", broken)
    session.play()
    session._thread.join(timeout=10)
    assert session.status == "paused"
    assert session.message == "training stopped: out of cheese; the network is back at its weights of epoch 3"
    for a, b in zip(good, session.net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_command_line_names_an_unknown_setting_in_one_line(tmp_path):
    env = {**os.environ, kernels_cpu.SETTING: "turbo", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "chainrule", "train", "--epochs", "1", "--no-plots"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("chainrule: error: the environment variable CHAINRULE_CPU_KERNELS must be "
                                   "one of auto, numba, numpy, got 'turbo'")
    assert not list(tmp_path.iterdir())


def _numba_unloadable(monkeypatch):
    def no_numba():
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(kernels_cpu, "_compile", no_numba)
    monkeypatch.setattr(kernels_cpu, "_kernels", None)
    monkeypatch.setattr(kernels_cpu, "_failure", None)


def test_without_numba_auto_falls_back_and_numba_is_refused_before_training(monkeypatch):
    _numba_unloadable(monkeypatch)
    big = np.zeros(BIG, np.float32)
    assert kernels_cpu.for_arrays(big, big.copy()) is None  # auto: the NumPy code runs
    assert "No module named 'numba'" in kernels_cpu.summary()
    kernels_cpu.use("numba")
    net = cr.mlp([2, 3, 1], rng=0)
    with pytest.raises(ValueError, match=r"CHAINRULE_CPU_KERNELS=numba, but Numba's kernels could not be loaded "
                                         r"\(ImportError: No module named 'numba'\); pip install \"chainrule\[fast\]\""):
        net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0)


def test_without_a_writable_cache_directory_the_kernels_compile_anyway(monkeypatch):
    numba = pytest.importorskip("numba")
    real = numba.njit

    def no_cache(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache)
    kernels = kernels_cpu._compile()
    value, grad = np.ones(3, np.float32), np.full(3, 2.0, np.float32)
    kernels.sgd(value, grad, 0.25)
    np.testing.assert_array_equal(value, np.full(3, 0.5, np.float32))


@pytest.mark.parametrize("state, expected", [
    ({"mode": "numpy", "numba": "0.68.1", "loaded": False, "error": None}, "NumPy (CHAINRULE_CPU_KERNELS=numpy)"),
    ({"mode": "auto", "numba": None, "loaded": False, "error": None},
     'NumPy (Numba is not installed; pip install "chainrule[fast]" compiles the optimizer updates)'),
    ({"mode": "auto", "numba": "0.68.1", "loaded": True, "error": None},
     f"optimizer updates of at least {BIG} elements compiled with Numba 0.68.1"),
    ({"mode": "auto", "numba": "0.68.1", "loaded": False, "error": None},
     f"optimizer updates of at least {BIG} elements compiled with Numba 0.68.1 (loaded at the first such update)"),
    ({"mode": "numba", "numba": None, "loaded": False, "error": "ImportError: No module named 'numba'"},
     'none: training refuses to start (CHAINRULE_CPU_KERNELS=numba) (Numba is not installed; '
     'pip install "chainrule[fast]" compiles the optimizer updates)'),
    ({"mode": "auto", "numba": "0.50.0", "loaded": False, "error": "ImportError: Numba needs NumPy 2.2 or less"},
     "NumPy (Numba 0.50.0 could not be loaded: ImportError: Numba needs NumPy 2.2 or less)"),
])
def test_summary_says_which_kernels_run_and_why(state, expected):
    assert kernels_cpu.summary(state) == expected


def test_small_networks_never_import_numba():
    """The lectures' networks start as fast as before: Numba is imported for large updates only."""
    code = ("import sys, numpy as np, chainrule as cr\n"
            "net = cr.mlp([2, 64, 64, 1], rng=0)\n"
            "net.fit(np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 2, loss='bce',\n"
            "        optimizer='adam', epochs=3, verbose=0)\n"
            "print('numba' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != kernels_cpu.SETTING}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "False"


@needs_numba
def test_info_reports_the_compiled_kernels():
    done = subprocess.run([sys.executable, "-m", "chainrule", "info", "--json", "--no-probe"],
                          capture_output=True, text=True, check=True)
    kernels = json.loads(done.stdout)["cpu_kernels"]
    assert kernels["mode"] == "auto" and kernels["loaded"] and kernels["error"] is None
    assert kernels["summary"].startswith(f"optimizer updates of at least {BIG} elements compiled with Numba")


def test_info_table_has_a_cpu_kernels_row(monkeypatch):
    env = {**os.environ, kernels_cpu.SETTING: "numpy", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "chainrule", "info", "--no-probe"], capture_output=True, text=True,
                          env=env, check=True)
    row = next(line for line in done.stdout.splitlines() if "CPU kernels" in line)
    assert "NumPy (CHAINRULE_CPU_KERNELS=numpy)" in row


def test_every_registered_optimizer_is_covered():
    """A new optimizer (with a compiled path or not) must join OPTIMIZER_CASES, and so the
    bit-for-bit test."""
    assert set(OPTIMIZERS.names()) <= set(OPTIMIZER_CASES)
