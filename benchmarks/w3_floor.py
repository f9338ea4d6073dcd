"""How close chainrule's W3 epoch is to the fastest loop NumPy and Numba allow on this machine.

    python benchmarks/w3_floor.py [--rounds 9] [--quick]

Three cases run interleaved (one untimed warm-up each, then rounds in rotating order; medians):

- ``chainrule``: ``fit`` for one epoch, as in ``run.py``'s W3;
- ``fused loop``: the same training written as one loop with nothing but the arithmetic, every
  buffer preallocated, the matrix products written into them (``out=``), and each element-wise
  step after them fused into one compiled pass (bias + ReLU, ReLU's backward mask, column sums,
  Adam's update): the fastest loop around NumPy's matrix products that this author could write;
- ``matrix products only``: the epoch's matrix products and nothing else (``w3.py``).

``fused loop / matrix products`` is the cost of everything that is not a matrix product when it
is as small as it gets; ``chainrule / fused loop`` is what chainrule's layers, checks and
bookkeeping add to that. Needs Numba (``pip install numba``).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import w3  # noqa: E402
from workloads import FULL, QUICK  # noqa: E402


def _kernels():
    import numba

    jit = numba.njit(cache=True, error_model="numpy")

    @jit
    def bias_relu(z, b):
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                v = z[i, j] + b[j]
                z[i, j] = v if v > 0 else 0.0

    @jit
    def bias_add(z, b):
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                z[i, j] += b[j]

    @jit
    def relu_mask(d, a):
        for i in range(d.shape[0]):
            for j in range(d.shape[1]):
                if not a[i, j] > 0:
                    d[i, j] = 0.0

    @jit
    def column_sums(d, out):
        out[:] = 0.0
        for i in range(d.shape[0]):
            for j in range(d.shape[1]):
                out[j] += d[i, j]

    @jit
    def adam(p, g, m, v, b1, b2, step, eps_hat):
        for i in range(p.size):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            p[i] -= step * m[i] / (math.sqrt(v[i]) + eps_hat)

    return bias_relu, bias_add, relu_mask, column_sums, adam


def fused_epoch(X, y, sizes, lr: float = 1e-3, seed: int = 0):
    """One-epoch training function: 784-256-128-10 ReLU, softmax cross-entropy, Adam, float32."""
    bias_relu, bias_add, relu_mask, column_sums, adam = _kernels()
    batch, shapes = sizes.w3_batch, w3.layer_shapes(sizes)
    flat, grad, m, v = (np.zeros(w3.parameter_count(shapes), np.float32) for _ in range(4))
    rng = np.random.default_rng(seed)
    weights, biases = w3.flat_views(flat, shapes)
    dweights, dbiases = w3.flat_views(grad, shapes)
    flat[...] = np.concatenate([w.ravel() for w in w3.initial_network(sizes).get_weights()])  # chainrule's start
    outputs = [np.empty((batch, n_out), np.float32) for n_out, _ in shapes]
    input_grads = [np.empty((batch, n_in), np.float32) for _, n_in in shapes]
    x_batch = np.empty((batch, X.shape[1]), np.float32)
    last, step = len(shapes) - 1, [0]

    def run():
        m[...], v[...], step[0] = 0.0, 0.0, 0  # a fresh Adam per epoch, as W3's chainrule case has
        order, loss = rng.permutation(X.shape[0]), 0.0
        for start in range(0, X.shape[0], batch):
            idx = order[start:start + batch]
            nb = idx.size
            a = x_batch[:nb]
            np.take(X, idx, axis=0, out=a)
            labels, rows, inputs = y.take(idx), np.arange(nb), []
            for layer, (W, b) in enumerate(zip(weights, biases)):
                inputs.append(a)
                z = outputs[layer][:nb]
                np.matmul(a, W.T, out=z)
                (bias_add if layer == last else bias_relu)(z, b)
                a = z
            a -= a.max(axis=1, keepdims=True)  # softmax cross-entropy on the logits, in place
            np.exp(a, out=a)
            a /= a.sum(axis=1, keepdims=True)
            loss -= float(np.log(a[rows, labels]).sum())
            a[rows, labels] -= 1.0
            a *= 1.0 / nb
            d = a
            for layer in range(last, -1, -1):
                np.matmul(d.T, inputs[layer], out=dweights[layer])
                column_sums(d, dbiases[layer])
                if layer:
                    upstream = input_grads[layer][:nb]
                    np.matmul(d, weights[layer], out=upstream)
                    relu_mask(upstream, inputs[layer])
                    d = upstream
            step[0] += 1
            t = step[0]
            c = math.sqrt(1.0 - 0.999 ** t)
            adam(flat, grad, m, v, np.float32(0.9), np.float32(0.999), np.float32(lr * c / (1.0 - 0.9 ** t)),
                 np.float32(1e-8 * c))
        return loss / X.shape[0]

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: checks the script runs")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("numba") is None:
        print("w3_floor.py needs Numba (pip install numba)", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    rounds = 1 if args.quick else max(1, args.rounds)
    X, y = w3.make_data(sizes)
    cases = {"chainrule": w3.build("chainrule", X, y, sizes), "fused loop": fused_epoch(X, y, sizes),
             "matrix products only": w3.build(w3.GEMM_FLOOR, X, y, sizes)}
    times, first = {name: [] for name in cases}, {}
    for name, run in cases.items():
        first[name] = run()  # warm-up (compilation, caches): the first epoch from the same start
    for r in range(rounds):
        names = list(cases)
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"W3 epoch ({sizes.w3_samples}×{sizes.w3_features}, batch {sizes.w3_batch}), medians of {rounds} rounds")
    for name, value in median.items():
        loss = getattr(first[name], "loss", [first[name]])[-1] if name != w3.GEMM_FLOOR else None
        shown = "" if loss is None else f"  first-epoch loss {loss:.4f}"
        print(f"  {name:22s} {value:8.4f} s{shown}")
    gemm = median["matrix products only"]
    print(f"fused loop / matrix products: {median['fused loop'] / gemm:.3f}")
    print(f"chainrule / fused loop:       {median['chainrule'] / median['fused loop']:.3f}")
    print(f"chainrule / matrix products:  {median['chainrule'] / gemm:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
