"""chainrule's side-by-side benchmark suite: W1-W4 and W3's peak memory, one command.

    python benchmarks/run.py                 # everything, writes benchmarks/RESULTS.md
    python benchmarks/run.py --only W1,W3    # a subset
    python benchmarks/run.py --quick         # tiny sizes, one round (a smoke test, not a measurement)
    python benchmarks/run.py --blas native   # only with OpenBLAS's own choice of kernels

When the environment pins OpenBLAS's kernels (``OPENBLAS_CORETYPE``, as on the machine of
``RESULTS.md``, where it selects AVX2 kernels on a CPU with AVX-512), the default ``--blas both``
runs the suite twice: here, as the environment sets it, and in a child process without
``OPENBLAS_CORETYPE``, where OpenBLAS picks its kernels from the CPU. NumPy's matrix products
(chainrule's and scikit-learn's) run on those kernels; PyTorch brings its own BLAS.

Every case of a workload runs in this process, interleaved: each round runs every tool once,
in an order shuffled from round to round (seeded), after one untimed warm-up run each, with
garbage collected before each timed call; PyTorch gets as many threads as NumPy's BLAS. Times
are medians over the rounds. What each tool's run returns is checked (that it did the
workload's work: trained weights, epochs, losses), and the run fails when one did not. W3's peak memory is measured per tool in a fresh process
(``memory.py``). PyTorch and scikit-learn are optional; what is missing is skipped.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
import workloads  # noqa: E402
from chainrule.environment import CORETYPE  # noqa: E402

DEFAULT_ROUNDS = {"W1": 11, "W2": 7, "W3": 7, "W4": 5}
BLAS_MODES = ("environment", "native", "both")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: checks the suite runs")
    parser.add_argument("--only", default="W1,W2,W3,W4", help="comma-separated workloads (default: all)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per workload (default: per workload)")
    parser.add_argument("--no-memory", action="store_true", help="skip W3's per-tool peak-memory processes")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"), help="Markdown file to write ('-': none)")
    parser.add_argument("--blas", choices=BLAS_MODES, default="both",
                        help="OpenBLAS kernels: 'environment' as OPENBLAS_CORETYPE selects them, 'native' "
                             "OpenBLAS's own choice from the CPU (OPENBLAS_CORETYPE removed, in a child "
                             "process), 'both' (default) the two when OPENBLAS_CORETYPE is set")
    parser.add_argument("--results-json", default=None, help=argparse.SUPPRESS)  # a child's results, for its parent
    args = parser.parse_args(argv)
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in only if w not in workloads.WORKLOADS]
    if unknown or not only:
        parser.error(f"--only takes names from {','.join(workloads.WORKLOADS)}, got {args.only!r}")
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    args.only = only
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def time_workload(wl, rounds: int, warmup: bool = True) -> tuple[dict, dict]:
    """Run every case ``rounds`` times, interleaved (a seeded shuffle of the order each round, so
    no case always follows the same one); garbage is collected before each timed call.
    Returns ({tool: [seconds, ...]}, {tool: what its first run returned}) — the first run is
    the untimed warm-up, or the first round without one."""
    cases = wl.cases
    returned = {}
    if warmup:
        for case in cases:
            returned[case.tool] = case.prepare()()
    times = {case.tool: [] for case in cases}
    order = random.Random(f"{wl.key}-{rounds}")
    for r in range(rounds):
        for case in order.sample(cases, len(cases)):
            fn = case.prepare()
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            times[case.tool].append(time.perf_counter() - t0)
            returned.setdefault(case.tool, out)
        log(f"  {wl.key} round {r + 1}/{rounds}: " + ", ".join(f"{t} {v[-1]:.3f}s" for t, v in times.items()))
    return times, returned


def check_work(wl, returned: dict) -> list[str]:
    """Notes from the workload's check of what every case returned (RuntimeError when a case
    did not do the work)."""
    if wl.check is None:
        return []
    return [wl.check(tool, out) for tool, out in returned.items()]


def match_torch_threads() -> None:
    """Give PyTorch as many threads as NumPy's BLAS uses, so that neither has more cores."""
    torch = workloads.optional("torch")
    if torch is None:
        return
    from chainrule.environment import blas_libraries

    threads = [b["threads"] for b in blas_libraries() or () if b.get("threads")]
    if threads:
        torch.set_num_threads(max(threads))


def summarize(wl, times: dict) -> list[dict]:
    """One row per tool: median, min, rate and the time relative to chainrule's."""
    base = statistics.median(times["chainrule"])
    rows = []
    for tool, ts in times.items():
        median = statistics.median(ts)
        row = {"tool": tool, "median_s": median, "min_s": min(ts), "rounds": len(ts),
               "vs_chainrule": median / base}
        work = wl.work_by_tool.get(tool, wl.work)
        if wl.rate_unit == "samples/s":
            row["rate"] = work / median
        elif wl.rate_unit == "GFLOP/s":
            row["rate"] = work / median / 1e9
        rows.append(row)
    return rows


#: W3's memory row of scikit-learn where pandas and pyarrow cannot be imported.
SKLEARN_WITHOUT_PANDAS = "scikit-learn, without pandas/pyarrow"


def memory_runs() -> list[tuple[str, str, dict, str]]:
    """W3's memory measurements: (row name, tool, extra environment, packages blocked).

    scikit-learn imports pandas whenever it is installed (pandas comes with chainrule's test
    extras here), so its process is measured as installed and with pandas and pyarrow
    blocked; chainrule with its Numba kernels and, where Numba is on, with the NumPy path
    (Numba's import and compiler alone hold about 120 MiB)."""
    import importlib.util

    import w3

    runs = [("chainrule", "chainrule", {}, "")]
    if workloads.numba_kernels():
        runs.append((w3.NUMPY_KERNELS, w3.NUMPY_KERNELS, {"CHAINRULE_CPU_KERNELS": "numpy"}, "numba"))
    if workloads.optional("sklearn") is not None:
        runs.append(("scikit-learn", "scikit-learn", {}, ""))
        if importlib.util.find_spec("pandas") is not None:
            runs.append((SKLEARN_WITHOUT_PANDAS, "scikit-learn", {}, "pandas,pyarrow"))
    if workloads.optional("torch") is not None:
        runs.append(("pytorch", "pytorch", {}, ""))
    return runs


def measure_memory(quick: bool) -> list[dict]:
    """W3's peak RSS per tool, each in a fresh Python process."""
    rows = []
    for name, tool, extra_env, block in memory_runs():
        cmd = [sys.executable, str(HERE / "memory.py"), "--tool", tool, "--block", block]
        cmd += ["--quick"] if quick else []
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, env={**os.environ, **extra_env})
        if done.returncode != 0:
            raise RuntimeError(f"memory run for {name} failed: {done.stderr.strip()[-500:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["tool"] = name
        rows.append(row)
        log(f"  W3 memory {name}: peak {row['peak_rss_mib']:.0f} MiB")
    return rows


def measure(args) -> dict:
    """Run the chosen workloads in this process; the results as ``report`` reads them."""
    sizes = workloads.QUICK if args.quick else workloads.FULL
    results = {"quick": args.quick, "workloads": {}, "memory": None, "agreement": {}, "checks": {}}
    match_torch_threads()
    for key in args.only:
        wl = workloads.WORKLOADS[key](sizes)
        rounds = 1 if args.quick else (args.rounds or DEFAULT_ROUNDS[key])
        log(f"{key}: {wl.title} ({', '.join(c.tool for c in wl.cases)}; {rounds} rounds)")
        times, returned = time_workload(wl, rounds, warmup=not args.quick)
        results["workloads"][key] = {"title": wl.title, "rate_unit": wl.rate_unit, "notes": wl.notes,
                                     "rows": summarize(wl, times)}
        results["checks"][key] = check_work(wl, returned)
        if key == "W1":
            results["agreement"]["W1"] = workloads.w1_agreement(sizes)
            results["checks"]["W1"] += workloads.w1_checks(sizes)
        if key == "W2":
            results["agreement"]["W2"] = workloads.w2_agreement(sizes)
            results["checks"]["W2"] += workloads.w2_checks(sizes)
    if "W3" in args.only and not args.no_memory:
        log("W3 peak memory, one fresh process per tool")
        results["memory"] = measure_memory(args.quick)

    import machine

    results["machine"] = machine.describe()
    results["kernels"] = machine.blas_kernels()
    results["targets"] = report.targets(results)
    return results


def measure_native(args) -> dict:
    """The same measurements in a child process without ``OPENBLAS_CORETYPE``, so that OpenBLAS
    chooses its kernels from the CPU (the variable is read only when OpenBLAS loads)."""
    env = {k: v for k, v in os.environ.items() if k != CORETYPE}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, str(HERE / "run.py"), "--only", ",".join(args.only), "--blas", "native",
               "--output", "-", "--results-json", str(out)]
        cmd += (["--quick"] if args.quick else []) + (["--no-memory"] if args.no_memory else [])
        cmd += ["--rounds", str(args.rounds)] if args.rounds else []
        log(f"the same suite with OpenBLAS's own kernels ({CORETYPE} unset), in a child process")
        done = subprocess.run(cmd, env=env, cwd=HERE, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"the run without {CORETYPE} failed (exit status {done.returncode})")
        return json.loads(out.read_text())


def main(argv=None) -> int:
    args = parse_args(argv)
    pinned = os.environ.get(CORETYPE) is not None
    results = measure_native(args) if args.blas == "native" and pinned else measure(args)
    results["blas"] = "native" if args.blas == "native" or not pinned else "environment"
    if args.blas == "both" and pinned:
        try:
            results["native"] = measure_native(args)
        except RuntimeError as exc:  # keep this run's measurements: report them without the second run
            log(f"warning: {exc}; the results below are only those with {CORETYPE}={os.environ[CORETYPE]}")
    results["command"] = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.results_json:
        Path(args.results_json).write_text(json.dumps(results))
    print(report.text(results))
    if args.output != "-":
        report.write_markdown(results, Path(args.output), HERE / "gpu_results.json")
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
