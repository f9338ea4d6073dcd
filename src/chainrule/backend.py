"""The one place that chooses the array module and the dtype policy.

NumPy is the default. ``device="cuda"`` selects CuPy, imported lazily so the core
works with NumPy alone. Every other module asks this one for its array namespace.
"""

from __future__ import annotations

import numpy as np

from . import kernels_cpu

CPU = "cpu"
CUDA = "cuda"
DEVICES = (CPU, CUDA)
DTYPES = ("float32", "float64")


def resolve_device(device: str | None) -> str:
    """Return the canonical device name, raising for anything unknown."""
    if device is None:
        return CPU
    if not isinstance(device, str) or device.lower() not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    return device.lower()


def default_dtype(device: str) -> str:
    """float64 on the CPU (exact lecture numbers), float32 on a GPU (speed)."""
    return "float32" if resolve_device(device) == CUDA else "float64"


def resolve_dtype(dtype, device: str = CPU) -> np.dtype:
    """Return a floating NumPy dtype from a name or dtype; None means the device default."""
    if dtype is None:
        dtype = default_dtype(device)
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}") from None
    if resolved.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {resolved.name!r}")
    return resolved


def cupy_module():
    """Import CuPy, with a clear error when it or a GPU is missing."""
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "device='cuda' needs CuPy (pip install cupy-cuda12x) and an NVIDIA GPU"
        ) from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError
    except Exception:
        raise RuntimeError("device='cuda' was asked for but no CUDA GPU is visible") from None
    return cupy


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy_module()
    except RuntimeError:
        return False
    return True


def array_module(device: str):
    """The array namespace (numpy or cupy) for a device name."""
    return cupy_module() if resolve_device(device) == CUDA else np


def namespace(array):
    """The array namespace an array belongs to (numpy for NumPy arrays, else cupy)."""
    if isinstance(array, np.ndarray) or np.isscalar(array):
        return np
    return cupy_module()


def to_device(array, device: str, dtype=None):
    """Move (and cast) an array to a device; no copy when nothing changes."""
    return convert(array, array_module(device), dtype)


def fused(array):
    """The fused GPU kernels (``chainrule.kernels_cuda``) for a CuPy array; None for a
    NumPy array, whose code path stays plain NumPy."""
    if type(array) is np.ndarray:
        return None
    from . import kernels_cuda

    return kernels_cuda if kernels_cuda.handles(array) else None


def cpu_kernels(*arrays):
    """The compiled CPU kernels (``chainrule.kernels_cpu``, with Numba) when they may update
    these NumPy arrays in place (``arrays[0]`` the parameters), else None: the NumPy code runs."""
    return kernels_cpu.for_arrays(*arrays)


def to_numpy(array) -> np.ndarray:
    """A NumPy array from a NumPy or CuPy array."""
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)
    return get() if get is not None else np.asarray(array)


def convert(array, xp, dtype=None):
    """``array`` as an array of the namespace ``xp`` (numpy or cupy) with ``dtype``.

    A device array comes back to the host through an explicit copy (``to_numpy``): CuPy
    refuses ``np.asarray`` on its arrays.
    """
    if xp is np:
        return np.asarray(to_numpy(array), dtype=dtype)
    return xp.asarray(array, dtype=dtype)


def assign(target, value) -> None:
    """``target[...] = value`` in place, after moving ``value`` to ``target``'s device and
    dtype (CuPy refuses a NumPy array on the right of such an assignment, NumPy a CuPy one).

    Parameters
    ----------
    target : ndarray (NumPy or CuPy)
    value : array-like, broadcastable to ``target.shape``
    """
    target[...] = convert(value, namespace(target), target.dtype)
