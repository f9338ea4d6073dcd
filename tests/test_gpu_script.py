"""``benchmarks/gpu.py`` without a GPU: its RESULTS.md splice, verdicts and quick mode, and
whole runs under the emulated CuPy of ``tests/fakecupy`` with PyTorch on the CPU standing in
(in subprocesses, so the fake never enters this process). No timing is checked here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu.py"
FAKE = ROOT / "tests" / "fakecupy"
ENV_KEYS = ("CUPY_TF32", "NVIDIA_TF32_OVERRIDE")


@pytest.fixture(scope="module")
def modules():
    """benchmarks/gpu.py as a module, with the gpu_* modules it imports and report.py (importing
    gpu.py sets the TF32 variables and puts benchmarks/ on sys.path: both undone after)."""
    saved, path = {k: os.environ.get(k) for k in ENV_KEYS}, list(sys.path)
    spec = importlib.util.spec_from_file_location("chainrule_bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {"gpu": module}
    out.update((name, importlib.import_module(name)) for name in ("gpu_files", "gpu_precision", "gpu_report"))
    spec = importlib.util.spec_from_file_location("chainrule_bench_report", SCRIPT.parent / "report.py")
    out["report"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(out["report"])
    sys.path[:] = path
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return out


def _module_fixture(name: str):
    """A module-scoped fixture named ``name`` giving that module of ``modules``."""

    @pytest.fixture(scope="module", name=name)
    def fixture(modules):
        return modules[name]

    return fixture


gpu, gpu_files, gpu_precision, gpu_report, report = (
    _module_fixture(name) for name in ("gpu", "gpu_files", "gpu_precision", "gpu_report", "report"))


def _env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(FAKE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _emulated(tmp_path, args, patch=""):
    """Run gpu.main(args) under the fake CuPy, after ``patch`` (Python run with ``gpu`` imported)."""
    pytest.importorskip("torch")
    code = "\n".join(["import sys", f"sys.path[:0] = [{str(FAKE)!r}, {str(SCRIPT.parent)!r}]", "import gpu",
                      patch, "sys.exit(gpu.main(sys.argv[1:]))"])
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=_env(), cwd=tmp_path)
    return done


# -- splicing the GPU section into RESULTS.md --------------------------------------------------------
BEFORE = "# chainrule benchmark results\n\n## Machine\n\n| | |\n|---|---|\n| cpu | x |\n\n## W4: step\n\ntable\n"
OLD_GPU = "## GPU: chainrule (CuPy) vs PyTorch eager\n\nold numbers\n\n### Targets\n\nold targets\n"
AFTER = "## Later section\n\nkept ✓ \r\n as it was\n"
NEW = "## GPU: chainrule (CuPy) vs PyTorch eager\n\nnew numbers\n"


def test_splice_replaces_only_the_gpu_section_in_the_middle(gpu_files):
    text = BEFORE + "\n" + OLD_GPU + "\n" + AFTER
    out = gpu_files.splice_gpu_section(text, NEW)
    assert out == BEFORE + "\n" + NEW + "\n" + AFTER
    assert gpu_files.splice_gpu_section(out, NEW) == out  # idempotent


def test_splice_replaces_the_gpu_section_at_the_end(gpu_files):
    out = gpu_files.splice_gpu_section(BEFORE + "\n" + OLD_GPU, NEW + "\n\n")
    assert out == BEFORE + "\n" + NEW


@pytest.mark.parametrize("existing", [BEFORE, BEFORE.rstrip("\n"), BEFORE + "\n", ""])
def test_splice_appends_when_there_is_no_gpu_section(gpu_files, existing):
    out = gpu_files.splice_gpu_section(existing, NEW)
    assert out.startswith(existing) and out.endswith(NEW)
    if existing:
        head = out[:-len(NEW)]
        assert set(head[len(existing):]) <= {"\n"}  # only line breaks added
        assert head.endswith("\n\n") and not head.endswith("\n\n\n")  # one blank line before the heading
    else:
        assert out == NEW


def test_splice_ignores_deeper_headings_and_matches_what_report_py_writes(gpu_files):
    text = BEFORE + "\n### GPU notes of another section\n\nkept\n"
    out = gpu_files.splice_gpu_section(text, NEW)
    assert out.startswith(text)
    # appended after one blank line, as report.py adds it to the suite's RESULTS.md
    assert out == text + "\n" + NEW


def _result(gpu, **extra):
    """A small complete result, as gpu.py records it."""
    workloads = gpu.plan(_sizes(), None, False)
    for w, ratio in zip(workloads, (0.8, 1.2, 0.9)):
        w["status"] = "done"
        w["rows"] = {"chainrule": {"median_s": 1 / ratio, "min_s": 1 / ratio, "samples_per_s": 1000 * ratio,
                                   "rounds": 3, "times_s": [1 / ratio] * 3},
                     "pytorch": {"median_s": 1.0, "min_s": 1.0, "samples_per_s": 1000.0, "rounds": 3,
                                 "times_s": [1.0] * 3}}
        w["ratios"] = [ratio * f for f in (0.95, 1.0, 1.05)]
    check = {"gpu32": {"gradient": 6e-7, "gradient_relu": 6e-7, "weights_norm": 5e-6, "weights_max": 6e-5,
                       "loss_history": 1e-6},
             "cpu32": {"gradient": 5e-7, "gradient_relu": 6e-7, "weights_norm": 7e-7, "weights_max": 6e-5,
                       "loss_history": 5e-8},
             "gpu32_vs_cpu32_gradient": 3e-7}
    result = {"schema": 2, "status": "complete", "stage": "done", "quick": False,
              "command": "python benchmarks/gpu.py", "workloads": workloads, "failures": [],
              "device": {"gpu": "NVIDIA H200", "torch_device": "cuda", "date": "2026-12-02 00:00 UTC"},
              "precision": {"CUPY_TF32": "0", "cupy_probe_error": 0.0, "torch_probe_error": 0.0,
                            "setting_errors": []},
              "precision_problems": [], "check": check, "check_verdict": gpu.judge_check(check)}
    result.update(extra)
    result["markdown"] = gpu.markdown(result)
    return result


def _sizes():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from workloads import FULL
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return FULL


def test_results_md_from_json_replaces_the_section_atomically(gpu, tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_bytes((BEFORE + "\n" + OLD_GPU + "\n" + AFTER).encode())
    results_md.chmod(0o664)
    source = tmp_path / "gpu_results.json"
    source.write_text(json.dumps(_result(gpu)))
    done = subprocess.run([sys.executable, str(SCRIPT), "--from-json", str(source), "--results-md", str(results_md)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = results_md.read_bytes().decode()
    assert text == BEFORE + "\n" + _result(gpu)["markdown"] + "\n" + AFTER  # the rest byte for byte
    assert "old numbers" not in text and "| W3, batch 4096: chainrule samples/s ÷ PyTorch's | >= 1 | 1.20×" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RESULTS.md", "gpu_results.json"]  # no temporary left
    assert results_md.stat().st_mode & 0o777 == 0o664
    assert "VERDICT" in done.stdout


def test_results_md_appends_the_section_when_absent(gpu, gpu_files, tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(BEFORE)
    result = _result(gpu)
    gpu_files.write_results_md(results_md, result)
    assert results_md.read_text() == BEFORE + "\n" + result["markdown"]


def test_atomic_write_keeps_the_mode_and_gives_a_new_file_0644_less_the_umask(gpu_files, tmp_path):
    old = tmp_path / "old.md"
    old.write_text("old")
    old.chmod(0o660)
    gpu_files.atomic_write(old, "new ✓")
    assert old.read_text(encoding="utf-8") == "new ✓" and old.stat().st_mode & 0o777 == 0o660
    mask = os.umask(0o027)
    try:
        gpu_files.atomic_write(tmp_path / "new.md", "new")
    finally:
        os.umask(mask)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.md", "old.md"]


def _suite_results():
    """The least of the CPU suite's results that report.py turns into RESULTS.md."""
    return {"machine": {"date": "2026-12-02", "cpu": "x"}, "quick": False, "command": "python benchmarks/run.py",
            "targets": [], "workloads": {}, "agreement": {}}


def test_report_py_splices_the_gpu_section_and_keeps_the_file_mode(gpu, report, tmp_path):
    results_md, source = tmp_path / "RESULTS.md", tmp_path / "gpu_results.json"
    results_md.write_text("old")
    results_md.chmod(0o664)
    suite = report.markdown(_suite_results())
    report.write_markdown(_suite_results(), results_md, source)  # no GPU results: the suite alone
    assert results_md.read_text() == suite and "## GPU" not in suite
    result = _result(gpu)
    source.write_text(json.dumps(result))
    report.write_markdown(_suite_results(), results_md, source)
    assert results_md.read_text() == suite + "\n" + result["markdown"]
    assert results_md.stat().st_mode & 0o777 == 0o664
    del result["markdown"]  # made from the results when the JSON has none
    source.write_text(json.dumps(result))
    report.write_markdown(_suite_results(), results_md, source)
    assert results_md.read_text() == suite + "\n" + _result(gpu)["markdown"]


@pytest.mark.parametrize("content, reason", [(None, "quick-mode results are not a measurement"),
                                             ("{not json", "JSONDecodeError"), ("[]", "no GPU results")])
def test_report_py_leaves_out_gpu_results_it_cannot_use_with_a_warning(gpu, report, tmp_path, capsys,
                                                                      content, reason):
    results_md, source = tmp_path / "RESULTS.md", tmp_path / "gpu_results.json"
    source.write_text(json.dumps(_result(gpu, quick=True)) if content is None else content)
    report.write_markdown(_suite_results(), results_md, source)
    assert results_md.read_text() == report.markdown(_suite_results())
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {source} left out of RESULTS.md: ") and reason in err


# -- quick mode ----------------------------------------------------------------------------------------
def test_quick_results_go_elsewhere_say_so_and_are_refused_by_results_md(gpu, gpu_files, gpu_report, tmp_path):
    assert gpu.output_path(None, True) != gpu.output_path(None, False) == gpu.DEFAULT_OUTPUT
    quick = _result(gpu, quick=True)
    assert gpu_report.QUICK_BANNER in quick["markdown"]
    assert gpu_report.QUICK_BANNER not in _result(gpu)["markdown"]
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(BEFORE)
    with pytest.raises(ValueError, match="quick"):
        gpu_files.write_results_md(results_md, quick)
    source = tmp_path / "quick.json"
    source.write_text(json.dumps(quick))
    done = subprocess.run([sys.executable, str(SCRIPT), "--from-json", str(source), "--results-md", str(results_md)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "quick" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--results-md", str(results_md)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a measurement" in done.stderr  # refused before measuring anything
    assert results_md.read_text() == BEFORE


# -- the verdicts --------------------------------------------------------------------------------------
def test_targets_judge_the_two_short_workloads_and_report_w3_batch_128(gpu, gpu_report):
    result = _result(gpu)
    by_key = {t["key"]: t for t in gpu_report.targets(result)}
    assert by_key["w3_128"]["goal"] is None and by_key["w3_128"]["met"] is None
    assert by_key["w3_128"]["measured"] == pytest.approx(0.8)
    assert by_key["w3_4096"]["goal"] == ">= 1" and by_key["w3_4096"]["met"] is True
    assert by_key["wide"]["met"] is False and by_key["wide"]["measured"] == pytest.approx(0.9)
    assert by_key["wide"]["per_round_quartiles"][0] < 0.9 < by_key["wide"]["per_round_quartiles"][1]
    assert gpu_report._quartiles([1.0, 2.0]) == [1.25, 1.75]  # within the rounds' ratios, even for two
    md = result["markdown"]
    assert "| W3, batch 128: chainrule samples/s ÷ PyTorch's | (no target) | 0.80×" in md
    assert "| wide 4096×3, batch 1024: chainrule samples/s ÷ PyTorch's | >= 1 | 0.90×" in md and "| **no** |" in md
    # a missed target is a result, not a failure of the run
    assert gpu_report.failures(result) == []
    assert "wide 4096×3, batch 1024 0.90× (NOT MET)" in gpu_report.verdict_line(result)


def test_a_workload_that_did_not_run_is_not_met(gpu, gpu_report):
    result = _result(gpu)
    wide = result["workloads"][2]
    wide.update(status="error", error="RuntimeError: out of memory", rows=None, ratios=None)
    target = {t["key"]: t for t in gpu_report.targets(result)}["wide"]
    assert target["met"] is False and target["measured"] is None
    assert "not measured (RuntimeError: out of memory)" in gpu_report.markdown(result)
    assert gpu_report.failures(result) == ["wide 4096×3, batch 1024: RuntimeError: out of memory"]


def test_precision_check_flags_tf32_sized_errors_and_passes_float32(gpu, gpu_precision, gpu_report):
    ok = _result(gpu)["check"]
    assert gpu_precision.judge_check(ok)["ok"]
    tf32 = json.loads(json.dumps(ok))
    tf32["gpu32"]["gradient"] = 6e-4  # what TF32 gives (CPU emulation)
    verdict = gpu_precision.judge_check(tf32)
    assert not verdict["ok"] and not verdict["items"]["gradient"]["ok"]
    # within 10× of the CPU's float32 error, but above what a backward pass may lose in float32
    sloppy_cpu = json.loads(json.dumps(tf32))
    sloppy_cpu["cpu32"]["gradient"] = 1e-4
    assert gpu_precision.judge_check(sloppy_cpu)["items"]["gradient"]["limit"] == gpu_precision.GRADIENT_CEILING
    # a CPU error tiny by luck does not fail a float32-sized GPU error
    lucky = json.loads(json.dumps(ok))
    lucky["cpu32"]["gradient"], lucky["gpu32"]["gradient"] = 1e-9, 8e-7
    assert gpu_precision.judge_check(lucky)["ok"]
    nan = json.loads(json.dumps(ok))
    nan["gpu32"]["loss_history"] = float("nan")
    assert not gpu_precision.judge_check(nan)["ok"]
    result = _result(gpu, check=tf32, check_verdict=verdict)
    assert any(f.startswith("precision: gradient error 6.0e-04") for f in gpu_report.failures(result))
    assert "**FAILED**" in result["markdown"]


def test_precision_settings_flag_a_rounding_matrix_product(gpu_precision):
    problems = gpu_precision.judge_precision({"cupy_probe_error": 0.0, "torch_probe_error": 2.44e-4})
    assert problems and "torch" in problems[0]
    assert gpu_precision.judge_precision({"cupy_probe_error": "error: boom", "torch_probe_error": 0.0})


# -- whole runs under the emulated CuPy ---------------------------------------------------------------
def test_quick_run_under_the_emulated_cupy_writes_every_section(tmp_path):
    out = tmp_path / "quick.json"
    done = _emulated(tmp_path, ["--quick", "--output", out])
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["status"] == "complete" and result["quick"] and result["device"]["torch_device"] == "cpu"
    assert [w["status"] for w in result["workloads"]] == ["done"] * 3
    assert all({"chainrule", "pytorch"} <= set(w["rows"]) for w in result["workloads"])
    p = result["precision"]
    assert p["CUPY_TF32"] == "0" and p["torch.backends.cuda.matmul.allow_tf32"] is False
    assert p["torch.get_float32_matmul_precision()"] == "highest" and p["cupy_probe_error"] == 0.0
    assert result["check_verdict"]["ok"] and result["accuracy"]["ok"]
    md = result["markdown"]
    assert md.startswith("## GPU") and "Quick mode, not a measurement" in md and "### Targets" in md
    assert md in done.stdout and "VERDICT (quick mode, not a measurement) [complete]" in done.stdout
    for stage in ("device and precision settings", "accuracy check against the CPU", "W3, batch 128",
                  "W3, batch 4096", "wide 256×3, batch 64", "results written"):
        assert f"] {stage}" in done.stderr


def test_a_failing_workload_is_recorded_and_the_run_goes_on(tmp_path):
    out = tmp_path / "r.json"
    patch = f"""
import json
snapshots = []
original_torch_case, original_time_cases = gpu.torch_case, gpu.time_cases
def torch_case(kind, *args, **kwargs):
    if kind == "w3" and args[-1] == 4096:
        raise RuntimeError("CUDA out of memory (injected)")
    return original_torch_case(kind, *args, **kwargs)
def time_cases(*args, **kwargs):
    snapshots.append(json.loads(open({str(out)!r}).read()))
    return original_time_cases(*args, **kwargs)
gpu.torch_case, gpu.time_cases = torch_case, time_cases
import atexit
atexit.register(lambda: open({str(tmp_path / "snapshots.json")!r}, "w").write(json.dumps(snapshots)))
"""
    done = _emulated(tmp_path, ["--quick", "--output", out], patch)
    assert done.returncode == 1, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["status"] == "failed"
    status = {w["key"]: w["status"] for w in result["workloads"]}
    assert status == {"w3_128": "done", "w3_4096": "error", "wide": "done"}
    failed = result["workloads"][1]
    assert failed["error"] == "RuntimeError: CUDA out of memory (injected)" and "Traceback" in failed["traceback"]
    assert "### Errors" in result["markdown"] and "CUDA out of memory (injected)" in result["markdown"]
    assert "W3, batch 4096 failed: RuntimeError" in done.stderr
    # the file on disk had the check before the first workload, and each finished workload before the next
    snapshots = json.loads((tmp_path / "snapshots.json").read_text())
    assert len(snapshots) == 2
    assert snapshots[0]["status"] == "running" and "check" in snapshots[0]
    assert [w["status"] for w in snapshots[0]["workloads"]] == ["running", "pending", "pending"]
    assert [w["status"] for w in snapshots[1]["workloads"]] == ["done", "error", "running"]


def test_a_precision_failure_fails_the_run(tmp_path):
    out = tmp_path / "r.json"
    patch = """
original = gpu.check_against_cpu
def check_against_cpu(sizes):
    c = original(sizes)
    c["gpu32"]["gradient"] = 6e-4
    return c
gpu.check_against_cpu = check_against_cpu
"""
    done = _emulated(tmp_path, ["--quick", "--output", out], patch)
    assert done.returncode == 1
    result = json.loads(out.read_text())
    assert result["status"] == "failed" and not result["accuracy"]["ok"]
    assert [w["status"] for w in result["workloads"]] == ["done"] * 3  # the timings still ran
    assert "precision FAILED: gradient error 6.0e-04" in done.stdout


def test_an_interrupted_run_keeps_what_it_measured(tmp_path):
    out = tmp_path / "r.json"
    patch = """
import os, signal
original = gpu.run_workload
def run_workload(w, *args):
    if w["key"] == "wide":
        os.kill(os.getpid(), signal.SIGTERM)  # as `timeout` does
    return original(w, *args)
gpu.run_workload = run_workload
"""
    done = _emulated(tmp_path, ["--quick", "--output", out], patch)
    assert done.returncode == 143
    result = json.loads(out.read_text())
    assert result["status"] == "interrupted" and result["stage"].startswith("wide")
    assert [w["status"] for w in result["workloads"]] == ["done", "done", "interrupted"]
    assert "**Incomplete run: it stopped during 'wide" in result["markdown"]


def test_results_md_takes_the_first_gpu_py_json_format(gpu, tmp_path):
    # the JSON of gpu.py before its verdicts: a markdown section and its own workload rows
    old = {"device": {"gpu": "NVIDIA H100"}, "rounds": 5, "command": "python benchmarks/gpu.py",
           "workloads": [{"name": "W3, batch 128", "rows": {}}], "check": {}, "markdown": NEW}
    source, results_md = tmp_path / "gpu_results.json", tmp_path / "RESULTS.md"
    source.write_text(json.dumps(old))
    results_md.write_text(BEFORE)
    done = subprocess.run([sys.executable, str(SCRIPT), "--from-json", str(source), "--results-md", str(results_md)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert results_md.read_text() == BEFORE + "\n" + NEW
