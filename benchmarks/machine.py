"""What the benchmark ran on: CPU, cores, library versions and the BLAS in use."""

from __future__ import annotations

import datetime
import importlib
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict:
    """A flat dict of facts about this machine and the libraries the benchmark uses."""
    import numpy as np

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} usable "
                 f"({os.cpu_count()} online)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = "; ".join(
            f"{p['internal_api']} {p.get('version')} ({p.get('architecture', '?')}, {p['num_threads']} threads, "
            f"{os.path.basename(p['filepath'])})" for p in blas
        ) or "(none found)"
    except ImportError:
        info["blas"] = "(threadpoolctl not installed)"
    try:
        import sklearn

        info["scikit-learn"] = sklearn.__version__
    except ImportError:
        info["scikit-learn"] = "(not installed)"
    try:
        import torch

        info["pytorch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["pytorch"] = "(not installed)"
    return info


def blas_kernels() -> str:
    """The kernel families NumPy's BLAS runs here (OpenBLAS's 'architecture': Haswell means
    AVX2, SkylakeX AVX-512), as threadpoolctl reports them; '?' without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "?"
    importlib.import_module("numpy")  # loads NumPy's BLAS, so that it is listed

    found = [p.get("architecture") or "?" for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(dict.fromkeys(found)) or "?"
