"""What the benchmark ran on: CPU, cores, library versions and the BLAS in use."""

from __future__ import annotations

import datetime
import os
import platform


def describe() -> dict:
    """A flat dict of facts about this machine and the libraries the benchmark uses."""
    import numpy as np

    from chainrule.environment import CORETYPE, blas_libraries, cpu_description, cpu_kernels

    cpu = cpu_description()
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu["model"],
        "cores": f"{cpu['cores']} usable ({os.cpu_count()} online)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get(CORETYPE, "(unset)"),
    }
    tuning = {k: v for k, v in sorted(os.environ.items())
              if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "NUMBA_", "CHAINRULE_")) and k != CORETYPE}
    info["other environment settings"] = ", ".join(f"{k}={v}" for k, v in tuning.items()) or "(none)"
    blas = blas_libraries()
    info["blas"] = "; ".join(
        f"{b['library']} {b['version']} ({b['kernels'] or '?'}, {b['threads']} threads, {b['file']})"
        for b in blas or ()
    ) or ("(unknown: threadpoolctl is not installed)" if blas is None else "(not recognised by threadpoolctl)")
    info["CPU kernels"] = cpu_kernels()["summary"]
    try:
        import sklearn

        info["scikit-learn"] = sklearn.__version__
    except ImportError:
        info["scikit-learn"] = "(not installed)"
    for name in ("pandas", "pyarrow"):  # scikit-learn imports pandas when it is installed
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = "(not installed)"
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
