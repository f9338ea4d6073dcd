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


def test_bad_workload_name_is_refused():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "W9", "--output", "-"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "W9" in done.stderr
