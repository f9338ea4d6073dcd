"""The benchmark suite runs end to end at tiny sizes (no timing is checked here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_suite_runs_and_writes_a_report(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--output", str(out)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    for heading in ("## W1", "## W2", "## W3", "## W4", "## Machine", "## Targets", "W3 peak memory"):
        assert heading in text
    assert "not measurements" in text  # quick runs say they are not measurements
    assert "| chainrule |" in text and "| seed loop |" in text
    # chainrule reproduces the seeds' loops on the benchmark's own data
    for line in text.splitlines():
        if line.startswith("chainrule's trained weights differ"):
            assert float(line.rsplit(" ", 1)[1].rstrip(".")) < 1e-9
    assert "W1 chainrule time / seed loop time" in done.stdout
    # every workload says what was checked of each case's work
    for key in ("W1", "W2", "W3", "W4"):
        section = text.split(f"## {key}", 1)[1].split("\n## ", 1)[0]
        assert "Checked that every case did the work:" in section, key
    assert "PyTorch's trained weights differ from the seed loop's" in text
    assert "W4 chainrule fit GFLOP/s / matmul GFLOP/s" in text and "| step's matrix products |" in text
    assert "training's increment MiB" in text


def test_memory_runs_cover_scikit_learn_without_pandas_and_chainrule_without_numba():
    import importlib.util

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import run

    names = [name for name, *_ in run.memory_runs()]
    if importlib.util.find_spec("pandas") is not None and importlib.util.find_spec("sklearn") is not None:
        assert run.SKLEARN_WITHOUT_PANDAS in names
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "memory.py"), "--tool", "chainrule",
                           "--quick", "--block", "numba,pandas"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"blocked": ["numba", "pandas"]' in done.stdout and "numba" not in done.stdout.split('"imported"')[1]


def test_a_case_that_did_not_do_the_work_fails_the_run():
    import math

    import numpy as np
    import pytest

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import workloads

    sizes = workloads.QUICK
    check = workloads.w3(sizes).check
    assert check("pytorch", math.log(10) + 0.01).startswith("pytorch: loss")
    with pytest.raises(RuntimeError, match="far from ln 10"):
        check("pytorch", 0.01)  # an epoch that learned random labels did something else
    with pytest.raises(RuntimeError, match="not finite"):
        check("matrix products only", float("nan"))
    torch = pytest.importorskip("torch")
    W, b = np.ones((4, 2)), np.zeros(4)
    off = torch.nn.Linear(2, 4).double()
    with torch.no_grad():
        off.weight.copy_(torch.from_numpy(W + 1e-6))
        off.bias.copy_(torch.from_numpy(b))
    with pytest.raises(RuntimeError, match="differ from the seed loop's by 1e-06"):
        workloads._competitor_checks((W, b, W, b), lambda: [off, None, off], None, None, 1)


def test_bad_workload_name_is_refused():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "W9", "--output", "-"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "W9" in done.stderr


def _run_suite(args, env_update, tmp_path):
    import os
    import platform

    safe_core = {"x86_64": "Prescott", "AMD64": "Prescott", "aarch64": "ARMV8"}.get(platform.machine())
    if safe_core is None:
        import pytest

        pytest.skip(f"no OpenBLAS core type known to be safe on {platform.machine()}")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env.update({k: (safe_core if v == "SAFE" else v) for k, v in env_update.items()})
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "W1",
                           "--output", str(out), *args], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return out.read_text(), safe_core


def test_a_pinned_openblas_also_gets_a_run_with_its_own_kernels(tmp_path):
    text, core = _run_suite([], {"OPENBLAS_CORETYPE": "SAFE"}, tmp_path)
    assert f"measured, OPENBLAS_CORETYPE={core}" in text
    assert "## The same suite with OpenBLAS's own kernels" in text
    assert text.count("W1: seed 000 network") == 2
    # the child ran without the variable: its machine description says so
    assert "The tables below are the same command run in a child process" in text


def test_blas_environment_runs_once_and_unpinned_runs_once(tmp_path):
    text, _ = _run_suite(["--blas", "environment"], {"OPENBLAS_CORETYPE": "SAFE"}, tmp_path)
    assert "own kernels" not in text and text.count("W1: seed 000 network") == 1
    text, _ = _run_suite([], {}, tmp_path)
    assert "own kernels" not in text and "| OPENBLAS_CORETYPE | (unset) |" in text


def test_blas_native_reports_only_the_unpinned_run(tmp_path):
    text, _ = _run_suite(["--blas", "native"], {"OPENBLAS_CORETYPE": "SAFE"}, tmp_path)
    assert "own kernels" not in text and "| OPENBLAS_CORETYPE | (unset) |" in text


def test_the_gpu_benchmark_says_what_it_needs_without_a_gpu():
    from chainrule.backend import gpu_available

    if gpu_available():
        import pytest

        pytest.skip("a GPU is here: gpu.py would run")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "needs an NVIDIA GPU with CuPy" in done.stderr


def test_the_w3_floor_experiment_runs():
    import pytest

    pytest.importorskip("numba")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "w3_floor.py"), "--quick"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    for line in ("chainrule", "fused loop", "matrix products only", "chainrule / fused loop:"):
        assert line in done.stdout
    losses = [float(part.split()[-1]) for part in done.stdout.splitlines() if "first-epoch loss" in part]
    assert len(losses) == 2 and all(1.5 < value < 3.5 for value in losses)  # ten random classes: about ln 10
    assert abs(losses[0] - losses[1]) < 1e-3  # the same start and shuffle: the same training
