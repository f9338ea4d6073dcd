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
                    rate_unit="samples/s", notes=notes)


# ---- W4: GEMM-bound --------------------------------------------------------------------------
def w4(sizes: Sizes) -> Workload:
    import w4 as w4mod

    X, y = w4mod.make_data(sizes)
    prepare_matmul, matmul_flops = w4mod.matmul_case(sizes)
    tools = ["chainrule", "chainrule fit"] + (["pytorch"] if optional("torch") is not None else [])
    cases = [Case(tool, lambda tool=tool: w4mod.build(tool, sizes, X, y)) for tool in tools]
    cases.append(Case("matmul", prepare_matmul))
    w = sizes.w4_width
    notes = [f"batch {sizes.w4_batch}, {sizes.w4_layers} Dense {w}×{w} layers with ReLU between, float32, "
             "MSE, one SGD step (forward, backward, update); 'chainrule' is the step through the public "
             "layer/loss/optimizer API, 'chainrule fit' is `fit(epochs=1)` on the same batch (adds fit's "
             "validation and last-good-weights copies)",
             f"GFLOP/s counts the step's {3 * sizes.w4_layers - 1} matrix products; 'matmul' is "
             f"`np.matmul` of two {w}×{w} float32 matrices, this machine's own rate"]
    return Workload("W4", "GEMM-bound training step", cases, work=w4mod.flops_per_step(sizes),
                    rate_unit="GFLOP/s", notes=notes, work_by_tool={"matmul": matmul_flops})


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}
