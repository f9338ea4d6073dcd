"""GPU benchmark: chainrule on CuPy vs PyTorch eager, float32 without TF32, in one process.

    python benchmarks/gpu.py [--output benchmarks/gpu_results.json] [--results-md benchmarks/RESULTS.md]
    python benchmarks/gpu.py --quick             # tiny sizes: checks the script runs, not a measurement
    python benchmarks/gpu.py --from-json PATH --results-md benchmarks/RESULTS.md   # no GPU needed

Workloads (data placed on the GPU once, before timing, for both tools):

- W3: 60000×784 float32 random data, 784-256-128-10 ReLU, softmax cross-entropy, Adam,
  batch 128, one epoch (reported, no target);
- W3 with batch 4096 (target: chainrule's samples/s at least PyTorch's);
- wide: three 4096×4096 Dense layers (ReLU between), MSE, Adam, batch 1024, one epoch of
  16384 samples (16 steps) (target: chainrule's samples/s at least PyTorch's).

Both tools do the same work per step: chainrule's ``fit`` runs with ``metric=None`` because
the PyTorch loop computes no accuracy (a row with chainrule's default metric is shown for
W3). Every workload gets two untimed warm-up runs per tool, then interleaved rounds (the
order rotated each round); a target is judged on the ratio of the median times, and the
spread of the per-round ratios is shown beside it.

Precision: TF32 is switched off for CuPy (``CUPY_TF32=0``), for cuBLAS as a whole
(``NVIDIA_TF32_OVERRIDE=0`` unless set) and for PyTorch (every switch it has); the values are
read back into the results, and a float32 matrix product that TF32 would visibly round (inputs
1 + 2⁻¹², exact in float32 and in its sums, 1 in TF32: relative error 2.4e-4) is run in both
tools. Before timing, GPU results are checked against the CPU: GPU float32 and CPU float32,
each against CPU float64 from the same weights. The check fails (exit status 1) when a GPU
error is more than 10× the CPU float32 error of the same quantity and above a float32 floor
(1e-6 for gradients, 5e-5 after training), or a gradient error is above 1e-4: plain float32
gives about 5e-7 for the gradients of the tanh network, TF32 about 6e-4 (see ``judge_check``).

The results are written (atomically) to ``--output`` after every stage, so a run that dies
leaves what it measured; each workload runs inside its own try: an error is recorded with
the workload and the run goes on. The exit status is 0 when everything ran and the precision
check passed (whether or not the speed targets are met: the verdict says), 1 when a stage
failed or the precision check did not pass, 2 when the script cannot run here. One line per
stage goes to stderr.

Estimated duration on an H100/H200: imports, CUDA start and CuPy's kernel compilation
20–40 s; the accuracy check (on the CPU in float64 and float32, and on the GPU) ~10 s; data
~5 s; W3 batch 128 (469 steps an epoch, about 0.2–0.5 s, 3 rows × 12 runs) ≲ 20 s; W3 batch
4096 (15 steps, ≲ 0.05 s, 3 rows × 32 runs) ≲ 5 s; wide (16 steps of 275 GFLOP each, ~0.1 s
at 40–60 TFLOP/s float32, 2 rows × 32 runs) ≲ 10 s: about 1–1.5 minutes, under 3.

The JSON's ``markdown`` is the section ``run.py`` puts into ``RESULTS.md``; ``--results-md``
replaces only that section (from its ``## GPU`` heading to the next ``## `` heading or the
end; appended when absent) in an existing ``RESULTS.md`` and leaves the rest byte for byte.
``--quick`` results are written to another file by default, say so in their markdown, and
are refused by ``--results-md``.
"""

from __future__ import annotations

import os

# before CuPy or PyTorch start CUDA: plain float32 matrix products
os.environ["CUPY_TF32"] = "0"
os.environ.setdefault("NVIDIA_TF32_OVERRIDE", "0")

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "gpu_results.json"
QUICK_OUTPUT = HERE / "gpu_results_quick.json"
HEADING = "## GPU: chainrule (CuPy) vs PyTorch eager"
QUICK_BANNER = "Quick mode, not a measurement"

#: (key, title, kind, batch or None for W4's, timed rounds, goal for chainrule samples/s ÷ PyTorch's)
WORKLOADS = (
    ("w3_128", "W3, batch 128", "w3", 128, 10, None),
    ("w3_4096", "W3, batch 4096", "w3", 4096, 30, 1.0),
    ("wide", None, "wide", None, 30, 1.0),
)
QUICK_ROUNDS = 2
WARMUP = 2

#: the accuracy check's limits (see ``judge_check``): a GPU error passes up to
#: max(CHECK_FACTOR × the CPU float32 error, CHECK_FLOORS[quantity]), gradients at most GRADIENT_CEILING
CHECK_FACTOR = 10.0
CHECK_FLOORS = {"gradient": 1e-6, "weights_norm": 5e-5, "loss_history": 5e-5}
GRADIENT_CEILING = 1e-4
JUDGED = tuple(CHECK_FLOORS)
#: a TF32 product of the probe is off by 2.4e-4; float32's is exact
PROBE_LIMIT = 1e-6
PROBE_K = 784

_T0 = time.perf_counter()


class Interrupted(BaseException):
    """SIGTERM (a timeout) arrived: the results are written with what was measured (a
    BaseException, so that no ``except Exception`` of a stage swallows it)."""


def progress(message: str) -> None:
    print(f"[gpu.py {time.perf_counter() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def _suite():
    """The benchmark suite's modules (imported here so that importing this file is cheap)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import w3
    import w4
    from workloads import FULL, QUICK

    return w3, w4, FULL, QUICK


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def _try(fn):
    """``fn()``, or the error's text: a missing attribute never stops the run."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - recorded, not raised
        return f"error: {_error_text(exc)}"


# -- writing files ----------------------------------------------------------------------------------
def atomic_write(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``
    (a reader never sees half a file); the file keeps its permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def splice_gpu_section(text: str, section: str) -> str:
    """``text`` (a RESULTS.md) with its GPU section (from the first line starting ``## GPU`` to
    the next line starting ``## `` or the end) replaced by ``section``, or ``section`` appended
    after one blank line when there is none. Everything else is left as it was."""
    section = section.strip("\n") + "\n"
    start = re.search(r"^## GPU", text, re.M)
    if start is None:
        if not text:
            return section
        sep = "" if text.endswith("\n") else "\n"
        if not (text + sep).endswith("\n\n"):
            sep += "\n"
        return text + sep + section
    after = re.compile(r"^## ", re.M).search(text, start.end())
    if after is None:
        return text[:start.start()] + section
    old = text[start.start():after.start()]
    blank_lines = len(old) - len(old.rstrip("\n")) - 1  # the separation from the next heading
    return text[:start.start()] + section + "\n" * max(blank_lines, 1) + text[after.start():]


def write_results_md(path, result) -> None:
    """Splice ``result``'s markdown into the RESULTS.md at ``path`` (atomically)."""
    if result.get("quick"):
        raise ValueError("quick-mode results are not a measurement: they do not go into RESULTS.md")
    section = result.get("markdown") or markdown(result)
    path = Path(path)
    text = path.read_bytes().decode("utf-8") if path.exists() else ""
    atomic_write(path, splice_gpu_section(text, section))


def save(result, path) -> None:
    """The results as they stand, with their markdown, written atomically to ``path``."""
    try:
        result["markdown"] = markdown(result)
    except Exception as exc:  # noqa: BLE001 - the numbers must still reach the disk
        result["markdown"] = f"{HEADING}\n\n(the markdown could not be made: {_error_text(exc)})\n"
        result.setdefault("failures", []).append(f"markdown: {_error_text(exc)}")
    try:
        atomic_write(path, json.dumps(result, indent=1, default=str) + "\n")
    except Exception as exc:  # noqa: BLE001 - keep measuring; stdout still gets the markdown
        progress(f"could not write {path}: {_error_text(exc)}")


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
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
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
            errors.append(f"{name}: {_error_text(exc)}")

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

    w3 = _suite()[0]
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


# -- the workloads ----------------------------------------------------------------------------------
def _sync():
    import cupy

    cupy.cuda.Device().synchronize()


def chainrule_case(kind, sizes, X, y, batch, metric=None):
    import chainrule as cr

    w3 = _suite()[0]
    if kind == "w3":
        net = cr.mlp(w3.layer_sizes(sizes), activation="relu", rng=0, dtype="float32", device="cuda")
        kwargs = dict(loss="cross_entropy", batch_size=batch, rng=0)
    else:
        net = cr.mlp([sizes.w4_width] * (sizes.w4_layers + 1), activation="relu", rng=0, dtype="float32",
                     device="cuda")
        kwargs = dict(loss="mse", batch_size=batch, shuffle=False)
    opt = cr.optim.Adam(1e-3)

    def run():
        net.fit(X, y, optimizer=opt, epochs=1, verbose=0, metric=metric, **kwargs)
        _sync()

    return run


def torch_case(kind, sizes, X, y, batch, device="cuda"):
    w3, w4 = _suite()[:2]
    if kind == "w3":
        return w3.build("pytorch", X, y, sizes, device=device, batch_size=batch)
    return w4.build("pytorch", sizes, X, y, optimizer="adam", device=device, batch=batch)


def time_cases(cases: dict, rounds: int, warmup: int = WARMUP) -> dict:
    """Seconds per run of each case: ``warmup`` untimed runs each, then ``rounds`` rounds in
    which every case runs once, the order rotated each round."""
    for fn in cases.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def plan(sizes, rounds_override=None, quick=False) -> list:
    """The workloads to run, each as the entry the results keep (status 'pending')."""
    out = []
    for key, title, kind, batch, rounds, goal in WORKLOADS:
        if kind == "wide":
            batch = sizes.w4_batch
            title = f"wide {sizes.w4_width}×{sizes.w4_layers}, batch {batch}"
        if rounds_override:
            rounds = rounds_override
        elif quick:
            rounds = QUICK_ROUNDS
        out.append({"key": key, "name": title, "kind": kind, "batch": batch, "rounds": rounds, "goal": goal,
                    "status": "pending"})
    return out


def _quartiles(values):
    if len(values) < 2:
        return [values[0], values[0]] if values else None
    q = statistics.quantiles(values, n=4, method="inclusive")  # within the values, also for few rounds
    return [q[0], q[2]]


def rows_from_times(times: dict, n: int) -> dict:
    rows = {}
    for tool, ts in times.items():
        median = statistics.median(ts)
        rows[tool] = {"median_s": median, "min_s": min(ts), "samples_per_s": n / median, "rounds": len(ts),
                      "times_s": ts}
    return rows


def per_round_ratios(times: dict) -> list:
    """chainrule's samples/s ÷ PyTorch's in each round (same round, adjacent runs)."""
    if "chainrule" not in times or "pytorch" not in times:
        return []
    return [p / c for c, p in zip(times["chainrule"], times["pytorch"])]


def targets(result) -> list:
    """One row per workload: chainrule's samples/s ÷ PyTorch's against its goal (None: no target)."""
    out = []
    for w in result.get("workloads", []):
        rows = w.get("rows") or {}
        measured = None
        if "chainrule" in rows and "pytorch" in rows:
            measured = rows["chainrule"]["samples_per_s"] / rows["pytorch"]["samples_per_s"]
        goal = w.get("goal")
        met = None if goal is None else (measured is not None and measured >= goal)
        out.append({"target": f"{w['name']}: chainrule samples/s ÷ PyTorch's", "key": w["key"],
                    "goal": None if goal is None else f">= {goal:g}", "measured": measured, "met": met,
                    "per_round_quartiles": _quartiles(w.get("ratios") or []),
                    "status": w.get("status"), "error": w.get("error")})
    return out


def accuracy_verdict(result) -> dict:
    """Precision settings and the CPU check together: ok, and the problems if not."""
    problems = list(result.get("precision_problems") or [])
    if "precision" not in result:
        problems.append("precision settings not read")
    verdict = result.get("check_verdict")
    if verdict is None:
        problems.append("accuracy check " + ("failed: " + result["check_error"] if result.get("check_error")
                                             else "not run"))
    else:
        for key, item in verdict["items"].items():
            if not item["ok"]:
                problems.append(f"{key} error {item['gpu32']:.1e} > limit {item['limit']:.1e}")
    return {"ok": not problems, "problems": problems}


def failures(result) -> list:
    out = list(result.get("failures") or [])
    out += [f"{w['name']}: {w.get('error') or w['status']}" for w in result.get("workloads", [])
            if w.get("status") != "done"]
    acc = accuracy_verdict(result)
    out += [f"precision: {p}" for p in acc["problems"]]
    return out


def verdict_line(result) -> str:
    parts = []
    for t in targets(result):
        if t["met"] is None and t["measured"] is None:
            continue
        value = "not measured" if t["measured"] is None else f"{t['measured']:.2f}×"
        state = "no target" if t["goal"] is None else ("met" if t["met"] else "NOT MET")
        parts.append(f"{t['target'].split(':')[0]} {value} ({state})")
    acc = accuracy_verdict(result)
    parts.append("precision ok" if acc["ok"] else "precision FAILED: " + "; ".join(acc["problems"]))
    fails = [f for f in failures(result) if not f.startswith("precision: ")]
    parts.append("errors: " + ("; ".join(fails) if fails else "none"))
    head = "VERDICT" + (" (quick mode, not a measurement)" if result.get("quick") else "")
    return f"{head} [{result.get('status')}]: " + " | ".join(parts)


# -- the markdown section ---------------------------------------------------------------------------
def _yes_no(met) -> str:
    return "–" if met is None else ("yes" if met else "**no**")


def _fmt(v, spec=".1e") -> str:
    return format(v, spec) if isinstance(v, (int, float)) else ("–" if v is None else str(v))


def markdown(result) -> str:
    d = result.get("device") or {}
    lines = [HEADING, ""]
    if result.get("quick"):
        where = "PyTorch on the CPU, " if d.get("torch_device") == "cpu" else ""
        lines += [f"**{QUICK_BANNER}: tiny sizes, {where}few rounds. These numbers only check that "
                  "`benchmarks/gpu.py` runs.**", ""]
    status = result.get("status")
    if status in ("running", "interrupted"):
        lines += [f"**Incomplete run: it stopped during '{result.get('stage', '?')}' "
                  f"({'interrupted' if status == 'interrupted' else 'killed, or still running when written'}); "
                  "what follows is what it measured before.**", ""]
    gpu_line = (f"Measured {d.get('date', '?')} on an **{d.get('gpu', '?')}** ({_fmt(d.get('memory_gib'), 'g')} GiB, "
                f"compute capability {d.get('compute_capability') or '?'}; CUDA driver {d.get('cuda_driver')}, "
                f"runtime {d.get('cuda_runtime')}; CuPy {d.get('cupy')}, PyTorch {d.get('torch')} (CUDA "
                f"{d.get('torch_cuda')}, on {d.get('torch_device')}), NumPy {d.get('numpy')}, chainrule "
                f"{d.get('chainrule_commit') or '?'}) with `{result.get('command', '?')}`. Float32 throughout; "
                "data on the GPU before timing; two untimed warm-up runs of each tool, then interleaved rounds "
                "(order rotated each round); medians.")
    lines += [gpu_line, ""]
    p = result.get("precision")
    if p:
        switches = ", ".join(f"`{k}={v if v is not None else '(unset)'}`" for k, v in p.items()
                             if k not in ("setting_errors", "cupy_probe_error", "torch_probe_error"))
        lines += [f"TF32 off, as read back: {switches}. A float32 product that TF32 would round (inputs 1 + 2⁻¹², "
                  f"{PROBE_K} terms; TF32: relative error 2.4e-4) is off by {_fmt(p.get('cupy_probe_error'))} in "
                  f"CuPy and {_fmt(p.get('torch_probe_error'))} in PyTorch."
                  + (" Refused settings: " + "; ".join(p["setting_errors"]) + "." if p.get("setting_errors") else ""),
                  ""]
    lines += ["### Targets", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in targets(result):
        if t["measured"] is not None:
            q = t["per_round_quartiles"]
            spread = f" (per round: {q[0]:.2f}–{q[1]:.2f}, quartiles)" if q else ""
            measured = f"{t['measured']:.2f}×{spread}"
        else:
            measured = f"not measured ({t['error'] or t['status']})"
        goal = t["goal"] or "(no target)"
        lines.append(f"| {t['target']} | {goal} | {measured} | {_yes_no(t['met'])} |")
    acc = accuracy_verdict(result)
    lines.append(f"| GPU float32 results within float32 precision (accuracy check below; TF32 probes) | "
                 f"each GPU error <= max({CHECK_FACTOR:g} × CPU float32's, a float32 floor), gradients <= "
                 f"{GRADIENT_CEILING:g}; probes <= {PROBE_LIMIT:g} | "
                 f"{'within limits' if acc['ok'] else '; '.join(acc['problems'])} | {_yes_no(acc['ok'])} |")
    lines += ["", "### Timings", "",
              "| workload | tool | rounds | median s | min s | samples/s | chainrule samples/s ÷ PyTorch's |",
              "|---|---|---|---|---|---|---|"]
    for w in result.get("workloads", []):
        rows = w.get("rows") or {}
        if not rows:
            lines.append(f"| {w['name']} | – | – | – | – | – | {w.get('error') or w['status']} |")
            continue
        torch_rate = rows.get("pytorch", {}).get("samples_per_s")
        for tool, row in rows.items():
            ratio = f"{row['samples_per_s'] / torch_rate:.2f}×" if tool != "pytorch" and torch_rate else ""
            lines.append(f"| {w['name']} | {tool} | {row['rounds']} | {row['median_s']:.4f} | {row['min_s']:.4f} | "
                         f"{row['samples_per_s']:,.0f} | {ratio} |")
    lines += ["", "### Accuracy check", ""]
    c = result.get("check")
    if c:
        v = result.get("check_verdict") or judge_check(c)
        lines += ["4096 W3 samples, the same initial weights, each run against the CPU in float64 (max |Δ| / "
                  "max |reference| per tensor, or ‖Δ‖ / ‖reference‖; the largest over tensors). Judged: the "
                  "tanh network's gradients, weights (norm) and losses; the ReLU gradients and the largest "
                  "single weight are shown only (a ReLU unit within rounding of 0, or a weight whose Adam "
                  "steps flip, makes them a matter of chance):", "",
                  "| run | gradients, tanh network, one backward pass | gradients, ReLU network | weights after "
                  "2 epochs of Adam, tanh network (norm / max) | loss history |", "|---|---|---|---|---|"]
        for key, label in (("gpu32", "GPU float32"), ("cpu32", "CPU float32")):
            lines.append(f"| {label} | {c[key]['gradient']:.1e} | {_fmt(c[key].get('gradient_relu'))} | "
                         f"{c[key]['weights_norm']:.1e} / {c[key]['weights_max']:.1e} | "
                         f"{c[key]['loss_history']:.1e} |")
        items = v["items"]
        lines.append(f"| limit for the GPU | {items['gradient']['limit']:.1e} | (not judged) | "
                     f"{items['weights_norm']['limit']:.1e} / (not judged) | {items['loss_history']['limit']:.1e} |")
        lines += ["", f"GPU vs CPU gradients (tanh), both float32: {c['gpu32_vs_cpu32_gradient']:.1e}. Verdict: "
                      + ("**within float32 precision**." if v["ok"] else
                         "**FAILED**: " + ", ".join(f"{k} {i['gpu32']:.1e} > {i['limit']:.1e}"
                                                    for k, i in items.items() if not i["ok"]) + ".")]
    else:
        lines.append(f"Not measured ({result.get('check_error') or 'not run'}).")
    fails = [f for f in failures(result) if not f.startswith("precision: ")]
    if fails:
        lines += ["", "### Errors", ""] + [f"- {f}" for f in fails]
    return "\n".join(lines) + "\n"


# -- the run ----------------------------------------------------------------------------------------
def _free_memory(cupy, torch, torch_device) -> None:
    gc.collect()
    try:
        cupy.get_default_memory_pool().free_all_blocks()
    except Exception:  # noqa: BLE001 - the fake CuPy has no pool
        pass
    if torch_device == "cuda":
        try:
            torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001
            pass


def _on_sigterm(signum, frame):
    raise Interrupted(f"signal {signum}")


def run_workload(w, sizes, data, cupy, torch_device) -> None:
    """Time one workload into ``w`` (its rows, per-round ratios); raises on any error."""
    kind, batch = w["kind"], w["batch"]
    Xd, yd, Xh, yh = data(kind)
    progress(f"{w['name']}: setting up")
    cases = {"chainrule": chainrule_case(kind, sizes, Xd, yd, batch),
             "pytorch": torch_case(kind, sizes, Xh, yh, batch, device=torch_device)}
    if kind == "w3":
        cases["chainrule, default metric"] = chainrule_case(kind, sizes, Xd, yd, batch, metric="auto")
    progress(f"{w['name']}: {WARMUP} warm-up runs and {w['rounds']} rounds of {', '.join(cases)}")
    times = time_cases(cases, w["rounds"])
    w["rows"] = rows_from_times(times, Xh.shape[0])
    w["ratios"] = per_round_ratios(times)


def output_path(output, quick: bool) -> Path:
    """Where the results go: ``--output``, else a quick run's own file (never the measurement's)."""
    return Path(output) if output else (QUICK_OUTPUT if quick else DEFAULT_OUTPUT)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=None,
                        help="timed rounds for every workload (default: 10 for W3 batch 128, 30 for the others; "
                             f"{QUICK_ROUNDS} with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that the script runs (PyTorch on the CPU when it has no CUDA); "
                             "not a measurement")
    parser.add_argument("--output", default=None,
                        help=f"the results (JSON); default {DEFAULT_OUTPUT.relative_to(HERE.parent)}, with --quick "
                             f"{QUICK_OUTPUT.relative_to(HERE.parent)}")
    parser.add_argument("--results-md", default=None, metavar="PATH",
                        help="replace (or append) the GPU section of this RESULTS.md with these results")
    parser.add_argument("--from-json", default=None, metavar="PATH",
                        help="measure nothing: take the results from this JSON (from a GPU machine); with "
                             "--results-md, splice them in; without, print their markdown")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.quick and args.results_md:
        parser.error("--quick results are not a measurement: they do not go into RESULTS.md (--results-md)")
    if args.from_json:
        return from_json(args.from_json, args.results_md)

    from chainrule.backend import cupy_module

    try:
        cupy = cupy_module()
        import torch

        torch_device = "cuda" if torch.cuda.is_available() else None
        if torch_device is None:
            if not args.quick:
                raise RuntimeError("PyTorch sees no CUDA GPU (a CPU build of torch?)")
            torch_device = "cpu"
    except (RuntimeError, ImportError) as exc:
        print(f"gpu.py needs an NVIDIA GPU with CuPy and a CUDA build of PyTorch: {exc}", file=sys.stderr)
        return 2
    output = output_path(args.output, args.quick)
    if torch_device == "cpu":
        progress("quick mode: PyTorch sees no CUDA GPU, so it runs on the CPU")
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        result = run(args, argv, cupy, torch, torch_device, output)
    except Interrupted:
        return 143
    code = 0 if not failures(result) else 1
    print(result["markdown"])
    line = verdict_line(result)
    print(line)
    progress(line)
    if args.results_md:
        try:
            write_results_md(args.results_md, result)
            progress(f"GPU section written into {args.results_md}")
        except Exception as exc:  # noqa: BLE001
            progress(f"could not write {args.results_md}: {_error_text(exc)}")
            code = 1
    return code


def run(args, argv, cupy, torch, torch_device, output) -> dict:
    """Measure everything into the results, saving them after every stage; returns them."""
    _, _, FULL, QUICK = _suite()
    sizes = QUICK if args.quick else FULL
    result = {"schema": 2, "status": "running", "stage": "start", "quick": bool(args.quick),
              "command": " ".join(["python benchmarks/gpu.py", *argv]).strip(),
              "workloads": plan(sizes, args.rounds, args.quick), "failures": [], "stage_seconds": {}}
    stage_start = [time.perf_counter()]

    def stage(name):
        result["stage_seconds"][result["stage"]] = round(time.perf_counter() - stage_start[0], 2)
        stage_start[0] = time.perf_counter()
        result["stage"] = name
        progress(name)
        save(result, output)

    try:
        stage("device and precision settings")
        set_errors = configure_torch(torch)
        try:
            result["device"] = device_info(cupy, torch, torch_device)
        except Exception as exc:  # noqa: BLE001
            result["device"] = {"gpu": f"? ({_error_text(exc)})", "torch_device": torch_device}
            result["failures"].append(f"device description: {_error_text(exc)}")
        try:
            result["precision"] = precision_settings(cupy, torch, torch_device, set_errors)
            result["precision_problems"] = judge_precision(result["precision"])
        except Exception as exc:  # noqa: BLE001
            result["failures"].append(f"precision settings: {_error_text(exc)}")
        progress(f"{result['device'].get('gpu')}; precision {result.get('precision')}")

        stage("accuracy check against the CPU")
        try:
            result["check"] = check_against_cpu(sizes)
            result["check_verdict"] = judge_check(result["check"])
            progress(f"check {result['check']} -> {'ok' if result['check_verdict']['ok'] else 'FAILED'}")
        except Exception as exc:  # noqa: BLE001
            result["check_error"] = _error_text(exc)
            result["check_traceback"] = traceback.format_exc()[-4000:]
            progress(f"accuracy check failed: {result['check_error']}")

        w3, w4 = _suite()[:2]
        cache = {}

        def data(kind):
            if kind not in cache:
                cache.clear()
                _free_memory(cupy, torch, torch_device)
                if kind == "w3":
                    Xh, yh = w3.make_data(sizes)
                else:
                    Xh, yh = w4.make_data(sizes, n_samples=16 * sizes.w4_batch)
                cache[kind] = (cupy.asarray(Xh), cupy.asarray(yh), Xh, yh)
            return cache[kind]

        for w in result["workloads"]:
            w["status"] = "running"
            stage(w["name"])
            t0 = time.perf_counter()
            try:
                run_workload(w, sizes, data, cupy, torch_device)
                w["status"] = "done"
                rows = w["rows"]
                ratio = rows["chainrule"]["samples_per_s"] / rows["pytorch"]["samples_per_s"]
                progress(f"{w['name']}: " + ", ".join(f"{t} {r['samples_per_s']:,.0f}/s" for t, r in rows.items())
                         + f"; chainrule ÷ PyTorch {ratio:.2f}")
            except Interrupted:
                w["status"] = "interrupted"
                raise
            except Exception as exc:  # noqa: BLE001 - recorded; the next workload runs
                w["status"] = "error"
                w["error"] = _error_text(exc)
                w["traceback"] = traceback.format_exc()[-4000:]
                progress(f"{w['name']} failed: {w['error']}")
                _free_memory(cupy, torch, torch_device)
            w["seconds"] = round(time.perf_counter() - t0, 2)
        cache.clear()
        result["stage_seconds"][result["stage"]] = round(time.perf_counter() - stage_start[0], 2)
        result["stage"] = "done"
        result["targets"] = targets(result)
        result["accuracy"] = accuracy_verdict(result)
        result["status"] = "complete" if not failures(result) else "failed"
        result["seconds"] = round(time.perf_counter() - _T0, 1)
        save(result, output)
        progress(f"results written to {output}")
        return result
    except Interrupted as exc:
        result["status"] = "interrupted"
        result["failures"].append(f"interrupted during '{result['stage']}' ({exc})")
        save(result, output)
        progress(f"interrupted during '{result['stage']}'; what was measured is in {output}")
        raise
    except BaseException as exc:
        # an error outside a workload's own try (or Ctrl-C): keep what was measured
        result["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        result["failures"].append(f"during '{result['stage']}': {_error_text(exc)}")
        result["traceback"] = traceback.format_exc()[-4000:]
        save(result, output)
        progress(f"stopped during '{result['stage']}': {_error_text(exc)}; what was measured is in {output}")
        raise


def from_json(path, results_md) -> int:
    """Splice (or print) the results of an earlier run; no GPU needed."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"gpu.py: cannot read {path}: {_error_text(exc)}", file=sys.stderr)
        return 2
    if not isinstance(result, dict) or not (result.get("markdown") or result.get("workloads")):
        print(f"gpu.py: {path} holds no GPU results (no 'markdown')", file=sys.stderr)
        return 2
    if result.get("quick"):
        print(f"gpu.py: {path} holds quick-mode results, not a measurement: not written into RESULTS.md",
              file=sys.stderr)
        if results_md:
            return 2
    if not result.get("markdown"):
        result["markdown"] = markdown(result)
    if not results_md:
        print(result["markdown"])
        return 0
    write_results_md(results_md, result)
    if result.get("schema") == 2:  # the first gpu.py's JSON had the markdown, no verdicts
        print(verdict_line(result))
    print(f"GPU section of {results_md} written from {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
