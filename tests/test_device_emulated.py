"""The GPU path's plumbing, checked without a GPU: every ``device="cuda"`` flow of
``tests/fakecupy/flows.py`` runs under the emulated CuPy of ``tests/fakecupy/cupy`` (which
refuses implicit host/device conversions as CuPy does and counts syncs and copies), in a
subprocess so that the fake never enters this process's ``sys.modules``.

The contract checked for every fit: no host-device copy and no sync per batch (the same
fit with 8 and with 4 batches per epoch makes the same transfers), each host array moves to
the device once per fit, and none of them comes back. Numerics and the CUDA C of the kernels are not tested
here; ``tests/test_gpu.py`` does that on a real GPU.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

FLOWS_SCRIPT = Path(__file__).parent / "fakecupy" / "flows.py"
EPOCHS = 2  # as in flows.py


def _known(name: str, reason: str):
    """A flow that fails because of a known defect (strict: the mark goes with the fix)."""
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))


ACTIVATIONS = ["identity", "leaky_relu", "relu", "sigmoid", "softmax", "tanh", "xtanh"]
LOSSES = ["bce", "cross_entropy", "hinge", "huber", "mse", "sse", "cross_entropy_one_hot"]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "penalties", "clip_value", "clip_norm",
              "cosine", "plateau"]
FIT_FLOWS = [
    *(f"fit_activation_{name}" for name in ACTIVATIONS),
    "fit_custom_activation", "fit_batch_norm", "fit_dropout", "fit_residual",
    *(f"fit_loss_{name}" for name in LOSSES),
    *(f"fit_optimizer_{name}" for name in OPTIMIZERS),
    "fit_sample_weight",
    "fit_validation_split", "fit_validation_data", "fit_device_data", "fit_early_stopping",
    "fit_stop_on_divergence", "fit_epoch_hook", "fit_with_the_default_progress_bar", "fit_gradient_flow",
]
FLOWS = [
    "the_fake_refuses_what_cupy_refuses", "fit_full_batch", "fit_divergence_restores_the_last_good_weights",
    "fit_growth_divergence_on_a_regression_loss", "gradcheck_batch_norm", "gradcheck_dropout", "dropout_masks_on_the_device", "explain_host_input",
    "explain_device_input", "network_back_to_the_cpu", "assign_host_arrays_on_the_device", "save_and_load",
    "load_onto_the_device",
    "predict_device_input", "predict_classes_device_input", "predict_host_input", "evaluate_host_input",
    "pickle_and_train_on", "playground_model", "cross_entropy_kernel_label_out_of_range",
    "command_line_train_and_predict", "command_line_info", "estimator_classifier", "estimator_regressor",
    "estimator_default_dtype_is_float32", "estimator_save_and_load", "clip_norm_rescales_an_overflowing_gradient",
]
PREDICTIONS = ["predict_device_input", "predict_classes_device_input"]


def _name(param) -> str:
    return param.values[0] if hasattr(param, "values") else param


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("device_emulated") / "results.json"
    done = subprocess.run([sys.executable, str(FLOWS_SCRIPT), str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"the flows script failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(out.read_text())


def _result(results, name):
    result = results[name]
    assert result["error"] is None, f"{name}: {result['error']}"
    return result


def _difference(small: dict, large: dict) -> str:
    """Where the fit with more batches synced or copied more (per-batch costs)."""
    lines = []
    for kind in sorted(set(small["events"]) | set(large["events"])):
        many, few = small["events"].get(kind, 0), large["events"].get(kind, 0)
        if many != few:
            sites = "; ".join(f"{site} x{count}" for site, count in small["sites"].get(kind, {}).items())
            lines.append(f"{kind}: {many} with 8 batches per epoch, {few} with 4 (at {sites})")
    return "\n".join(lines)


def test_the_fake_cupy_is_not_importable_in_the_test_run():
    spec = importlib.util.find_spec("cupy")
    assert spec is None or "fakecupy" not in str(spec.origin)


def test_every_flow_ran(results):
    expected = {_name(p) for p in FIT_FLOWS + FLOWS}
    assert set(results) == expected


@pytest.mark.parametrize("name", FIT_FLOWS)
def test_fit_moves_nothing_per_batch_and_the_data_once(results, name):
    runs = _result(results, name)["fit"]
    small, large = runs["16"], runs["32"]
    assert small["events"] == large["events"], _difference(small, large)
    copies = Counter((tuple(shape), dtype) for kind, shape, dtype in small["copies"] if kind == "h2d")
    again = {key: count for key, count in copies.items() if count > 1 and key[1] != "int64"}
    assert not again, f"host arrays copied to the device more than once per fit: {again}"
    indices = sum(count for (shape, dtype), count in copies.items() if dtype == "int64")
    assert indices <= EPOCHS + 1  # the shuffled order, once per epoch (and integer labels, once)
    back = [(tuple(shape), dtype) for kind, shape, dtype in small["copies"] if kind == "d2h"]
    round_trips = [copy for copy in back if copy in copies]
    assert not round_trips, f"data copied to the device and back: {round_trips} (at {small['sites']['d2h']})"


@pytest.mark.parametrize("name", FLOWS)
def test_flow_runs_on_the_device(results, name):
    _result(results, name)


@pytest.mark.parametrize("name", PREDICTIONS)
def test_predicting_from_device_input_copies_only_the_outputs_to_the_host(results, name):
    result = _result(results, name)
    assert [tuple(shape) for kind, shape, _ in result["copies"]] == [tuple(result["output_shape"])], result["sites"]
    assert all(kind == "d2h" for kind, _, _ in result["copies"])


def test_clip_norm_rescales_an_overflowing_float32_gradient_on_the_device(results):
    result = _result(results, "clip_norm_rescales_an_overflowing_gradient")
    assert result["events"].get("sync", 0) == 0, result["sites"]
    expected = 1 / result["n"] ** 0.5  # every entry equal: the clipped gradient's entries are 1/√n
    assert result["smallest_step"] == pytest.approx(expected, rel=1e-5)
    assert result["largest_step"] == pytest.approx(expected, rel=1e-5)
    assert result["norm"] == pytest.approx(1e20 * result["n"] ** 0.5, rel=1e-5)


# a host C++ compiler parses the CUDA C with stand-ins for CUDA's names: braces, types and
# the str.format template are checked, not what the kernel computes
_CUDA_STAND_INS = """#include <cmath>
#define __global__
struct dim3 { int x; };
static dim3 blockDim, blockIdx, threadIdx;
using std::exp; using std::log; using std::nan;
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_cross_entropy_kernel_source_parses(dtype, tmp_path):
    from chainrule import kernels_cuda

    source = kernels_cuda._CE_SOURCE.format(T={"float32": "float", "float64": "double"}[dtype], name=dtype)
    path = tmp_path / "kernel.cpp"
    path.write_text(_CUDA_STAND_INS + source)
    done = subprocess.run(["g++", "-fsyntax-only", "-Wall", "-Werror", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
