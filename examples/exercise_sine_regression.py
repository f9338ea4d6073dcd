"""Seed 002, Final Exercises, Exercise 4: regression of y = sin(x).

1. Data: ``X = linspace(-π, π, 100)``, ``y = sin(X)`` (``chainrule.datasets.sine``).
2. Output layer linear (no activation), 3. loss MSE, 4. the backpropagation equations change at
   the output only: with ``L = (1/m) Σ (ŷ − y)²`` and ``ŷ = Z[2]``,
   ``dZ[2] = dA[2] = 2(ŷ − y)/m`` (instead of the classifier's ``A[2] − Y``), and the hidden layer
   receives ``dZ[1] = (dZ[2] W[2]) * (1 − A[1]²)`` as before. The script prints these from
   ``chainrule.inspect.explain`` and checks them with ``gradcheck``.

A 1-10-1 tanh network is trained with Adam (lr 0.01, 2000 full-batch epochs); for comparison the
notebook's plain gradient descent (lr 0.1) for the same number of epochs.

Writes ``exercise_sine_regression.png`` (the fit against the true curve).
Run: ``python examples/exercise_sine_regression.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import sine
from chainrule.inspect import explain, gradcheck


def network(seed: int = 0) -> cr.Sequential:
    """1-10-1: tanh hidden layer, linear output (no activation after the last Dense layer)."""
    return cr.mlp([1, 10, 1], activation="tanh", rng=seed)


def main(out_dir="."):
    from chainrule import plot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = sine(100)
    trace = explain(network(), X, y, loss="mse", lr=0.01)
    out_layer, hidden = trace.layer(2), trace.layer(1)
    print("Backpropagation with a linear output and MSE (from chainrule.inspect.explain on all 100 points):")
    for line in (trace.loss_formula, trace.loss_gradient, out_layer.equations["dZ"], out_layer.equations["dW"],
                 out_layer.equations["dA_prev"], hidden.equations["dZ"], hidden.equations["dW"]):
        print(f"   {line}")
    check = gradcheck(network(), X[::10], y[::10], "mse")
    print(f"   {check.summary()}")
    print()
    runs = {}
    for label, optimizer, epochs in (("Adam, lr 0.01, 2000 epochs", cr.optim.Adam(lr=0.01), 2000),
                                     ("gradient descent, lr 0.1, 2000 epochs", cr.optim.SGD(lr=0.1), 2000)):
        net = network()
        net.fit(X, y, loss="mse", optimizer=optimizer, epochs=epochs, verbose=0)
        runs[label] = (net, net.evaluate(X, y)["loss"])
        print(f"{label:<40} final MSE {runs[label][1]:.3e}")
    best_label = "Adam, lr 0.01, 2000 epochs"
    net, mse = runs[best_label]
    grid = np.linspace(-np.pi, np.pi, 1001).reshape(-1, 1)
    max_error = float(np.abs(net.predict(grid) - np.sin(grid)).max())
    verdict = "below" if mse < 1e-3 else "NOT below"
    print(f"Answer: the linear-output network fits sin(x) with MSE {mse:.2e} ({verdict} 1e-3) and a largest error of "
          f"{max_error:.3f} on [-π, π].")
    fig = plot.regression_fit(net, X, y, truth=np.sin, title=f"Exercise 4 (final exercises): y = sin(x)\n"
                              f"1-10-1 tanh network, linear output, MSE {mse:.1e}")
    path = out / "exercise_sine_regression.png"
    fig.savefig(path, dpi=100)
    from chainrule.plot._backend import pyplot

    pyplot().close(fig)
    print(f"wrote {path}")
    return {"mse": mse, "max_error": max_error, "mse_by_run": {k: v[1] for k, v in runs.items()},
            "gradcheck_passed": check.passed, "dZ_out": out_layer.dZ, "prediction": out_layer.A, "y": y, "path": path}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
