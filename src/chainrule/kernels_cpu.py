"""Compiled CPU kernels (Numba, optional): the optimizers' in-place updates as one pass.

NumPy needs several passes over the parameters for one optimizer update (Adam: 10), each a
ufunc with its own loop over memory; on a network like W3's (235 146 parameters, a step every
128 samples) Adam's update is then a quarter of the epoch. A compiled loop does the same
arithmetic in one pass. Every kernel here performs exactly the operations of the NumPy code it
replaces, in the same order and precision (no fused multiply-add, no fast-math), so its results
are the NumPy path's bit for bit (a NaN where NumPy has a NaN, its sign bit aside); the tests
check that.

The kernels are used when all of these hold, and the NumPy code runs otherwise:

- Numba is installed (``pip install "chainrule[fast]"``) and the setting allows it: the
  environment variable ``CHAINRULE_CPU_KERNELS`` (or ``use``) is ``auto`` (the default) or
  ``numba``; ``numpy`` switches them off;
- every array of the update is a C-contiguous NumPy array of one float dtype;
- the update covers at least ``MIN_SIZE`` elements. Importing Numba and loading its compiled
  kernels costs about 0.6 s once per process (and about 120 MiB), which only large updates
  repay; in mode auto, small networks (the lectures') never load it.

Numba is imported on first use, never when chainrule is imported.
"""

from __future__ import annotations

import os
import threading

import numpy as np

#: Environment variable choosing the CPU kernels: auto, numba or numpy (empty: auto).
SETTING = "CHAINRULE_CPU_KERNELS"
MODES = ("auto", "numba", "numpy")
#: Smallest update (in elements) the compiled kernels take over.
MIN_SIZE = 1 << 16
#: The dtypes the loops are compiled for.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_lock = threading.Lock()
_mode: str | None = None  # None: read SETTING at the next use
_kernels = None  # the compiled namespace once loaded
_failure: str | None = None  # why Numba could not be loaded, once tried


def _check_mode(value, source: str) -> str:
    """``value`` as one of ``MODES`` (case and surrounding spaces ignored), else a ValueError
    naming ``source``."""
    if not isinstance(value, str) or value.strip().lower() not in MODES:
        raise ValueError(f"{source} must be one of {', '.join(MODES)}, got {value!r}")
    return value.strip().lower()


def mode() -> str:
    """The setting in force: ``use``'s last choice, else ``CHAINRULE_CPU_KERNELS`` (unset or
    empty: auto); a ValueError naming the variable when it holds anything else."""
    global _mode
    if _mode is None:
        _mode = _check_mode(os.environ.get(SETTING) or "auto", f"the environment variable {SETTING}")
    return _mode


def use(new_mode: str | None) -> str | None:
    """Choose the CPU kernels for this process, over ``CHAINRULE_CPU_KERNELS``.

    Parameters
    ----------
    new_mode : {"auto", "numba", "numpy"} or None
        ``"auto"``: compiled when Numba loads, else NumPy; ``"numba"``: compiled, and training
        refuses to start when Numba cannot be loaded; ``"numpy"``: never compiled. None: back
        to the environment variable's setting.

    Returns
    -------
    str or None
        The mode in force before (None when it was the environment's and that is unusable),
        so that ``use(previous)`` restores it.
    """
    global _mode
    checked = None if new_mode is None else _check_mode(new_mode, "the CPU kernel mode")
    try:
        previous = mode()
    except ValueError:
        previous = None
    _mode = checked
    return previous


def for_arrays(*arrays):
    """The compiled kernels when they may update ``arrays`` in place, else None.

    Parameters
    ----------
    *arrays : numpy.ndarray
        The parameters first (updated in place), then the arrays read or updated with them
        (gradient, optimizer state). The kernels take them when the mode is not numpy, all
        are C-contiguous NumPy arrays of one shape and one dtype of ``DTYPES``, and there are
        at least ``MIN_SIZE`` elements; Numba is loaded at the first such call.

    Returns
    -------
    _Kernels or None
    """
    if mode() == "numpy":
        return None
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < MIN_SIZE or first.dtype not in DTYPES:
        return None
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype != first.dtype or array.shape != first.shape \
                or not array.flags.c_contiguous:
            return None
    return load()


def load():
    """The compiled kernels (importing Numba and compiling them on the first call), or None
    in mode auto when Numba is missing or fails; in mode numba that is a ValueError."""
    global _kernels, _failure
    if _kernels is None and _failure is None:
        with _lock:
            if _kernels is None and _failure is None:
                try:
                    _kernels = _compile()
                except Exception as error:  # ImportError, a Numba too old or too new for NumPy, a full disk
                    _failure = f"{type(error).__name__}: {error}".strip()
    if _kernels is None and mode() == "numba":
        raise ValueError(f"{SETTING}=numba, but Numba's kernels could not be loaded ({_failure}); "
                         f'pip install "chainrule[fast]", or set {SETTING}=auto')
    return _kernels


def check_setting() -> None:
    """Refuse an unusable setting before training starts (``fit``, the estimators and the
    playground call it): a value other than auto, numba or numpy, or numba when Numba cannot
    be loaded (which loads it); a ValueError naming the setting."""
    if mode() == "numba":
        load()


def status() -> dict:
    """The mode (None: unusable), Numba's version (None: not installed), whether the kernels
    are loaded in this process, and why they could not be (``error``)."""
    import importlib.metadata

    try:
        version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        version = None
    try:
        current = mode()
    except ValueError as error:
        return {"mode": None, "numba": version, "loaded": False, "error": str(error)}
    return {"mode": current, "numba": version, "loaded": _kernels is not None, "error": _failure}


def summary(state: dict | None = None) -> str:
    """One line on the CPU kernels, from ``status()`` (taken now when not given; it does not
    load Numba: ``chainrule.environment.cpu_kernels`` loads it first to report what runs)."""
    state = status() if state is None else state
    if state["mode"] is None:
        return f"NumPy (the setting is unusable: {state['error']})"
    if state["mode"] == "numpy":
        return f"NumPy ({SETTING}=numpy)"
    refused = f"none: training refuses to start ({SETTING}=numba)" if state["mode"] == "numba" else "NumPy"
    if state["numba"] is None:
        return refused + ' (Numba is not installed; pip install "chainrule[fast]" compiles the optimizer updates)'
    if state["error"]:
        return f"{refused} (Numba {state['numba']} could not be loaded: {state['error']})"
    when = "" if state["loaded"] else " (loaded at the first such update)"
    return f"optimizer updates of at least {MIN_SIZE} elements compiled with Numba {state['numba']}{when}"


def _compile():
    """Compile the loops with Numba (cached on disk where a cache directory is writable) and
    run each once per dtype, so that compiling (or writing the cache) fails here, not in a step."""
    import numba

    def jit(function):
        options = dict(nogil=True, error_model="numpy")  # IEEE results, never a Python exception
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # no writable cache directory: compile in every process instead
            return numba.njit(**options)(function)

    kernels = _Kernels({name: jit(function) for name, function in _LOOPS.items()})
    for dtype in DTYPES:
        a, b, c, d = (np.zeros(2, dtype) for _ in range(4))
        kernels.sgd(a, b, 0.1)
        kernels.momentum(a, b, c, 0.1, 0.9, False)
        kernels.momentum(a, b, c, 0.1, 0.9, True)
        kernels.rmsprop(a, b, c, 0.1, 0.9, 1e-8)
        kernels.adam(a, b, c, d, 0.9, 0.999, 1e-8, 0.1)
    return kernels


class _Kernels:
    """The compiled loops behind a NumPy-shaped calling convention: arrays of any shape (the
    loops see flat views; ``for_arrays`` has checked they are C-contiguous, so no copy is
    made), scalars cast to the arrays' dtype as NumPy 2 casts a Python float."""

    def __init__(self, loops: dict):
        self._loops = loops

    def sgd(self, value, grad, lr):
        """θ -= α g."""
        self._loops["sgd"](value.reshape(-1), grad.reshape(-1), value.dtype.type(lr))

    def momentum(self, value, grad, velocity, lr, mu, nesterov):
        """v ← μ v + g, then θ -= α v (Nesterov: θ -= α (g + μ v))."""
        as_dtype = value.dtype.type
        self._loops["nesterov" if nesterov else "momentum"](
            value.reshape(-1), grad.reshape(-1), velocity.reshape(-1), as_dtype(lr), as_dtype(mu))

    def rmsprop(self, value, grad, v, lr, rho, eps):
        """v ← ρ v + (1 - ρ) g², then θ -= α g / (√v + ε)."""
        as_dtype = value.dtype.type
        self._loops["rmsprop"](value.reshape(-1), grad.reshape(-1), v.reshape(-1), as_dtype(lr), as_dtype(rho),
                               as_dtype(1.0 - rho), as_dtype(eps))

    def adam(self, value, grad, M, V, b1, b2, eps_scaled, step):
        """Adam with the CPU path's scaled moments M = m/(1-β₁), V = v/(1-β₂) (see
        ``chainrule.optim.Adam``): M ← β₁M + g, V ← β₂V + g², θ -= (M / (√V + ε')) · step."""
        as_dtype = value.dtype.type
        self._loops["adam"](value.reshape(-1), grad.reshape(-1), M.reshape(-1), V.reshape(-1), as_dtype(b1),
                            as_dtype(b2), as_dtype(eps_scaled), as_dtype(step))


# -- the loops, over flat arrays (n,): each line does what the NumPy code's passes do, in their order
def _sgd_loop(value, grad, lr):
    for i in range(value.size):
        value[i] -= lr * grad[i]  # θ -= α g


def _momentum_loop(value, grad, velocity, lr, mu):
    for i in range(value.size):
        vel = velocity[i] * mu + grad[i]  # v ← μ v + g
        velocity[i] = vel
        value[i] -= lr * vel  # θ -= α v


def _nesterov_loop(value, grad, velocity, lr, mu):
    for i in range(value.size):
        g = grad[i]
        vel = velocity[i] * mu + g
        velocity[i] = vel
        value[i] -= lr * (g + mu * vel)  # θ -= α (g + μ v)


def _rmsprop_loop(value, grad, v, lr, rho, one_minus_rho, eps):
    for i in range(value.size):
        g = grad[i]
        vi = v[i] * rho + g * g * one_minus_rho  # v ← ρ v + (1 - ρ) g²
        v[i] = vi
        value[i] -= g / (np.sqrt(vi) + eps) * lr  # θ -= α g / (√v + ε)


def _adam_loop(value, grad, M, V, b1, b2, eps, step):
    for i in range(value.size):
        g = grad[i]
        m = M[i] * b1 + g  # M ← β₁M + g
        v = V[i] * b2 + g * g  # V ← β₂V + g²
        M[i] = m
        V[i] = v
        value[i] -= m / (np.sqrt(v) + eps) * step  # θ -= (M / (√V + ε')) · step


_LOOPS = {"sgd": _sgd_loop, "momentum": _momentum_loop, "nesterov": _nesterov_loop,
          "rmsprop": _rmsprop_loop, "adam": _adam_loop}
