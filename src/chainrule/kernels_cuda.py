"""Fused CUDA kernels for the GPU path (CuPy): one kernel where NumPy needs several ufuncs.

Reached only through ``chainrule.backend.fused(array)``, which returns this module for a
CuPy float array and None for NumPy arrays, so the CPU path stays plain NumPy. Every
kernel computes the same formula as the NumPy code it replaces (see the layer, loss or
optimizer that calls it); results agree to floating-point rounding, not bit for bit.
CuPy is imported on first use, never at import time.
"""

from __future__ import annotations

import functools

_BLOCK = 128


def handles(array) -> bool:
    """True for a CuPy array of float32 or float64 (what these kernels are built for)."""
    module = type(array).__module__ or ""
    return module.split(".", 1)[0] == "cupy" and array.dtype.kind == "f" and array.dtype.itemsize in (4, 8)


@functools.lru_cache(maxsize=None)
def _elementwise(name: str):
    import cupy

    in_params, out_params, body = _ELEMENTWISE[name]
    return cupy.ElementwiseKernel(in_params, out_params, body, "chainrule_" + name)


_ELEMENTWISE = {
    # activations: forward a = g(z), backward dZ = dA ⊙ g'(Z)
    "sigmoid": ("T z", "T a", "a = (T)1 / ((T)1 + exp(-z))"),
    "sigmoid_backward": ("T da, T a", "T dz", "dz = da * a * ((T)1 - a)"),
    "tanh_backward": ("T da, T a", "T dz", "dz = da * ((T)1 - a * a)"),
    "relu_backward": ("T da, T a", "T dz", "dz = a > (T)0 ? da : (T)0"),
    "leaky_relu": ("T z, T alpha", "T a", "a = z > (T)0 ? z : alpha * z"),
    "leaky_relu_backward": ("T da, T z, T alpha", "T dz", "dz = z > (T)0 ? da : alpha * da"),
    "xtanh_backward": ("T da, T z, T t", "T dz", "dz = da * (t + z * ((T)1 - t * t))"),
    # optimizers, in place on (p, m, v): the same update as chainrule.optim's NumPy code
    "sgd": ("T g, T lr", "T p", "p -= lr * g"),
    "momentum": ("T g, T lr, T mu", "T p, T vel", "vel = vel * mu + g; p -= lr * vel"),
    "nesterov": ("T g, T lr, T mu", "T p, T vel", "vel = vel * mu + g; p -= lr * (g + mu * vel)"),
    "rmsprop": (
        "T g, T lr, T rho, T eps",
        "T p, T v",
        "v = v * rho + g * g * ((T)1 - rho); p -= lr * (g / (sqrt(v) + eps))",
    ),
    "adam": (
        "T g, T b1, T b2, T inv_c2, T eps, T step",
        "T p, T m, T v",
        "m = m * b1 + g * ((T)1 - b1); v = v * b2 + g * g * ((T)1 - b2); "
        "p -= step * (m / (sqrt(v) * inv_c2 + eps))",
    ),
}


# -- activations ---------------------------------------------------------------------------
def sigmoid(z):
    return _elementwise("sigmoid")(z)


def sigmoid_backward(da, a):
    return _elementwise("sigmoid_backward")(da, a)


def tanh_backward(da, a):
    return _elementwise("tanh_backward")(da, a)


def relu_backward(da, a):
    return _elementwise("relu_backward")(da, a)


def leaky_relu(z, alpha):
    return _elementwise("leaky_relu")(z, alpha)


def leaky_relu_backward(da, z, alpha):
    return _elementwise("leaky_relu_backward")(da, z, alpha)


def xtanh_backward(da, z, t):
    return _elementwise("xtanh_backward")(da, z, t)


# -- optimizers (in place) --------------------------------------------------------------------
def sgd(p, g, lr):
    _elementwise("sgd")(g, lr, p)


def momentum(p, g, velocity, lr, mu, nesterov):
    _elementwise("nesterov" if nesterov else "momentum")(g, lr, mu, p, velocity)


def rmsprop(p, g, v, lr, rho, eps):
    _elementwise("rmsprop")(g, lr, rho, eps, p, v)


def adam(p, g, m, v, beta1, beta2, inv_c2, eps, step):
    """θ -= step · m / (√v · inv_c2 + ε) after the moment updates; ``inv_c2 = 1/√(1-β₂ᵗ)``,
    ``step = α/(1-β₁ᵗ)`` (chainrule.optim.Adam's form)."""
    _elementwise("adam")(g, beta1, beta2, inv_c2, eps, step, p, m, v)


# -- softmax cross-entropy ----------------------------------------------------------------------
_CE_SOURCE = r"""
extern "C" __global__ void chainrule_softmax_ce_{name}(
    const {T}* z, const long long* y, {T}* loss, {T}* grad, const {T} scale, const int n, const int k)
{{
    const int i = blockDim.x * blockIdx.x + threadIdx.x;
    if (i >= n) return;
    const {T}* row = z + (long long)i * k;
    {T}* g = grad + (long long)i * k;
    {T} top = row[0];
    for (int j = 1; j < k; ++j) top = row[j] > top ? row[j] : top;
    {T} total = 0;
    for (int j = 0; j < k; ++j) {{ const {T} e = exp(row[j] - top); g[j] = e; total += e; }}
    const long long label = y[i];
    if (label < 0 || label >= k) {{
        for (int j = 0; j < k; ++j) g[j] = ({T})nan("");
        loss[i] = ({T})nan("");
        return;
    }}
    for (int j = 0; j < k; ++j) g[j] = (g[j] / total - (j == label ? ({T})1 : ({T})0)) * scale;
    loss[i] = log(total) - (row[label] - top);
}}
"""


@functools.lru_cache(maxsize=None)
def _ce_kernel(dtype_name: str):
    import cupy

    T = {"float32": "float", "float64": "double"}[dtype_name]
    return cupy.RawKernel(_CE_SOURCE.format(T=T, name=dtype_name), f"chainrule_softmax_ce_{dtype_name}")


def softmax_cross_entropy(z, y, scale):
    """Per-row ``log Σ e^z - z_y`` and the gradient ``(softmax(z) - onehot(y)) · scale``.

    Parameters
    ----------
    z : cupy.ndarray, shape (n, k)
        Logits.
    y : cupy.ndarray of int, shape (n,)
        Class labels in 0..k-1; a row with any other label gets NaN loss and gradient.
    scale : float
        The reduction factor (1/n for a mean).

    Returns
    -------
    losses : cupy.ndarray, shape (n,)
    grad : cupy.ndarray, shape (n, k)
    """
    import cupy
    import numpy

    z = cupy.ascontiguousarray(z)
    y = cupy.ascontiguousarray(y, dtype=cupy.int64)
    n, k = z.shape
    losses = cupy.empty(n, dtype=z.dtype)
    grad = cupy.empty_like(z)
    kernel = _ce_kernel(z.dtype.name)
    args = (z, y, losses, grad, z.dtype.type(scale), numpy.int32(n), numpy.int32(k))
    kernel(((n + _BLOCK - 1) // _BLOCK,), (_BLOCK,), args)
    return losses, grad
