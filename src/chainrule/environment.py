"""What chainrule runs on: library versions, the BLAS behind NumPy's matrix products, the
CPU and the GPU, with hints where a setting of the environment makes training slower than
this machine allows (``chainrule info`` prints it).

The BLAS is read at run time with threadpoolctl (a dependency of scikit-learn): the library,
its thread count and, for OpenBLAS, the kernel family ("architecture") it chose, which sets
the speed of every matrix product.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys

#: The variable that makes OpenBLAS use the kernels of a named CPU instead of detecting it;
#: OpenBLAS reads it once, when NumPy loads it.
CORETYPE = "OPENBLAS_CORETYPE"

#: Packages chainrule uses, and what for (the optional ones last).
PACKAGES = (
    ("numpy", "arrays, the CPU backend"),
    ("scikit-learn", "estimators, metrics, bundled datasets"),
    ("matplotlib", "plots"),
    ("rich", "tables and progress bars"),
    ("safetensors", "model files"),
    ("numba", "compiled optimizer updates on the CPU (optional)"),
    ("cupy", "the GPU backend (optional)"),
    ("pandas", "Parquet tables, with pyarrow (optional)"),
    ("pyarrow", "Parquet tables (optional)"),
    ("starlette", "the playground's server, with uvicorn (optional)"),
    ("uvicorn", "the playground's server (optional)"),
)

_CUPY_DISTRIBUTIONS = ("cupy", "cupy-cuda12x", "cupy-cuda11x", "cupy-cuda13x")


def package_versions() -> list[dict]:
    """One record per package of ``PACKAGES``: name, version (None: not installed), role."""
    out = []
    for name, role in PACKAGES:
        candidates = _CUPY_DISTRIBUTIONS if name == "cupy" else (name,)
        version = None
        for candidate in candidates:
            try:
                version = importlib.metadata.version(candidate)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
        out.append({"name": name, "version": version, "role": role})
    return out


def blas_libraries() -> list[dict] | None:
    """The BLAS libraries loaded in this process (NumPy's first): library, version,
    kernels (OpenBLAS's architecture, else None), threads and file name. None without
    threadpoolctl; empty when threadpoolctl does not recognise the BLAS (Apple's Accelerate)."""
    importlib.import_module("numpy")  # loads NumPy's BLAS, so that it is listed
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{"library": p.get("internal_api"), "version": p.get("version"),
             "kernels": p.get("architecture"), "threads": p.get("num_threads"),
             "file": os.path.basename(p.get("filepath") or "")}
            for p in threadpool_info() if p.get("user_api") == "blas"]


def cpu_description() -> dict:
    """Model, usable cores and the vector instruction sets matrix kernels use."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and not flags:
                    model = value.strip()
                elif key in ("flags", "Features"):
                    flags = set(value.split())
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    vector = [name for name in ("avx512f", "avx2", "fma", "avx", "sse4_2", "asimd", "sve") if name in flags]
    return {"model": model, "cores": usable, "vector": vector}


def native_kernels(timeout: float = 30.0) -> str | None:
    """The kernels OpenBLAS chooses for this CPU when ``OPENBLAS_CORETYPE`` is not set, asked
    of a fresh Python process (this one's OpenBLAS has already read the variable); None when
    the variable is not set or the question cannot be answered."""
    if CORETYPE not in os.environ:
        return None
    env = {k: v for k, v in os.environ.items() if k != CORETYPE}
    code = ("import json, numpy; from threadpoolctl import threadpool_info; "
            "print(json.dumps([p.get('architecture') for p in threadpool_info() if p.get('user_api') == 'blas']))")
    try:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=timeout)
        found = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return next((k for k in found if k), None)


def blas_hints(coretype: str | None, kernels: list[str], native: str | None) -> list[str]:
    """Advice about NumPy's BLAS.

    Parameters
    ----------
    coretype : str or None
        The value of ``OPENBLAS_CORETYPE`` (None: not set).
    kernels : list of str
        The kernel families the loaded OpenBLAS libraries run.
    native : str or None
        The family OpenBLAS chooses without the variable (``native_kernels``).
    """
    hints = []
    if coretype is not None and native and any(k and k.lower() != native.lower() for k in kernels):
        running = ", ".join(dict.fromkeys(k for k in kernels if k))
        hints.append(
            f"{CORETYPE}={coretype} makes OpenBLAS run its {running} kernels, but without it OpenBLAS "
            f"chooses {native} for this CPU: matrix products, most of the time of training a medium "
            f"network, usually run faster on the CPU's own kernels. Unset {CORETYPE} before starting "
            f"Python, unless it was set to work around a problem with them."
        )
    return hints


def cpu_kernels() -> dict:
    """Which kernels update the parameters on the CPU (``chainrule.kernels_cpu``): its
    ``status()`` after trying to load Numba's kernels (unless switched off), with a summary."""
    from . import kernels_cpu

    try:
        if kernels_cpu.mode() != "numpy":
            kernels_cpu.load()
    except ValueError:
        pass  # status() and the summary say what is wrong
    state = kernels_cpu.status()
    return {**state, "summary": kernels_cpu.summary(state)}


def gpu_description() -> dict:
    """Whether ``device="cuda"`` works here: available, and the devices or the reason not."""
    from .backend import cupy_module

    try:
        cupy = cupy_module()
    except RuntimeError as exc:
        return {"available": False, "reason": str(exc), "devices": []}
    devices = []
    for index in range(cupy.cuda.runtime.getDeviceCount()):
        props = cupy.cuda.runtime.getDeviceProperties(index)
        name = props.get("name", b"?")
        devices.append({"index": index, "name": name.decode() if isinstance(name, bytes) else str(name),
                        "memory_gib": round(props.get("totalGlobalMem", 0) / 2**30, 1)})
    return {"available": True, "reason": None, "devices": devices,
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion()}


def describe(probe_native: bool = True) -> dict:
    """Everything ``chainrule info`` reports, as plain data (JSON-able).

    Parameters
    ----------
    probe_native : bool
        Whether to ask a child process which kernels OpenBLAS would choose without
        ``OPENBLAS_CORETYPE`` (only done when that variable is set).
    """
    from . import __version__

    blas = blas_libraries()
    coretype = os.environ.get(CORETYPE)
    native = native_kernels() if probe_native else None
    return {
        "chainrule": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "cpu": cpu_description(),
        "blas": blas,
        "openblas_coretype": coretype,
        "openblas_native_kernels": native,
        "cpu_kernels": cpu_kernels(),
        "gpu": gpu_description(),
        "hints": blas_hints(coretype, [b["kernels"] for b in blas or () if b["library"] == "openblas"], native),
    }
