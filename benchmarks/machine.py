"""What the benchmark ran on: CPU, cores, library versions and the BLAS in use."""

from __future__ import annotations

import datetime
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
    from chainrule.environment import blas_libraries

    blas = blas_libraries()
    info["blas"] = "; ".join(
        f"{b['library']} {b['version']} ({b['kernels'] or '?'}, {b['threads']} threads, {b['file']})"
        for b in blas or ()
    ) or ("(unknown: threadpoolctl is not installed)" if blas is None else "(not recognised by threadpoolctl)")
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
    """The kernel families the BLAS libraries loaded here run (OpenBLAS's 'architecture':
    Haswell means AVX2, SkylakeX AVX-512); '?' when unknown."""
    from chainrule.environment import blas_libraries

    return ", ".join(dict.fromkeys(b["kernels"] or "?" for b in blas_libraries() or ())) or "?"
