"""The GPU benchmark's precision: the device and its versions, TF32 switched off and probed in
CuPy and PyTorch, and the accuracy check of GPU float32 results against the CPU, judged.

CuPy and PyTorch come in as arguments (the accuracy check reaches CuPy through chainrule), so
this module imports without them.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
from dataclasses import replace
from pathlib import Path

import numpy as np

from gpu_log import error_text

_HERE = Path(__file__).resolve().parent

#: the accuracy check's limits (see ``judge_check``): a GPU error passes up to
#: max(CHECK_FACTOR × the CPU float32 error, CHECK_FLOORS[quantity]), gradients at most GRADIENT_CEILING
CHECK_FACTOR = 10.0
CHECK_FLOORS = {"gradient": 1e-6, "weights_norm": 5e-5, "loss_history": 5e-5}
GRADIENT_CEILING = 1e-4
JUDGED = tuple(CHECK_FLOORS)
#: a TF32 product of the probe is off by 2.4e-4; float32's is exact
PROBE_LIMIT = 1e-6
PROBE_K = 784


def _try(fn):
    """``fn()``, or the error's text: a missing attribute never stops the run."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - recorded, not raised
        return f"error: {error_text(exc)}"


# -- the device and its precision ------------------------------------------------------------------
def _version(v):
    """CUDA's integer version (12080) as '12.8'."""
    return f"{v // 1000}.{(v % 1000) // 10}" if isinstance(v, int) else v


def device_info(cupy, torch, torch_device: str) -> dict:
    def props():
        p = cupy.cuda.runtime.getDeviceProperties(0)
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in p.items()
                if k in ("name", "totalGlobalMem", "major", "minor", "multiProcessorCount")}

    p = _try(props)
    p = p if isinstance(p, dict) else {"name": p}
    memory = p.get("totalGlobalMem")
    return {
        "gpu": p.get("name", "?"),
        "memory_gib": round(memory / 2**30, 1) if isinstance(memory, int) else None,
        "compute_capability": f"{p['major']}.{p['minor']}" if "major" in p and "minor" in p else None,
        "multiprocessors": p.get("multiProcessorCount"),
        "cuda_driver": _version(_try(lambda: cupy.cuda.runtime.driverGetVersion())),
        "cuda_runtime": _version(_try(lambda: cupy.cuda.runtime.runtimeGetVersion())),
        "cupy": getattr(cupy, "__version__", "?"),
        "torch": torch.__version__,
        "torch_cuda": getattr(torch.version, "cuda", None),
        "torch_device": torch_device,
        "torch_gpu": _try(lambda: torch.cuda.get_device_name(0)) if torch_device == "cuda" else None,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "chainrule_commit": _git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _git_commit():
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_HERE, capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=_HERE,
                               capture_output=True, text=True, timeout=10)
    except Exception:  # noqa: BLE001 - no git on the machine: no commit
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() + (" (modified)" if dirty.stdout.strip() else "")


def configure_torch(torch) -> list:
    """Every PyTorch switch towards plain float32 matrix products; the errors of those that
    this PyTorch refuses (the values are read back by ``precision_settings``)."""
    import warnings

    errors = []

    def attempt(name, fn):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {error_text(exc)}")

    attempt("torch.backends.cuda.matmul.allow_tf32", lambda: setattr(torch.backends.cuda.matmul, "allow_tf32", False))
    attempt("torch.backends.cudnn.allow_tf32", lambda: setattr(torch.backends.cudnn, "allow_tf32", False))
    attempt("torch.set_float32_matmul_precision", lambda: torch.set_float32_matmul_precision("highest"))
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # PyTorch >= 2.9
        attempt("torch.backends.cuda.matmul.fp32_precision",
                lambda: setattr(torch.backends.cuda.matmul, "fp32_precision", "ieee"))
    return errors


def matmul_probe(xp, matmul, make) -> float:
    """Relative error of a float32 product whose inputs TF32 rounds: (1 + 2⁻¹²) · 1 summed
    ``PROBE_K`` times is exact in float32 (every partial sum fits 24 bits), 784 in TF32."""
    a = make((256, PROBE_K), 1.0 + 2.0**-12)
    b = make((PROBE_K, 256), 1.0)
    exact = PROBE_K * (1.0 + 2.0**-12)
    got = matmul(a, b)
    return float(xp.abs(got - exact).max()) / exact


def precision_settings(cupy, torch, torch_device: str, set_errors: list) -> dict:
    """The precision switches as read back now, and the TF32 probe in each tool."""
    import warnings

    def read(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _try(fn)

    out = {
        "CUPY_TF32": os.environ.get("CUPY_TF32"),
        "NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE"),
        "torch.backends.cuda.matmul.allow_tf32": read(lambda: torch.backends.cuda.matmul.allow_tf32),
        "torch.backends.cudnn.allow_tf32": read(lambda: torch.backends.cudnn.allow_tf32),
        "torch.get_float32_matmul_precision()": read(torch.get_float32_matmul_precision),
    }
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        out["torch.backends.cuda.matmul.fp32_precision"] = read(lambda: torch.backends.cuda.matmul.fp32_precision)
    out["setting_errors"] = list(set_errors)
    out["cupy_probe_error"] = _try(lambda: matmul_probe(
        cupy, cupy.matmul, lambda shape, v: cupy.full(shape, v, dtype=cupy.float32)))

    def torch_probe():
        def make(shape, v):
            return torch.full(shape, v, dtype=torch.float32, device=torch_device)

        err = matmul_probe(torch, torch.matmul, make)
        if torch_device == "cuda":
            torch.cuda.synchronize()
        return err

    out["torch_probe_error"] = read(torch_probe)
    return out


def judge_precision(settings) -> list:
    """The problems with the precision settings (empty: plain float32 in both tools)."""
    problems = []
    for tool in ("cupy", "torch"):
        err = settings.get(f"{tool}_probe_error")
        if not isinstance(err, float):
            problems.append(f"{tool} TF32 probe did not run ({err})")
        elif not err <= PROBE_LIMIT:
            problems.append(f"{tool} float32 matmul rounds its inputs (probe error {err:.1e}, TF32 gives 2.4e-4)")
    if os.environ.get("CUPY_TF32") not in (None, "0"):
        problems.append(f"CUPY_TF32={os.environ.get('CUPY_TF32')}")
    return problems


# -- the accuracy check -----------------------------------------------------------------------------
def check_against_cpu(sizes) -> dict:
    """GPU float32 and CPU float32, each against CPU float64 (the reference), from the same
    weights on 4096 W3 samples: the gradients of one backward pass through the W3 network with
    tanh and with ReLU, and the weights and losses after two epochs of Adam on the tanh network.

    The judged quantities come from the tanh network, which is smooth: with ReLU, a unit whose
    input lies within float32's rounding of 0 switches sides, and one such unit among the 1.6
    million of a batch moves the gradient by 1e-3 to 1e-2 (in a CPU simulation of 12 data sets in
    float32, 3 had one); the ReLU gradient is shown, not judged."""
    import chainrule as cr
    import w3

    X, y = w3.make_data(replace(sizes, w3_samples=4096))
    dims = w3.layer_sizes(sizes)
    runs = [("cpu", "float64", "cpu64"), ("cpu", "float32", "cpu32"), ("cuda", "float32", "gpu32")]
    grads, weights, losses = {"relu": {}, "tanh": {}}, {}, {}
    for activation in ("relu", "tanh"):
        start = cr.mlp(dims, activation=activation, rng=0, dtype="float64").get_weights()
        for device, dtype, key in runs:
            net = cr.mlp(dims, activation=activation, dtype=dtype, device=device)
            net.set_weights(start)
            loss = cr.losses.CrossEntropy()
            loss.forward(net.forward(net.to_device(X)), y)
            net.backward(loss.backward())
            grads[activation][key] = [cr.backend.to_numpy(p.grad).astype(np.float64) for p in net.parameters()]
            if activation == "tanh":
                net.set_weights(start)
                history = net.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(1e-3), epochs=2,
                                  batch_size=sizes.w3_batch, verbose=0, rng=0)
                weights[key], losses[key] = net.get_weights(), history.loss

    def rel_max(a_list, b_list):
        return max(float(np.abs(a - b).max() / np.abs(b).max()) for a, b in zip(a_list, b_list))

    def rel_norm(a_list, b_list):
        return max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(a_list, b_list))

    out = {}
    for key in ("gpu32", "cpu32"):
        out[key] = {"gradient": rel_max(grads["tanh"][key], grads["tanh"]["cpu64"]),
                    "gradient_relu": rel_max(grads["relu"][key], grads["relu"]["cpu64"]),
                    "weights_norm": rel_norm(weights[key], weights["cpu64"]),
                    "weights_max": rel_max(weights[key], weights["cpu64"]),
                    "loss_history": max(abs(a - b) / abs(b) for a, b in zip(losses[key], losses["cpu64"]))}
    out["gpu32_vs_cpu32_gradient"] = rel_max(grads["tanh"]["gpu32"], grads["tanh"]["cpu32"])
    return out


def judge_check(check) -> dict:
    """Is every GPU float32 error within float32's reach?

    Limit per quantity: 10× the CPU float32 error of the same quantity, but at least a floor
    that float32 itself may take on the GPU path, and for the gradients at most 1e-4.

    - Gradients of one backward pass through the tanh network (the TF32 detector): floor 1e-6
      (17 float32 ulps, so a CPU error tiny by luck fails nothing), ceiling 1e-4. Plain float32
      gives ~5e-7 here (fan-in 784), TF32 ~6e-4 (emulated on the CPU by rounding the products'
      inputs to TF32, 4 data sets).
    - Weights (‖Δ‖/‖w‖) and losses after 2 epochs of Adam: floor 5e-5 (~800 ulps). The GPU path
      is a different float32 computation from the CPU's (fused Adam kernel, epoch losses summed
      on the device in float32), which alone gives ~5e-6 on the weights and ~1e-6 on the losses
      (the same arithmetic in NumPy, under tests/fakecupy) against the CPU float32's 7e-7 and 5e-8:
      more than 10×, and not a defect. The floor still catches a wrong kernel (errors ≥ 1e-3).
    - The largest single weight difference after training is shown, not judged: a weight whose
      Adam steps flip with the rounding makes it a matter of chance (5.8e-5 in float32 on the CPU).
    """
    items = {}
    for key in JUDGED:
        gpu, cpu = check["gpu32"][key], check["cpu32"][key]
        floor = CHECK_FLOORS[key]
        limit = max(CHECK_FACTOR * cpu, floor) if math.isfinite(cpu) else floor
        if key == "gradient":
            limit = min(limit, GRADIENT_CEILING)
        items[key] = {"gpu32": gpu, "cpu32": cpu, "limit": limit, "ok": bool(gpu <= limit)}
    return {"ok": all(i["ok"] for i in items.values()), "items": items}

