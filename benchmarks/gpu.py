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
import gc  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the modules beside it, also when this file is loaded by its path (tests)
    sys.path.insert(0, str(HERE))

from gpu_cases import QUICK_ROUNDS, WARMUP, chainrule_case, plan, suite, time_cases, torch_case  # noqa: E402
from gpu_files import save, write_results_md  # noqa: E402
from gpu_log import elapsed, error_text, progress  # noqa: E402
from gpu_precision import (  # noqa: E402
    check_against_cpu, configure_torch, device_info, judge_check, judge_precision, precision_settings,
)
from gpu_report import (  # noqa: E402
    accuracy_verdict, failures, markdown, per_round_ratios, rows_from_times, targets, verdict_line,
)

DEFAULT_OUTPUT = HERE / "gpu_results.json"
QUICK_OUTPUT = HERE / "gpu_results_quick.json"


class Interrupted(BaseException):
    """SIGTERM (a timeout) arrived: the results are written with what was measured (a
    BaseException, so that no ``except Exception`` of a stage swallows it)."""


def _free_memory(cupy, torch, torch_device) -> None:
    """Return the memory pools' free blocks to the device (between workloads, after a failure)."""
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
    """The command line (see the module's docstring); returns the exit status."""
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
            progress(f"could not write {args.results_md}: {error_text(exc)}")
            code = 1
    return code


def run(args, argv, cupy, torch, torch_device, output) -> dict:
    """Measure everything into the results, saving them after every stage; returns them."""
    _, _, FULL, QUICK = suite()
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
            result["device"] = {"gpu": f"? ({error_text(exc)})", "torch_device": torch_device}
            result["failures"].append(f"device description: {error_text(exc)}")
        try:
            result["precision"] = precision_settings(cupy, torch, torch_device, set_errors)
            result["precision_problems"] = judge_precision(result["precision"])
        except Exception as exc:  # noqa: BLE001
            result["failures"].append(f"precision settings: {error_text(exc)}")
        progress(f"{result['device'].get('gpu')}; precision {result.get('precision')}")

        stage("accuracy check against the CPU")
        try:
            result["check"] = check_against_cpu(sizes)
            result["check_verdict"] = judge_check(result["check"])
            progress(f"check {result['check']} -> {'ok' if result['check_verdict']['ok'] else 'FAILED'}")
        except Exception as exc:  # noqa: BLE001
            result["check_error"] = error_text(exc)
            result["check_traceback"] = traceback.format_exc()[-4000:]
            progress(f"accuracy check failed: {result['check_error']}")

        w3, w4 = suite()[:2]
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
                w["error"] = error_text(exc)
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
        result["seconds"] = round(elapsed(), 1)
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
        result["failures"].append(f"during '{result['stage']}': {error_text(exc)}")
        result["traceback"] = traceback.format_exc()[-4000:]
        save(result, output)
        progress(f"stopped during '{result['stage']}': {error_text(exc)}; what was measured is in {output}")
        raise


def from_json(path, results_md) -> int:
    """Splice (or print) the results of an earlier run; no GPU needed."""
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"gpu.py: cannot read {path}: {error_text(exc)}", file=sys.stderr)
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
