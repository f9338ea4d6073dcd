"""The benchmark workloads W1-W4, each as a list of cases (one per tool) doing the same work.

A case's ``prepare()`` does the untimed setup (fresh initial weights, a fresh optimizer)
and returns the zero-argument function that is timed. PyTorch and scikit-learn are
optional: their cases are left out when they do not import.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import chainrule as cr
import chainrule.datasets  # noqa: F401  (cr.datasets)
import seed_code


@dataclass(frozen=True)
class Sizes:
    """Problem sizes; ``QUICK`` is a tiny version for smoke tests."""

    w1_epochs: int = 1000
    w2_epochs: int = 10000
    w3_samples: int = 60000
    w3_features: int = 784
    w3_hidden: tuple = (256, 128)
    w3_classes: int = 10
    w3_batch: int = 128
    w4_batch: int = 1024
    w4_width: int = 4096
    w4_layers: int = 3


FULL = Sizes()
QUICK = Sizes(w1_epochs=50, w2_epochs=200, w3_samples=1024, w3_features=64, w3_hidden=(32, 16),
              w4_batch=64, w4_width=256)


@dataclass
class Case:
    tool: str
    prepare: Callable[[], Callable[[], object]]


@dataclass
class Workload:
    key: str
    title: str
    cases: list
    work: float  # samples per run (W3) or floating-point operations per run (W4)
    rate_unit: str | None = None  # "samples/s", "GFLOP/s" or None (times only)
    notes: list = field(default_factory=list)
    work_by_tool: dict = field(default_factory=dict)  # a case whose work differs (W4's "matmul")
    check: Callable | None = None  # (tool, what its run returned) -> a note; raises when it did not do the work


def numba_kernels() -> bool:
    """True when chainrule's compiled CPU kernels are on (Numba installed, not switched off)."""
    from chainrule import kernels_cpu

    return kernels_cpu.mode() != "numpy" and kernels_cpu.load() is not None


def optional(name):
    """Import an optional competitor, or None."""
    try:
        if name == "torch":
            import torch

            return torch
        if name == "sklearn":
            import sklearn.neural_network

            return sklearn.neural_network
    except ImportError:
        return None
    raise ValueError(name)


@contextlib.contextmanager
def quiet():
    """Silence the seeds' prints and scikit-learn's convergence warnings."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _sklearn_full_batch(epochs, n, lr, hidden):
    """An MLPClassifier doing plain full-batch gradient descent for exactly ``epochs``."""
    nn = optional("sklearn")
    return nn.MLPClassifier(
        hidden_layer_sizes=hidden, activation="logistic", solver="sgd", batch_size=n,
        learning_rate="constant", learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False,
        alpha=0.0, max_iter=epochs, shuffle=False, tol=0.0, n_iter_no_change=epochs + 1, random_state=0,
    )


def _torch_full_batch(torch, X, y, W1, b1, W2, b2, epochs, lr, loss_fn, output_sigmoid):
    """A PyTorch eager loop with the same network, initial weights and update (float64)."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.reshape(-1, 1).astype(np.float64))
    layers = [torch.nn.Linear(W1.shape[1], W1.shape[0]).double(), torch.nn.Sigmoid(),
              torch.nn.Linear(W2.shape[1], W2.shape[0]).double()]
    if output_sigmoid:
        layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for layer, W, b in ((model[0], W1, b1), (model[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def run():
        for _ in range(epochs):
            opt.zero_grad()
            loss = loss_fn(model(Xt), yt)
            loss.backward()
            opt.step()
        return model

    return run


# ---- W1: seed 000 ---------------------------------------------------------------------------
def w1(sizes: Sizes) -> Workload:
    X, y, rng = cr.datasets.lecture_linear()
    W1, W2 = rng.randn(2, 4), rng.randn(4, 1)  # the seed's next draws after the data
    labels = y.astype(bool)
    epochs = sizes.w1_epochs

    def seed():
        w = [W1.copy(), np.zeros(4), W2.copy(), np.zeros(1)]

        def run():
            with quiet():
                return seed_code.seed_000_training_loop(X, labels, *w, epochs=epochs, learning_rate=0.1)

        return run

    def chainrule():
        net = cr.Sequential([cr.Dense.from_arrays(W1.T, np.zeros(4)), cr.Sigmoid(),
                             cr.Dense.from_arrays(W2.T, np.zeros(1)), cr.Sigmoid()])
        return lambda: net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(0.1), epochs=epochs,
                               shuffle=False, verbose=0)

    cases = [Case("seed loop", seed), Case("chainrule", chainrule)]
    torch = optional("torch")
    if torch is not None:
        def torch_case():
            sse = lambda out, target: 0.5 * ((out - target) ** 2).sum()  # noqa: E731
            return _torch_full_batch(torch, X, y, W1.T, np.zeros(4), W2.T, np.zeros(1), epochs, 0.1, sse, True)

        cases.append(Case("pytorch", torch_case))
    if optional("sklearn") is not None:
        def sklearn_case():
            model = _sklearn_full_batch(epochs, X.shape[0], 0.1, (4,))

            def run():
                with quiet():
                    return model.fit(X, y)

            return run

        cases.append(Case("scikit-learn", sklearn_case))
    notes = ["2-4-1 sigmoid, ½·sum of squares, full-batch GD lr 0.1, "
             f"{epochs} epochs on seed 000's 500×2 data (float64)",
             "scikit-learn has no sum-of-squares classifier: its MLPClassifier does the same "
             "full-batch GD with log-loss on the sigmoid output"]
    return Workload("W1", "seed 000 network", cases, work=0.0, notes=notes)


def w1_agreement(sizes: Sizes) -> float:
    """Largest weight difference between chainrule's fit and the seed loop on W1."""
    X, y, rng = cr.datasets.lecture_linear()
    W1, W2 = rng.randn(2, 4), rng.randn(4, 1)
    with quiet():
        ref = seed_code.seed_000_training_loop(X, y.astype(bool), W1.copy(), np.zeros(4), W2.copy(),
                                               np.zeros(1), epochs=sizes.w1_epochs, learning_rate=0.1)
    net = cr.Sequential([cr.Dense.from_arrays(W1.T, np.zeros(4)), cr.Sigmoid(),
                         cr.Dense.from_arrays(W2.T, np.zeros(1)), cr.Sigmoid()])
    net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(0.1), epochs=sizes.w1_epochs, shuffle=False, verbose=0)
    got = net.get_weights()
    return max(float(np.abs(a - b).max()) for a, b in zip(got, (ref[0].T, ref[1], ref[2].T, ref[3])))


def _competitor_checks(ref_weights, torch_run, sklearn_model, fit_sklearn, epochs) -> list[str]:
    """That PyTorch and scikit-learn did the workload's work: PyTorch's trained weights equal
    the seed loop's (same initial weights, same updates), scikit-learn ran every epoch.
    Raises RuntimeError when either did not."""
    notes = []
    if torch_run is not None:
        model = torch_run()
        got = [model[0].weight, model[0].bias, model[2].weight, model[2].bias]
        diff = max(float(np.abs(g.detach().numpy().reshape(w.shape) - w).max()) for g, w in zip(got, ref_weights))
        if not diff <= 1e-9:
            raise RuntimeError(f"PyTorch's trained weights differ from the seed loop's by {diff:.3g}")
        notes.append(f"PyTorch's trained weights differ from the seed loop's by at most {diff:.1e}")
    if sklearn_model is not None:
        with quiet():
            fit_sklearn(sklearn_model)
        if sklearn_model.n_iter_ != epochs:
            raise RuntimeError(f"scikit-learn ran {sklearn_model.n_iter_} epochs, not {epochs}")
        notes.append(f"scikit-learn ran all {epochs} epochs (n_iter_)")
    return notes


def w1_checks(sizes: Sizes) -> list[str]:
    """W1's competitors checked against the seed loop (see ``_competitor_checks``)."""
    X, y, rng = cr.datasets.lecture_linear()
    W1, W2 = rng.randn(2, 4), rng.randn(4, 1)
    with quiet():
        ref = seed_code.seed_000_training_loop(X, y.astype(bool), W1.copy(), np.zeros(4), W2.copy(),
                                               np.zeros(1), epochs=sizes.w1_epochs, learning_rate=0.1)
    torch, nn = optional("torch"), optional("sklearn")
    torch_run = None
    if torch is not None:
        sse = lambda out, target: 0.5 * ((out - target) ** 2).sum()  # noqa: E731
        torch_run = _torch_full_batch(torch, X, y, W1.T, np.zeros(4), W2.T, np.zeros(1), sizes.w1_epochs, 0.1,
                                      sse, True)
    model = None if nn is None else _sklearn_full_batch(sizes.w1_epochs, X.shape[0], 0.1, (4,))
    return _competitor_checks((ref[0].T, ref[1], ref[2].T, ref[3]), torch_run, model, lambda m: m.fit(X, y),
                              sizes.w1_epochs)


# ---- W2: seed 002 moons ---------------------------------------------------------------------------
def _seed_002_start():
    np.random.seed(0)
    return seed_code.SimpleNeuralNetwork(input_size=2, hidden_size=4, output_size=1)


def w2(sizes: Sizes) -> Workload:
    X_train, _, y_train, _ = cr.datasets.moons()
    start = _seed_002_start()
    W1, W2 = start.W1.copy(), start.W2.copy()
    epochs = sizes.w2_epochs

    def seed():
        net = _seed_002_start()

        def run():
            with quiet():
                return net.train(X_train.T, y_train.reshape(1, -1), epochs=epochs, learning_rate=0.1)

        return run

    def chainrule():
        net = cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(4)), cr.Sigmoid(),
                             cr.Dense.from_arrays(W2, np.zeros(1))])
        return lambda: net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.SGD(0.1), epochs=epochs,
                               verbose=0)

    cases = [Case("seed loop", seed), Case("chainrule", chainrule)]
    torch = optional("torch")
    if torch is not None:
        def torch_case():
            bce = torch.nn.BCEWithLogitsLoss()
            return _torch_full_batch(torch, X_train, y_train, W1, np.zeros(4), W2, np.zeros(1), epochs, 0.1,
                                     bce, False)

        cases.append(Case("pytorch", torch_case))
    if optional("sklearn") is not None:
        def sklearn_case():
            model = _sklearn_full_batch(epochs, X_train.shape[0], 0.1, (4,))

            def run():
                with quiet():
                    return model.fit(X_train, y_train)

            return run

        cases.append(Case("scikit-learn", sklearn_case))
    notes = [f"2-4-1 sigmoid, binary cross-entropy, full-batch GD lr 0.1, {epochs} epochs on seed 002's "
             "140 moons training points (float64)"]
    return Workload("W2", "seed 002 moons", cases, work=0.0, notes=notes)


def w2_agreement(sizes: Sizes) -> float:
    """Largest weight difference between chainrule's fit and SimpleNeuralNetwork on W2."""
    X_train, _, y_train, _ = cr.datasets.moons()
    ref = _seed_002_start()
    W1, W2 = ref.W1.copy(), ref.W2.copy()
    with quiet():
        ref.train(X_train.T, y_train.reshape(1, -1), epochs=sizes.w2_epochs, learning_rate=0.1)
    net = cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(4)), cr.Sigmoid(),
                         cr.Dense.from_arrays(W2, np.zeros(1))])
    net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.SGD(0.1), epochs=sizes.w2_epochs, verbose=0)
    got = net.get_weights()
    want = (ref.W1, ref.b1.ravel(), ref.W2, ref.b2.ravel())
    return max(float(np.abs(a - b).max()) for a, b in zip(got, want))


def w2_checks(sizes: Sizes) -> list[str]:
    """W2's competitors checked against SimpleNeuralNetwork (see ``_competitor_checks``)."""
    X_train, _, y_train, _ = cr.datasets.moons()
    ref = _seed_002_start()
    W1, W2 = ref.W1.copy(), ref.W2.copy()
    with quiet():
        ref.train(X_train.T, y_train.reshape(1, -1), epochs=sizes.w2_epochs, learning_rate=0.1)
    torch, nn = optional("torch"), optional("sklearn")
    torch_run = None
    if torch is not None:
        torch_run = _torch_full_batch(torch, X_train, y_train, W1, np.zeros(4), W2, np.zeros(1), sizes.w2_epochs,
                                      0.1, torch.nn.BCEWithLogitsLoss(), False)
    model = None if nn is None else _sklearn_full_batch(sizes.w2_epochs, X_train.shape[0], 0.1, (4,))
    return _competitor_checks((ref.W1, ref.b1.ravel(), ref.W2, ref.b2.ravel()), torch_run, model,
                              lambda m: m.fit(X_train, y_train), sizes.w2_epochs)


# ---- W3: MNIST-shaped ------------------------------------------------------------------------
def w3(sizes: Sizes) -> Workload:
    import w3 as w3mod

    X, y = w3mod.make_data(sizes)
    tools = ["chainrule"] + ([w3mod.NUMPY_KERNELS] if numba_kernels() else [])
    tools += ["scikit-learn"] if optional("sklearn") is not None else []
    tools += ["pytorch"] if optional("torch") is not None else []
    tools += [w3mod.NUMPY_LOOP, w3mod.GEMM_FLOOR]
    cases = [Case(tool, lambda tool=tool: w3mod.build(tool, X, y, sizes)) for tool in tools]
    dims = "-".join(map(str, w3mod.layer_sizes(sizes)))
    notes = [f"{sizes.w3_samples}×{sizes.w3_features} float32 random data, {dims} ReLU, softmax "
             f"cross-entropy, Adam lr 0.001, batch {sizes.w3_batch}, shuffled, one epoch; no L2 "
             "(scikit-learn alpha=0)",
             f"'{w3mod.NUMPY_LOOP}' is not a tool: the same training as one plain NumPy loop with "
             "the tricks of chainrule's NumPy path and nothing but the arithmetic (no input checks, metric, "
             "history or divergence checks), the most a NumPy implementation of this epoch does here",
             f"'{w3mod.GEMM_FLOOR}' is not a tool: it runs only the epoch's matrix products in NumPy "
             "(float32, no bias, activation, loss, optimizer or shuffle), the floor under any NumPy "
             "implementation on this machine"]
    if w3mod.NUMPY_KERNELS in tools:
        notes.insert(1, "'chainrule' runs Adam's update as one compiled pass (Numba, chainrule[fast]); "
                        f"'{w3mod.NUMPY_KERNELS}' is chainrule with the NumPy update "
                        "(CHAINRULE_CPU_KERNELS=numpy), as without Numba")
    return Workload("W3", "MNIST-shaped MLP, one epoch", cases, work=float(sizes.w3_samples),
                    rate_unit="samples/s", notes=notes, check=lambda tool, out: _w3_check(tool, out, sizes))


def _w3_check(tool: str, out, sizes: Sizes) -> str:
    """That ``tool``'s epoch did W3's work, from what its run returned: one epoch of every
    batch, float32 weights where the tool exposes them, and a mean training loss near ln(classes)
    (random labels: nothing to learn, so an epoch that did its work stays there)."""
    import math

    import w3 as w3mod

    if tool == w3mod.GEMM_FLOOR:
        if not math.isfinite(out):
            raise RuntimeError(f"{tool}: the products are not finite")
        return f"{tool}: finite"
    if tool == "scikit-learn":
        steps, expected = getattr(out._optimizer, "t", None), math.ceil(sizes.w3_samples / sizes.w3_batch)
        if out.n_iter_ != 1 or steps not in (None, expected):
            raise RuntimeError(f"scikit-learn ran {out.n_iter_} epochs and {steps} Adam steps, not 1 and {expected}")
        if any(W.dtype != np.float32 for W in out.coefs_):
            raise RuntimeError("scikit-learn trained in " + str(out.coefs_[0].dtype) + ", not float32")
        loss = out.loss_
    else:
        loss = out.loss[-1] if hasattr(out, "loss") else out  # chainrule's History, or the loop's mean loss
    chance = math.log(sizes.w3_classes)
    if not abs(loss - chance) < 0.5:
        raise RuntimeError(f"{tool}: training loss {loss:.4g} after one epoch, far from ln {sizes.w3_classes} = "
                           f"{chance:.4g}")
    return f"{tool}: loss {loss:.4f}"


# ---- W4: GEMM-bound --------------------------------------------------------------------------
STEP_PRODUCTS = "step's matrix products"


def w4(sizes: Sizes) -> Workload:
    import w4 as w4mod

    X, y = w4mod.make_data(sizes)
    prepare_matmul, matmul_flops = w4mod.matmul_case(sizes)
    tools = ["chainrule", "chainrule fit"] + (["pytorch"] if optional("torch") is not None else [])
    cases = [Case(tool, lambda tool=tool: w4mod.build(tool, sizes, X, y)) for tool in tools]
    cases.append(Case(STEP_PRODUCTS, w4mod.step_products_case(sizes)))
    cases.append(Case("matmul", prepare_matmul))
    w = sizes.w4_width
    notes = [f"batch {sizes.w4_batch}, {sizes.w4_layers} Dense {w}×{w} layers with ReLU between, float32, "
             "MSE, one SGD step (forward, backward, update); 'chainrule' is the step through the public "
             "layer/loss/optimizer API, 'chainrule fit' is `fit(epochs=1)` on the same batch (adds fit's "
             "input checks, R² metric and last-good-weights copy)",
             f"GFLOP/s counts the step's {3 * sizes.w4_layers - 1} matrix products; 'matmul' is "
             f"`np.matmul` of two {w}×{w} float32 matrices, this machine's own rate (the targets' reference)",
             f"'{STEP_PRODUCTS}' is not a tool: the step's {3 * sizes.w4_layers - 1} products alone in its "
             "shapes and layouts (forward A·Wᵀ, weight gradients dZᵀ·A with the batch as inner dimension, "
             "input gradients dZ·W) into preallocated outputs: how fast this BLAS runs the step's shapes"]
    return Workload("W4", "GEMM-bound training step", cases, work=w4mod.flops_per_step(sizes),
                    rate_unit="GFLOP/s", notes=notes, work_by_tool={"matmul": matmul_flops}, check=_w4_check)


def _w4_check(tool: str, out) -> str:
    """That ``tool``'s step ran to a finite loss (the products alone have no loss)."""
    import math

    if tool in ("matmul", STEP_PRODUCTS):
        return f"{tool}: ran"
    loss = out.loss[-1] if hasattr(out, "loss") else out
    if not math.isfinite(loss):
        raise RuntimeError(f"W4 {tool}: the step's loss is {loss}")
    return f"{tool}: loss {loss:.4f}"


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}
