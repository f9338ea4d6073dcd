"""Compiled CPU kernels (Numba, optional): the optimizers' in-place updates as one pass.

NumPy needs several passes over the parameters for one optimizer update (Adam: 10), each a
ufunc with its own loop over memory; on a network like W3's (235 146 parameters, a step every
128 samples) Adam's update is then a quarter of the epoch. A compiled loop does the same
arithmetic in one pass. Every kernel here performs exactly the operations of the NumPy code it
replaces, in the same order and precision (no fused multiply-add, no fast-math), so its results
are the NumPy path's bit for bit; the tests check that.

The kernels are used when all of these hold, and the NumPy code runs otherwise:

- Numba is installed (``pip install "chainrule[fast]"``) and the setting allows it: the
  environment variable ``CHAINRULE_CPU_KERNELS`` (or ``use``) is ``auto`` (the default) or
  ``numba``; ``numpy`` switches them off;
- every array of the update is a C-contiguous NumPy array of one float dtype;
- the update covers at least ``MIN_SIZE`` elements. Importing Numba and loading its compiled
  kernels costs about a second once per process, which only large updates repay; small
  networks (the lectures') never load it.

Numba is imported on first use, never when chainrule is imported.
"""

from __future__ import annotations

import os
import threading

import numpy as np

#: Environment variable choosing the CPU kernels: auto, numba or numpy.
SETTING = "CHAINRULE_CPU_KERNELS"
MODES = ("auto", "numba", "numpy")
#: Smallest update (in elements) the compiled kernels take over.
MIN_SIZE = 1 << 16

_lock = threading.Lock()
_mode: str | None = None  # None: read SETTING at the next use
_kernels = None  # the compiled namespace once loaded
_failure: str | None = None  # why Numba could not be loaded, once tried


def _check_mode(mode, source: str) -> str:
    if not isinstance(mode, str) or mode.strip().lower() not in MODES:
        raise ValueError(f"{source} must be one of {', '.join(MODES)}, got {mode!r}")
    return mode.strip().lower()


def mode() -> str:
    """The setting in force: ``use``'s last choice, else ``CHAINRULE_CPU_KERNELS``, else auto."""
    global _mode
    if _mode is None:
        _mode = _check_mode(os.environ.get(SETTING, "auto"), f"the environment variable {SETTING}")
    return _mode


def use(new_mode: str) -> str:
    """Choose the CPU kernels for this process: ``"auto"`` (compiled when Numba is installed),
    ``"numba"`` (compiled; an error when Numba cannot be loaded) or ``"numpy"``.

    Returns
    -------
    str
        The mode in force before.
    """
    global _mode
    checked = _check_mode(new_mode, "the CPU kernel mode")
    previous = mode()
    _mode = checked
    return previous


def for_arrays(*arrays):
    """The compiled kernels when they may update ``arrays`` (see the module's conditions),
    else None. ``arrays[0]`` is the parameter array, the others are read or updated alongside."""
    if mode() == "numpy":
        return None
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < MIN_SIZE or first.dtype not in _DTYPES:
        return None
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype != first.dtype or array.shape != first.shape \
                or not array.flags.c_contiguous:
            return None
    return load()


_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def load():
    """The compiled kernels (importing Numba and compiling them on the first call), or None
    in mode auto when Numba is missing or fails; in mode numba that is a ValueError."""
    global _kernels, _failure
    if _kernels is None and _failure is None:
        with _lock:
            if _kernels is None and _failure is None:
                try:
                    _kernels = _compile()
                except Exception as error:  # ImportError, or a Numba too old or too new for NumPy
                    _failure = f"{type(error).__name__}: {error}".strip()
    if _kernels is None and mode() == "numba":
        raise ValueError(f"{SETTING}=numba, but Numba's kernels could not be loaded ({_failure}); "
                         f'pip install "chainrule[fast]", or set {SETTING}=auto')
    return _kernels


def check_setting() -> None:
    """Refuse an unusable setting before training starts (``fit`` calls it): a value other
    than auto, numba or numpy, or numba when Numba cannot be loaded; a ValueError naming it."""
    if mode() == "numba":
        load()


def status() -> dict:
    """What ``chainrule info`` reports: the mode, Numba's version (None: not installed) and
    whether the kernels are loaded in this process, or why they could not be."""
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
    """One line on the CPU kernels in use, from ``status()`` (taken now when not given)."""
    state = status() if state is None else state
    if state["mode"] is None:
        return f"NumPy (the setting is unusable: {state['error']})"
    if state["mode"] == "numpy":
        return f"NumPy ({SETTING}=numpy)"
    if state["numba"] is None:
        return 'NumPy (Numba is not installed; pip install "chainrule[fast]" compiles the optimizer updates)'
    if state["error"]:
        return f"NumPy (Numba {state['numba']} could not be loaded: {state['error']})"
    return f"optimizer updates of at least {MIN_SIZE} elements compiled with Numba {state['numba']}"


def _compile():
    """Compile the kernels with Numba (cached on disk where a cache directory is writable)."""
    import numba

    def jit(function):
        options = dict(nogil=True, error_model="numpy")  # IEEE results, never a Python exception
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # no writable cache directory: compile in every process instead
            return numba.njit(**options)(function)

    return _Kernels({name: jit(function) for name, function in _LOOPS.items()})


class _Kernels:
    """The compiled loops behind a NumPy-shaped calling convention: any shape in (the loops
    see flat views), scalars cast to the arrays' dtype as NumPy casts a Python float."""

    def __init__(self, loops: dict):
        self._loops = loops

    def sgd(self, value, grad, lr):
        self._loops["sgd"](value.reshape(-1), grad.reshape(-1), value.dtype.type(lr))

    def momentum(self, value, grad, velocity, lr, mu, nesterov):
        kind = value.dtype.type
        self._loops["nesterov" if nesterov else "momentum"](
            value.reshape(-1), grad.reshape(-1), velocity.reshape(-1), kind(lr), kind(mu))

    def rmsprop(self, value, grad, v, lr, rho, eps):
        kind = value.dtype.type
        self._loops["rmsprop"](value.reshape(-1), grad.reshape(-1), v.reshape(-1), kind(lr), kind(rho),
                               kind(1.0 - rho), kind(eps))

    def adam(self, value, grad, M, V, b1, b2, eps_scaled, step):
        """Adam with the CPU path's scaled moments M = m/(1-β₁), V = v/(1-β₂) (see
        ``chainrule.optim.Adam``): M ← β₁M + g, V ← β₂V + g², θ -= (M / (√V + ε')) · step."""
        kind = value.dtype.type
        self._loops["adam"](value.reshape(-1), grad.reshape(-1), M.reshape(-1), V.reshape(-1), kind(b1),
                            kind(b2), kind(eps_scaled), kind(step))


# -- the loops: each line is one NumPy pass of the optimizer's code, in its order ------------
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
