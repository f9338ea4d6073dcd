"""The GPU benchmark's results as read: rows from the timings, targets, the verdict line and
the markdown section that goes into ``RESULTS.md``."""

from __future__ import annotations

import statistics

from gpu_precision import CHECK_FACTOR, GRADIENT_CEILING, PROBE_K, PROBE_LIMIT, judge_check

HEADING = "## GPU: chainrule (CuPy) vs PyTorch eager"
QUICK_BANNER = "Quick mode, not a measurement"


def _quartiles(values):
    """The first and third quartiles of ``values`` (both the value when there is one; None for none)."""
    if len(values) < 2:
        return [values[0], values[0]] if values else None
    q = statistics.quantiles(values, n=4, method="inclusive")  # within the values, also for few rounds
    return [q[0], q[2]]


def rows_from_times(times: dict, n: int) -> dict:
    """One row per tool from its seconds per run (``n`` samples a run): median, min, samples/s."""
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
    """Everything that makes the run fail: recorded errors, workloads not done, precision problems."""
    out = list(result.get("failures") or [])
    out += [f"{w['name']}: {w.get('error') or w['status']}" for w in result.get("workloads", [])
            if w.get("status") != "done"]
    acc = accuracy_verdict(result)
    out += [f"precision: {p}" for p in acc["problems"]]
    return out


def verdict_line(result) -> str:
    """One line: each target's ratio and whether it is met, the precision verdict, the errors."""
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
    """The ``## GPU`` section of ``RESULTS.md`` for ``result`` (also for an incomplete run)."""
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

