"""Targets, the printed table and ``RESULTS.md`` from the suite's measurements."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gpu_files import atomic_write, gpu_section, splice_gpu_section
from gpu_log import error_text


def _row(results, key, tool):
    wl = results["workloads"].get(key)
    if wl is None:
        return None
    return next((r for r in wl["rows"] if r["tool"] == tool), None)


def targets(results) -> list[dict]:
    """The issue's CPU targets that this run measured: name, measured ratio, goal, met."""
    out = []

    def add(name, value, goal, at_most: bool):
        if value is None:
            return
        met = value <= goal if at_most else value >= goal
        out.append({"target": name, "measured": value, "goal": ("<= " if at_most else ">= ") + f"{goal:g}",
                    "met": met})

    for key in ("W1", "W2"):
        cr, seed = _row(results, key, "chainrule"), _row(results, key, "seed loop")
        if cr and seed:
            add(f"{key} chainrule time / seed loop time", cr["median_s"] / seed["median_s"], 1.05, True)
    cr = _row(results, "W3", "chainrule")
    for tool, goal in (("scikit-learn", 1.5), ("pytorch", 2.0)):
        other = _row(results, "W3", tool)
        if cr and other:
            add(f"W3 chainrule samples/s / {tool} samples/s", cr["rate"] / other["rate"], goal, False)
    memory = {m["tool"]: m for m in results.get("memory") or []}
    for ours in ("chainrule", "chainrule, NumPy kernels"):
        for theirs, where in (("scikit-learn", ""), ("scikit-learn, without pandas/pyarrow", ", without pandas")):
            if ours in memory and theirs in memory:
                add(f"W3 {ours} peak RSS / scikit-learn peak RSS{where}",
                    memory[ours]["peak_rss_mib"] / memory[theirs]["peak_rss_mib"], 1.0, True)
    mm = _row(results, "W4", "matmul")
    for tool in ("chainrule", "chainrule fit"):
        ours = _row(results, "W4", tool)
        if ours and mm:
            add(f"W4 {tool} GFLOP/s / matmul GFLOP/s", ours["rate"] / mm["rate"], 0.9, False)
    return out


def _fmt_rate(row, unit):
    if unit is None or "rate" not in row:
        return ""
    return f"{row['rate']:,.0f}" if unit == "samples/s" else f"{row['rate']:,.1f}"


def workload_table(key, wl) -> list[str]:
    unit = wl["rate_unit"]
    head = "| tool | median s | min s | rounds |" + (f" {unit} |" if unit else "") + " time / chainrule's |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in wl["rows"]:
        rate = f" {_fmt_rate(r, unit)} |" if unit else ""
        lines.append(f"| {r['tool']} | {r['median_s']:.4f} | {r['min_s']:.4f} | {r['rounds']} |{rate} "
                     f"{r['vs_chainrule']:.2f}× |")
    return lines


def text(results) -> str:
    """The plain-text summary printed at the end of a run."""
    lines = _text_run(results)
    native = results.get("native")
    if native:
        lines += ["", f"with OpenBLAS's own kernels ({native['kernels']}; OPENBLAS_CORETYPE unset):"]
        lines += _text_run(native)
    return "\n".join(lines)


def _text_run(results) -> list[str]:
    lines = []
    for key, wl in results["workloads"].items():
        lines.append(f"{key} {wl['title']}")
        width = max(len(r["tool"]) for r in wl["rows"])
        for r in wl["rows"]:
            rate = f"  {_fmt_rate(r, wl['rate_unit'])} {wl['rate_unit']}" if wl["rate_unit"] else ""
            lines.append(f"  {r['tool']:<{width}} median {r['median_s']:9.4f} s  min {r['min_s']:9.4f} s"
                         f"{rate}  ({r['vs_chainrule']:.2f}× chainrule's time)")
    memory = results.get("memory") or []
    for m in memory:
        width = max(len(other["tool"]) for other in memory)
        lines.append(f"W3 peak RSS {m['tool']:<{width}} {m['peak_rss_mib']:8.1f} MiB")
    if results["targets"]:
        width = max(len(t["target"]) for t in results["targets"])
        lines.append(f"targets (OpenBLAS kernels: {results.get('kernels', '?')})"
                     + (" (quick sizes: not a measurement)" if results["quick"] else ""))
        for t in results["targets"]:
            lines.append(f"  {t['target']:<{width}} {t['measured']:6.3f} (goal {t['goal']}) "
                         f"{'met' if t['met'] else 'NOT MET'}")
    return lines


def _yes_no(target) -> str:
    return "yes" if target["met"] else "**no**"


def targets_table(results) -> list[str]:
    """The targets of this run, and of the run with OpenBLAS's own kernels beside them."""
    native = results.get("native")
    if not native:
        lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
        return lines + [f"| {t['target']} | {t['measured']:.3f} | {t['goal']} | {_yes_no(t)} |"
                        for t in results["targets"]]
    pinned = results["machine"].get("OPENBLAS_CORETYPE", "?")
    lines = [f"| target | goal | measured, OPENBLAS_CORETYPE={pinned} ({results.get('kernels', '?')} kernels) | met "
             f"| measured, OpenBLAS's own choice ({native.get('kernels', '?')} kernels) | met |",
             "|---|---|---|---|---|---|"]
    by_name = {t["target"]: t for t in native["targets"]}
    for t in results["targets"]:
        other = by_name.get(t["target"])
        theirs = f"{other['measured']:.3f} | {_yes_no(other)}" if other else "– | –"
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']:.3f} | {_yes_no(t)} | {theirs} |")
    return lines


def workload_sections(results) -> list[str]:
    lines = []
    for key, wl in results["workloads"].items():
        lines += ["", f"## {key}: {wl['title']}", ""] + [f"- {n}" for n in wl["notes"]] + [""]
        lines += workload_table(key, wl)
        if key in results["agreement"]:
            lines += ["", f"chainrule's trained weights differ from the seed loop's by at most "
                          f"{results['agreement'][key]:.1e}."]
        if results.get("checks", {}).get(key):
            lines += ["", "Checked that every case did the work: " + "; ".join(results["checks"][key]) + "."]
    if results.get("memory"):
        lines += ["", "## W3 peak memory (fresh process per tool)", "",
                  "| tool | peak RSS MiB | RSS before training MiB | training's increment MiB | imported |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['tool']} | {r['peak_rss_mib']:.1f} | {r['before_fit_rss_mib']:.1f} | "
                  f"{r['peak_rss_mib'] - r['before_fit_rss_mib']:.1f} | {', '.join(r.get('imported', [])) or '–'} |"
                  for r in results["memory"]]
        lines += ["", "Peak RSS is the whole process: interpreter, the tool's imports, the 60000×784 "
                      "float32 data and training; the increment is the peak less the RSS just before training "
                      "(chainrule loads Numba inside `fit`, so its import is in the increment). scikit-learn "
                      "imports pandas whenever it is installed; the row without pandas/pyarrow blocks their "
                      "import, as on a machine without them. 'imported' lists which of pandas, pyarrow, "
                      "numba, torch and sklearn the process had loaded at the end."]
    return lines


def native_section(results) -> list[str]:
    """The run without OPENBLAS_CORETYPE, its sections demoted one level."""
    native = results["native"]
    pinned = results["machine"].get("OPENBLAS_CORETYPE", "?")
    lines = ["", f"## The same suite with OpenBLAS's own kernels ({native.get('kernels', '?')})", "",
             f"This machine's environment sets `OPENBLAS_CORETYPE={pinned}`, which makes OpenBLAS run its "
             f"{results.get('kernels', '?')} kernels whatever the CPU offers. NumPy's matrix products, and with "
             "them chainrule's and scikit-learn's, run on OpenBLAS; PyTorch brings its own BLAS and is not "
             "affected. The tables below are the same command run in a child process without "
             "`OPENBLAS_CORETYPE`, where OpenBLAS picks its kernels from the CPU "
             f"(the BLAS libraries loaded in that process, NumPy's and those of SciPy and others: "
             f"{native['machine'].get('blas', '?')}).", ""]
    lines += ["#" + line if line.startswith("## ") else line for line in workload_sections(native)]
    return lines


def markdown(results, gpu=None) -> str:
    """RESULTS.md: the suite's results, and ``gpu`` (a GPU section of ``gpu.py``) spliced in."""
    m = results["machine"]
    lines = ["# chainrule benchmark results", ""]
    if results["quick"]:
        lines += ["**Quick mode: tiny sizes and one round. These numbers check that the suite runs; "
                  "they are not measurements.**", ""]
    lines += [f"Measured {m['date']} with `{results['command']}`.", "",
              "Every tool runs in one process, interleaved (one untimed warm-up each, then rounds in "
              "a shuffled order); the numbers are medians over the rounds. See `docs/performance.md`.", "",
              "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in m.items() if k != "date"]
    if results["targets"]:
        lines += ["", "## Targets", ""] + targets_table(results)
    lines += workload_sections(results)
    if results.get("native"):
        lines += native_section(results)
    text_ = "\n".join(lines) + "\n"
    return splice_gpu_section(text_, gpu) if gpu else text_


def read_gpu_section(gpu_json) -> str | None:
    """The GPU section from ``gpu.py``'s results at ``gpu_json``, or None: when the file is
    absent, and with a warning on stderr when it cannot be used (unreadable, no GPU results, or
    quick-mode results, which are not a measurement)."""
    gpu_json = Path(gpu_json)
    if not gpu_json.exists():
        return None
    try:
        gpu = json.loads(gpu_json.read_text(encoding="utf-8"))
        if not isinstance(gpu, dict) or not (gpu.get("markdown") or gpu.get("workloads")):
            raise ValueError("it holds no GPU results")
        return gpu_section(gpu)
    except Exception as exc:  # noqa: BLE001 - the suite's results are written all the same
        print(f"warning: {gpu_json} left out of RESULTS.md: {error_text(exc)}", file=sys.stderr, flush=True)
        return None


def write_markdown(results, path: Path, gpu_json: Path) -> None:
    """Write RESULTS.md atomically (an existing file keeps its permissions); the GPU section
    comes from ``gpu_results.json`` (made on a GPU machine by ``gpu.py``) when it can be used."""
    atomic_write(path, markdown(results, read_gpu_section(gpu_json)))
