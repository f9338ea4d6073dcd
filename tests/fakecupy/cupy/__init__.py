"""A fake ``cupy`` for checking chainrule's device plumbing on a machine without a GPU.

An emulation, for ``tests/test_device_emulated.py`` only: it is never on ``sys.path`` of the
normal test run (the lane imports it in a subprocess), so ``tests/test_gpu.py`` still skips
without the real CuPy.

What it checks: CuPy's rules about crossing between host and device, as CuPy enforces them.

- Implicit conversion of a device array to NumPy (``np.asarray(d)``, ``np.array(d)``,
  ``__array__``) raises TypeError.
- A NumPy array as an operand of a device operation (``d + h``, ``np.exp`` of a mix,
  ``cupy.concatenate([d, h])``, a kernel argument) raises TypeError.
- ``d[basic index] = host_array`` (not 0-d) raises ValueError ("non-scalar numpy.ndarray
  cannot be used for fill").
- CuPy's random generator cannot be pickled or deep-copied (it holds a lock).

What it counts (``EVENTS``; ``reset()`` clears them): every ``sync`` (a device value read
by the host: ``float()``, ``int()``, ``bool()``, ``.item()``, ``.tolist()``, formatting,
``Device.synchronize()``), every ``d2h`` copy (``.get()``, ``asnumpy``, pickling an array)
and every ``h2d`` copy (``asarray``/``array`` of host data, ``.set()``, host index arrays,
host values assigned through an advanced index), each with the shape copied and the
chainrule line that caused it (``SITES``).

What it does not do: numerics are NumPy's (float32 stays float32, but results are NumPy's,
not the GPU's); there is no asynchrony, memory limit or stream; the CUDA kernels of
``chainrule.kernels_cuda`` are not compiled: ``ElementwiseKernel`` and ``RawKernel`` are
emulated by kernel name (in NumPy, with CuPy's argument type checks), so their CUDA C is
not tested here. The softmax cross-entropy emulation refuses labels out of range unless the
kernel's source guards them (an out-of-bounds read is undefined behaviour on a GPU).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections import Counter

import numpy as _np

__version__ = "0.0-fake"

EVENTS: Counter = Counter()  # "sync", "d2h", "h2d", "error" -> count
SITES: dict = {}  # kind -> Counter of "file:line function" in the code under test
COPIES: list = []  # (kind, shape, dtype name) of every h2d / d2h copy
_HERE = os.path.dirname(os.path.abspath(__file__))


def reset() -> None:
    """Forget every counted event."""
    EVENTS.clear()
    SITES.clear()
    COPIES.clear()


def _site() -> str:
    """The innermost caller outside this module and NumPy."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_HERE) and f"{os.sep}numpy{os.sep}" not in name:
            parts = name.split(f"{os.sep}chainrule{os.sep}", 1)
            short = "chainrule/" + parts[1] if len(parts) == 2 else os.path.basename(name)
            return f"{short}:{frame.f_lineno} {frame.f_code.co_name}"
        frame = frame.f_back
    return "?"


def _note(kind: str, array=None) -> None:
    EVENTS[kind] += 1
    SITES.setdefault(kind, Counter())[_site()] += 1
    if array is not None:
        COPIES.append((kind, tuple(_np.shape(array)), _np.asarray(array).dtype.name))


def _refuse(exc_type, message: str):
    _note("error")
    return exc_type(message)


def _host(x, where: str):
    """The NumPy array inside a device array; a NumPy array here is CuPy's TypeError."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        raise _refuse(TypeError, f"Unsupported type {type(x)} (a NumPy array in the device operation {where})")
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v, where) for v in x)
    if isinstance(x, dict):
        return {k: _host(v, where) for k, v in x.items()}
    return x


def _device(r):
    """Wrap NumPy results (arrays and NumPy scalars, as CuPy returns 0-d arrays) as device arrays."""
    if isinstance(r, _np.ndarray):
        return ndarray(r)
    if isinstance(r, _np.generic) and not isinstance(r, (_np.str_, _np.bytes_)):
        return ndarray(_np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_device(v) for v in r)
    if isinstance(r, list):
        return [_device(v) for v in r]
    return r


class ndarray:
    """A device array: a NumPy array that refuses what CuPy refuses."""

    __array_priority__ = 100.0

    def __init__(self, a):
        object.__setattr__(self, "_a", a)

    # -- crossing to the host ----------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise _refuse(TypeError, "Implicit conversion to a NumPy array is not allowed. "
                                 "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self, *args, **kwargs):
        _note("d2h", self._a)
        return self._a.copy()

    def set(self, arr):
        _note("h2d", arr)
        self._a[...] = arr

    # conversions to Python values wait for the device, as CuPy's do: each counts a sync
    def _synced(convert):
        def method(self, *args):
            _note("sync")
            return convert(self._a, *args)

        return method

    item = _synced(lambda a, *args: a.item(*args))
    tolist = _synced(lambda a: a.tolist())
    __float__ = _synced(float)
    __int__ = _synced(int)
    __index__ = _synced(lambda a: a.__index__())
    __bool__ = _synced(bool)
    del _synced

    def __format__(self, spec):
        _note("sync")
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __repr__(self):
        _note("sync")
        return "fakecupy." + repr(self._a)

    def __str__(self):
        _note("sync")
        return str(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return iter([ndarray(_np.asarray(v)) for v in self._a])

    __hash__ = None

    # -- attributes ----------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))

    @property
    def __cuda_array_interface__(self):
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "data": (0, False), "version": 3}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return attr

        def method(*args, **kwargs):
            out = kwargs.get("out")
            result = attr(*_host(args, f".{name}()"), **_host(kwargs, f".{name}()"))
            return out if out is not None else _device(result)

        return method

    def astype(self, dtype, copy=True, **kwargs):
        return ndarray(self._a.astype(dtype, copy=copy))

    def copy(self, order="C"):
        return ndarray(self._a.copy(order=order))

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        _note("d2h", self._a)  # CuPy pickles an array through a host copy
        return _unpickle, (self._a.copy(),)

    # -- indexing ------------------------------------------------------------------------------
    @staticmethod
    def _key(key):
        """(NumPy key, whether it is an advanced index); host index arrays are copied."""
        def one(k):
            if isinstance(k, ndarray):
                return k._a, True
            if isinstance(k, (_np.ndarray, list)):
                _note("h2d", k)
                return _np.asarray(k), True
            return k, False

        if isinstance(key, tuple):
            pairs = [one(k) for k in key]
            return tuple(k for k, _ in pairs), any(adv for _, adv in pairs)
        return one(key)

    def __getitem__(self, key):
        k, _ = self._key(key)
        return _device(self._a[k])

    def __setitem__(self, key, value):
        k, advanced = self._key(key)
        if isinstance(value, _np.ndarray):
            if not advanced and value.ndim > 0:
                raise _refuse(ValueError, "non-scalar numpy.ndarray cannot be used for fill")
            if value.ndim > 0:
                _note("h2d", value)
        self._a[k] = value._a if isinstance(value, ndarray) else value

    # -- NumPy's protocols: CuPy runs NumPy ufuncs and functions on device arrays -----------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"np.{ufunc.__name__}"
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _host(out, where)
        result = getattr(ufunc, method)(*_host(inputs, where), **kwargs)
        if out is not None:
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return _device(result)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in ("asarray", "array", "ascontiguousarray", "asanyarray"):
            raise _refuse(TypeError, "Implicit conversion to a NumPy array is not allowed")
        where = f"np.{func.__name__}"
        return _device(func(*_host(args, where), **_host(kwargs, where)))


def _operator(name):
    def op(self, other):
        result = getattr(self._a, name)(_host(other, f"operator {name}"))
        if result is NotImplemented:
            return result
        return self if name.startswith("__i") else _device(result)

    op.__name__ = name
    return op


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lt", "le", "gt", "ge", "eq", "ne"):
    for _form in ("__{}__", "__r{}__", "__i{}__"):
        _dunder = _form.format(_name)
        if hasattr(_np.ndarray, _dunder):
            setattr(ndarray, _dunder, _operator(_dunder))

for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ndarray, _name, (lambda n: lambda self: _device(getattr(self._a, n)()))(_name))


def _unpickle(a):
    return ndarray(a)


# -- module functions ------------------------------------------------------------------------------
def asarray(a, dtype=None, order=None, **kwargs):
    if isinstance(a, ndarray):
        return a if dtype is None or _np.dtype(dtype) == a.dtype else a.astype(dtype)
    _note("h2d", a)
    return _device(_np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(a, dtype=None, copy=True, **kwargs):
    if isinstance(a, ndarray):
        return ndarray(_np.array(a._a, dtype=dtype, copy=True))
    _note("h2d", a)
    return _device(_np.array(a, dtype=dtype, copy=True))


def ascontiguousarray(a, dtype=None):
    if isinstance(a, ndarray):
        return ndarray(_np.ascontiguousarray(a._a, dtype=dtype))
    _note("h2d", a)
    return ndarray(_np.ascontiguousarray(a, dtype=dtype))


def asnumpy(a):
    return a.get() if isinstance(a, ndarray) else _np.asarray(a)


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


def __getattr__(name):
    """Every other NumPy function, run on device arrays (a NumPy array argument is refused)."""
    f = getattr(_np, name)
    if isinstance(f, type) or not callable(f):
        return f

    def function(*args, **kwargs):
        out = kwargs.get("out")
        result = f(*_host(args, f"cupy.{name}"), **_host(kwargs, f"cupy.{name}"))
        return out if out is not None else _device(result)

    function.__name__ = name
    return function


float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int32, int64, uint8, bool_ = _np.int8, _np.int32, _np.int64, _np.uint8, _np.bool_
nan, inf, pi, e, newaxis = _np.nan, _np.inf, _np.pi, _np.e, None
dtype = _np.dtype


# -- cupy.random: the Generator API ------------------------------------------------------------------
class _Generator:
    """``cupy.random.Generator``: draws on the device; holds a lock, as CuPy's bit generator
    does, so pickle and deepcopy fail the same way."""

    def __init__(self, seed=None):
        self._rng = _np.random.default_rng(seed)
        self._lock = threading.Lock()

    def random(self, size=None, dtype=_np.float64, out=None):
        values = self._rng.random(size, dtype=_np.dtype(dtype).type)
        if out is not None:
            out._a[...] = values
            return out
        return ndarray(_np.asarray(values))


class _Random:
    Generator = _Generator

    @staticmethod
    def default_rng(seed=None):
        return _Generator(seed)


random = _Random()


# -- cupy.cuda ------------------------------------------------------------------------------------------
class _Runtime:
    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def runtimeGetVersion():
        return 12000

    @staticmethod
    def getDeviceProperties(i):
        return {"name": b"fake GPU (tests/fakecupy)", "totalGlobalMem": 16 << 30}


class _Device:
    def __init__(self, *args):
        pass

    def synchronize(self):
        _note("sync")


class _Cuda:
    runtime = _Runtime()
    Device = _Device

    @staticmethod
    def get_device_id():
        return 0


cuda = _Cuda()


# -- chainrule's kernels, emulated by name ------------------------------------------------------------
_ELEMENTWISE = {
    "chainrule_sigmoid": lambda T, z: T(1) / (T(1) + _np.exp(-z)),
    "chainrule_sigmoid_backward": lambda T, da, a: da * a * (T(1) - a),
    "chainrule_tanh_backward": lambda T, da, a: da * (T(1) - a * a),
    "chainrule_relu_backward": lambda T, da, a: _np.where(a > T(0), da, T(0)),
    "chainrule_leaky_relu": lambda T, z, alpha: _np.where(z > T(0), z, alpha * z),
    "chainrule_leaky_relu_backward": lambda T, da, z, alpha: _np.where(z > T(0), da, alpha * da),
    "chainrule_xtanh_backward": lambda T, da, z, t: da * (t + z * (T(1) - t * t)),
}


def _sgd(T, g, lr, p):
    p -= lr * g


def _momentum(T, g, lr, mu, p, vel):
    vel[...] = vel * mu + g
    p -= lr * vel


def _nesterov(T, g, lr, mu, p, vel):
    vel[...] = vel * mu + g
    p -= lr * (g + mu * vel)


def _rmsprop(T, g, lr, rho, eps, p, v):
    v[...] = v * rho + g * g * (T(1) - rho)
    p -= lr * (g / (_np.sqrt(v) + eps))


def _adam(T, g, b1, b2, inv_c2, eps, step, p, m, v):
    m[...] = m * b1 + g * (T(1) - b1)
    v[...] = v * b2 + g * g * (T(1) - b2)
    p -= step * (m / (_np.sqrt(v) * inv_c2 + eps))


_IN_PLACE = {"chainrule_sgd": _sgd, "chainrule_momentum": _momentum, "chainrule_nesterov": _nesterov,
             "chainrule_rmsprop": _rmsprop, "chainrule_adam": _adam}


def _parameters(spec: str):
    return [tuple(part.strip().rsplit(" ", 1)) for part in spec.split(",") if part.strip()]


class ElementwiseKernel:
    """Runs chainrule's element-wise kernels by name, with CuPy's argument checks: every
    array typed ``T`` has the same dtype, scalars are cast to it, NumPy arrays are refused."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        if name not in _ELEMENTWISE and name not in _IN_PLACE:
            raise NotImplementedError(f"fake ElementwiseKernel: no emulation of {name!r}")
        self.ins, self.outs, self.name = _parameters(in_params), _parameters(out_params), name

    def __call__(self, *args):
        n_in = len(self.ins)
        if len(args) not in (n_in, n_in + len(self.outs)):
            raise TypeError(f"{self.name}: wrong number of arguments ({len(args)})")
        types = {}
        for (t, name), a in zip(self.ins + self.outs, args):
            if isinstance(a, _np.ndarray):
                raise _refuse(TypeError, f"{self.name}: Unsupported type numpy.ndarray for {name}")
            if isinstance(a, ndarray):
                if types.setdefault(t, a.dtype) != a.dtype:
                    raise TypeError(f"{self.name}: Type is mismatched. {name} {a.dtype} vs {types[t]}")
        T = types["T"].type
        values = [a._a if isinstance(a, ndarray) else T(a) for a in args]
        if self.name in _IN_PLACE:
            _IN_PLACE[self.name](T, *values)
            return None
        result = _np.asarray(_ELEMENTWISE[self.name](T, *values[:n_in]), dtype=T)
        if len(args) > n_in:
            args[n_in]._a[...] = result
            return args[n_in]
        return ndarray(result)


_LABEL_GUARD = re.compile(r"label\s*<\s*0\s*\|\|\s*label\s*>=\s*k")


class RawKernel:
    """Runs chainrule's softmax cross-entropy kernel by name, checking its arguments as the
    CUDA signature types them. Labels outside 0..k-1 give NaN rows when the source guards
    them; without the guard they are refused (on a GPU: an out-of-bounds read)."""

    def __init__(self, code, name, **kwargs):
        if not name.startswith("chainrule_softmax_ce_"):
            raise NotImplementedError(f"fake RawKernel: no emulation of {name!r}")
        self.T = {"float32": _np.float32, "float64": _np.float64}[name.rsplit("_", 1)[1]]
        self.guarded = bool(_LABEL_GUARD.search(code))

    def __call__(self, grid, block, args):
        z, y, loss, grad, scale, n, k = args
        T = self.T
        for name, a, want in (("z", z, T), ("loss", loss, T), ("grad", grad, T), ("y", y, _np.int64)):
            if not isinstance(a, ndarray) or a.dtype != want or not a._a.flags.c_contiguous:
                raise TypeError(f"RawKernel: argument {name} must be a contiguous device {want.__name__} array")
        if type(scale) is not T or type(n) is not _np.int32 or type(k) is not _np.int32:
            raise TypeError("RawKernel: scale must have the kernel's float type, n and k must be int32")
        n, k = int(n), int(k)
        assert grid[0] * block[0] >= n
        zz, labels = z._a.reshape(n, k), y._a
        bad = (labels < 0) | (labels >= k)
        if bad.any() and not self.guarded:
            raise _refuse(IndexError, "softmax cross-entropy kernel: label out of range read out of bounds")
        safe = _np.where(bad, 0, labels)
        top = zz.max(axis=1, keepdims=True)
        e = _np.exp(zz - top).astype(T)
        total = e.sum(axis=1, keepdims=True, dtype=T)
        onehot = _np.zeros_like(zz)
        onehot[_np.arange(n), safe] = 1
        rows = _np.arange(n)
        grad._a[...] = (e / total - onehot) * scale
        loss._a[...] = (_np.log(total[:, 0]) - (zz[rows, safe] - top[:, 0])).astype(T)
        grad._a[bad] = _np.nan
        loss._a[bad] = _np.nan
