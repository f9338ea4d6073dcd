"""W3, MNIST-shaped: 60000×784 float32 random data, 784-256-128-10 ReLU, softmax
cross-entropy, Adam (lr 0.001), batch 128, shuffled, one epoch.

The same builders serve the timed runs, the peak-memory children (``memory.py``) and the
GPU benchmark (``gpu.py``): ``build(tool, X, y, sizes, device)`` does the untimed setup and
returns the function that trains one epoch.
"""

from __future__ import annotations

import warnings

import numpy as np

TOOLS = ("chainrule", "scikit-learn", "pytorch")

#: chainrule with its compiled CPU kernels switched off (a row only when Numba is installed).
NUMPY_KERNELS = "chainrule, NumPy kernels"
#: Not a tool: only the epoch's matrix products, the floor for any NumPy implementation.
GEMM_FLOOR = "matrix products only"
#: Not a tool: the whole epoch as one hand-written NumPy loop with nothing but the arithmetic.
NUMPY_LOOP = "hand-written NumPy loop"


def make_data(sizes, seed: int = 0):
    """Random float32 features (standard normal) and integer labels in 0..classes-1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes.w3_samples, sizes.w3_features), dtype=np.float32)
    y = rng.integers(0, sizes.w3_classes, size=sizes.w3_samples)
    return X, y


def layer_sizes(sizes):
    return [sizes.w3_features, *sizes.w3_hidden, sizes.w3_classes]


def initial_network(sizes, device: str = "cpu"):
    """chainrule's W3 network at its initial weights (float32, seeded)."""
    import chainrule as cr

    return cr.mlp(layer_sizes(sizes), activation="relu", rng=0, dtype="float32", device=device)


def build(tool: str, X, y, sizes, device: str = "cpu", batch_size: int | None = None):
    """Set up ``tool`` on (X, y) and return a function training one epoch."""
    batch = batch_size or sizes.w3_batch
    if tool in ("chainrule", NUMPY_KERNELS):
        import chainrule as cr
        from chainrule import kernels_cpu

        net = initial_network(sizes, device)
        mode = "numpy" if tool == NUMPY_KERNELS else kernels_cpu.mode()

        def epoch():
            previous = kernels_cpu.use(mode)
            try:
                return net.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(1e-3), epochs=1,
                               batch_size=batch, verbose=0, rng=0)
            finally:
                kernels_cpu.use(previous)

        return epoch
    if tool == "scikit-learn":
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(hidden_layer_sizes=tuple(sizes.w3_hidden), activation="relu", solver="adam",
                              alpha=0.0, batch_size=batch, learning_rate_init=1e-3, max_iter=1,
                              shuffle=True, random_state=0)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return model.fit(X, y)

        return run
    if tool == "pytorch":
        return _torch_epoch(X, y, sizes, device, batch)
    if tool == GEMM_FLOOR:
        return _gemm_epoch(X, sizes, batch)
    if tool == NUMPY_LOOP:
        return _numpy_epoch(X, y, sizes, batch)
    known = (*TOOLS, NUMPY_KERNELS, NUMPY_LOOP, GEMM_FLOOR)
    raise ValueError(f"unknown W3 tool {tool!r}; choose one of {', '.join(map(repr, known))}")


def _torch_epoch(X, y, sizes, device, batch):
    """Idiomatic eager PyTorch: a Sequential, Adam, randperm mini-batches."""
    import torch

    torch.manual_seed(0)
    dims = layer_sizes(sizes)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(dims) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt = torch.as_tensor(X, device=device)
    yt = torch.as_tensor(y, device=device)
    n = Xt.shape[0]
    loss_fn = torch.nn.functional.cross_entropy

    def run():
        order = torch.randperm(n, device=device)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            loss = loss_fn(model(Xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device != "cpu":
            torch.cuda.synchronize()
        return float(loss.detach())

    return run


def _gemm_epoch(X, sizes, batch):
    """The matrix products of one epoch and nothing else (float32, contiguous batches): per
    batch, ``Z = A Wᵀ`` for every layer, ``dW = dZᵀ A`` for every layer and ``dA = dZ W`` for all
    but the first. No bias, activation, loss, optimizer or shuffle."""
    dims = layer_sizes(sizes)
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((n_out, n_in)) * 0.05).astype(np.float32) for n_in, n_out in zip(dims[:-1], dims[1:])]
    grads = [np.empty_like(W) for W in weights]

    def run():
        for start in range(0, X.shape[0], batch):
            a = X[start:start + batch]
            inputs = []
            for W in weights:
                inputs.append(a)
                a = a @ W.T
            d = a
            for l in range(len(weights) - 1, -1, -1):
                np.matmul(d.T, inputs[l], out=grads[l])
                if l:
                    d = d @ weights[l]
        return float(d[0, 0])

    return run


def layer_shapes(sizes) -> list:
    """``(n_out, n_in)`` of every Dense layer's W."""
    dims = layer_sizes(sizes)
    return [(n_out, n_in) for n_in, n_out in zip(dims[:-1], dims[1:])]


def parameter_count(shapes) -> int:
    return sum(n_out * n_in + n_out for n_out, n_in in shapes)


def flat_views(buffer, shapes):
    """``(weights, biases)``: views of one flat buffer, W[1], b[1], W[2], b[2], ... in turn (as
    chainrule keeps its parameters and their gradients)."""
    weights, biases, offset = [], [], 0
    for n_out, n_in in shapes:
        weights.append(buffer[offset:offset + n_out * n_in].reshape(n_out, n_in))
        offset += n_out * n_in
        biases.append(buffer[offset:offset + n_out])
        offset += n_out
    return weights, biases


def flops_per_epoch(sizes, n_samples: int | None = None) -> float:
    """Matrix-product FLOPs of one epoch (forward 1×, backward 2× except the input layer's dX)."""
    dims = layer_sizes(sizes)
    macs = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    per_sample = 2 * (3 * macs - dims[0] * dims[1])
    return float(per_sample * (n_samples or sizes.w3_samples))


def _numpy_epoch(X, y, sizes, batch):
    """The same training as chainrule's, written as one NumPy loop with every trick of
    chainrule's NumPy path (float32, a gather per batch from a shuffled order, biases and weights as views of
    one flat buffer, bias gradients as ``1ᵀ dZ``, ReLU in place against an array of zeros,
    Adam in place in 10 passes)
    and nothing else: no input checks, metric, history, callbacks or divergence checks."""
    import math

    rng = np.random.default_rng(0)
    shapes = layer_shapes(sizes)
    flat, grad, m, v, scratch = (np.zeros(parameter_count(shapes), np.float32) for _ in range(5))
    weights, biases = flat_views(flat, shapes)
    dweights, dbiases = flat_views(grad, shapes)
    for W in weights:
        limit = math.sqrt(6.0 / sum(W.shape))
        W[...] = rng.uniform(-limit, limit, W.shape)
    n, last = X.shape[0], len(shapes) - 1
    ones = np.ones(batch, np.float32)
    zeros = {n_out: np.zeros((batch, n_out), np.float32) for n_out, _ in shapes}
    step = [0]

    def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        step[0] += 1
        t = step[0]
        np.multiply(m, b1, out=m)  # in-place ufuncs with out=: m, v, flat are the closure's arrays
        np.add(m, grad, out=m)
        np.multiply(grad, grad, out=scratch)
        np.multiply(v, b2, out=v)
        np.add(v, scratch, out=v)
        c = math.sqrt((1.0 - b2) / (1.0 - b2**t))
        np.sqrt(v, out=scratch)
        np.add(scratch, eps / c, out=scratch)
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, lr * (1.0 - b1) / ((1.0 - b1**t) * c), out=scratch)
        np.subtract(flat, scratch, out=flat)

    def run():
        order = rng.permutation(n)
        loss = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            a, labels = X.take(idx, axis=0), y.take(idx)
            rows = np.arange(a.shape[0])
            inputs = []
            for layer, (W, b) in enumerate(zip(weights, biases)):
                inputs.append(a)
                a = a @ W.T
                a += b
                if layer != last:
                    np.maximum(a, zeros[a.shape[1]][:a.shape[0]], out=a)
            a -= a.max(axis=1, keepdims=True)  # softmax cross-entropy, in place on the logits
            np.exp(a, out=a)
            a /= a.sum(axis=1, keepdims=True)
            loss -= float(np.log(a[rows, labels]).sum())
            a[rows, labels] -= 1.0
            a *= 1.0 / a.shape[0]
            d = a
            for layer in range(last, -1, -1):
                np.matmul(d.T, inputs[layer], out=dweights[layer])
                np.matmul(ones[:d.shape[0]], d, out=dbiases[layer])
                if layer:
                    d = d @ weights[layer]
                    d *= inputs[layer] > 0
            adam()
        return loss / n

    return run
