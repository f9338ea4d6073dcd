"""W4, GEMM-bound: batch 1024 through three 4096×4096 Dense layers (ReLU between),
float32, mean-squared error, one training step (forward, backward, update).

``build(tool, sizes, ...)`` returns the timed function; ``matmul_case`` is the machine's
own float32 matrix-product rate that W4's achieved rate is measured against, and
``step_products_case`` the step's own matrix products alone (its shapes and layouts).
"""

from __future__ import annotations

import numpy as np

TOOLS = ("chainrule", "chainrule fit", "pytorch")


def make_data(sizes, n_samples: int | None = None, seed: int = 1):
    rng = np.random.default_rng(seed)
    n = n_samples or sizes.w4_batch
    X = rng.standard_normal((n, sizes.w4_width), dtype=np.float32)
    y = rng.standard_normal((n, sizes.w4_width), dtype=np.float32)
    return X, y


def flops_per_step(sizes, batch: int | None = None) -> float:
    """Matrix-product FLOPs of one step: L forward products, L weight-gradient products and
    L-1 input-gradient products (the first layer's input gradient is not needed)."""
    n, w, L = batch or sizes.w4_batch, sizes.w4_width, sizes.w4_layers
    return float(2 * n * w * w * (3 * L - 1))


def _net(sizes, device="cpu"):
    import chainrule as cr

    return cr.mlp([sizes.w4_width] * (sizes.w4_layers + 1), activation="relu", rng=0, dtype="float32",
                  device=device)


def build(tool: str, sizes, X, y, optimizer: str = "sgd", device: str = "cpu", batch: int | None = None):
    """Set up ``tool``; the returned function trains on (X, y) in batches of ``batch``
    (default: all of X in one step)."""
    batch = batch or X.shape[0]
    if tool in ("chainrule", "chainrule fit"):
        import chainrule as cr

        net = _net(sizes, device)
        opt = cr.optim.get_optimizer(optimizer, lr=1e-3)
        if tool == "chainrule fit":
            return lambda: net.fit(X, y, loss="mse", optimizer=opt, epochs=1, batch_size=batch, shuffle=False,
                                   verbose=0)
        loss = cr.losses.MSE()
        params = net.parameters()
        Xd, yd = net.to_device(X), net.to_device(y)

        def step():
            for start in range(0, Xd.shape[0], batch):
                out = net.forward(Xd[start:start + batch])
                value = loss.evaluate(out, yd[start:start + batch], 1.0 / out.shape[0])
                net.backward(loss.backward(), input_grad=False)
                opt.step(params)
            if device != "cpu":
                net.xp.cuda.Device().synchronize()
            return float(value)  # the last batch's loss (a device scalar is read after the sync)

        return step
    if tool == "pytorch":
        import torch

        torch.manual_seed(0)
        w, layers = sizes.w4_width, []
        for i in range(sizes.w4_layers):
            layers.append(torch.nn.Linear(w, w))
            if i < sizes.w4_layers - 1:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers).to(device)
        opt = (torch.optim.SGD if optimizer == "sgd" else torch.optim.Adam)(model.parameters(), lr=1e-3)
        Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)

        def run():
            for start in range(0, Xt.shape[0], batch):
                loss = torch.nn.functional.mse_loss(model(Xt[start:start + batch]), yt[start:start + batch])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if device != "cpu":
                torch.cuda.synchronize()
            return float(loss.detach())

        return run
    raise ValueError(f"unknown W4 tool {tool!r}; choose one of {', '.join(TOOLS)}")


def matmul_case(sizes):
    """The machine's float32 matrix-product rate: a square width×width×width product
    (``np.matmul`` into a preallocated output). Returns (prepare, flops)."""
    w = sizes.w4_width
    rng = np.random.default_rng(2)
    A = rng.standard_normal((w, w), dtype=np.float32)
    B = rng.standard_normal((w, w), dtype=np.float32)
    C = np.empty((w, w), dtype=np.float32)

    def prepare():
        return lambda: np.matmul(A, B, out=C)

    return prepare, 2.0 * w ** 3


def step_products_case(sizes):
    """The step's matrix products alone, in its shapes and memory layouts, each into a
    preallocated output: per layer the forward ``A Wᵀ``, the weight gradient ``dZᵀ A`` (inner
    dimension the batch) and, past the first layer, the input gradient ``dZ W``. Returns
    ``prepare`` (its work is ``flops_per_step``)."""
    n, w, L = sizes.w4_batch, sizes.w4_width, sizes.w4_layers
    rng = np.random.default_rng(3)
    A = [rng.standard_normal((n, w), dtype=np.float32) for _ in range(L + 1)]
    W = [rng.standard_normal((w, w), dtype=np.float32) * 0.01 for _ in range(L)]
    dZ = rng.standard_normal((n, w), dtype=np.float32)
    dW, dA = np.empty((w, w), dtype=np.float32), np.empty((n, w), dtype=np.float32)

    def products():
        for i in range(L):
            np.matmul(A[i], W[i].T, out=A[i + 1])
        for i in reversed(range(L)):
            np.matmul(dZ.T, A[i], out=dW)
            if i > 0:
                np.matmul(dZ, W[i], out=dA)

    def prepare():
        return products

    return prepare
