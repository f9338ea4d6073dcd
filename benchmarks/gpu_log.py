"""What ``gpu.py`` tells while it runs: progress lines on stderr and one-line error texts."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()


def elapsed() -> float:
    """Seconds since the GPU benchmark's modules were imported."""
    return time.perf_counter() - _T0


def progress(message: str) -> None:
    """One line on stderr, stamped with the seconds since the start."""
    print(f"[gpu.py {elapsed():6.1f}s] {message}", file=sys.stderr, flush=True)


def error_text(exc: BaseException) -> str:
    """``exc`` as one line: its type and message."""
    return f"{type(exc).__name__}: {exc}".strip()
