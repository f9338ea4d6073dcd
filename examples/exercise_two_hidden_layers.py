"""Seed 002, Final Exercises, Exercise 5 (conceptual): backpropagation with two hidden layers.

The network is ``X → [W1, b1, tanh] → [W2, b2, tanh] → [W3, b3] → σ → ŷ`` with binary
cross-entropy on m examples (rows). The error signal starts at the output as
``dZ[3] = (ŷ − Y)/m`` and travels back through one weight matrix and one activation derivative per
layer:

    dA[2] = dZ[3] W[3]          dZ[2] = dA[2] * g'(Z[2])        dW[2] = dZ[2]ᵀ A[1]
    dA[1] = dZ[2] W[2]          dZ[1] = dA[1] * g'(Z[1])        dW[1] = dZ[1]ᵀ X

so, in one line, ``dW[1] = ((((ŷ − Y)/m · W[3]) * g'(Z[2])) W[2] * g'(Z[1]))ᵀ X``.

The script evaluates that one-line formula with plain NumPy on the forward values of a 2-8-8-1
tanh network (all 140 moons training points) and compares it with the gradient chainrule's layers
compute (``chainrule.inspect.explain``), then trains the network against the one-hidden-layer
2-8-1 network (Adam, lr 0.01, 1000 full-batch epochs).

Writes ``exercise_two_hidden_layers.png`` (both decision boundaries).
Run: ``python examples/exercise_two_hidden_layers.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons
from chainrule.inspect import explain, gradcheck


def first_layer_gradient_by_formula(trace, X, y) -> np.ndarray:
    """dW[1] = ((((ŷ − Y)/m · W[3]) * g'(Z[2])) W[2] * g'(Z[1]))ᵀ X with g = tanh, g' = 1 − tanh²."""
    l1, l2, l3 = trace.layers
    m = X.shape[0]
    y_hat = 1.0 / (1.0 + np.exp(-l3.Z))
    dZ3 = (y_hat - y.reshape(-1, 1)) / m
    dZ2 = (dZ3 @ l3.W) * (1.0 - np.tanh(l2.Z) ** 2)
    dZ1 = (dZ2 @ l2.W) * (1.0 - np.tanh(l1.Z) ** 2)
    return dZ1.T @ X


def main(out_dir="."):
    from chainrule import plot
    from chainrule.plot._backend import pyplot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = moons()
    deep = cr.mlp([2, 8, 8, 1], activation="tanh", rng=0)
    trace = explain(deep, X_train, y_train, loss="bce", lr=0.01)
    by_formula = first_layer_gradient_by_formula(trace, X_train, y_train)
    difference = float(np.abs(by_formula - trace.layer(1).dW).max())
    check = gradcheck(deep, X_train[:10], y_train[:10], "bce")
    print("Backward pass of a network with two hidden layers (l = 3 is the output, m examples):")
    width = max(len(step.equations["dZ"]) for step in trace.layers) + 3
    for step in reversed(trace.layers):
        print(f"   {step.equations['dZ']:<{width}}{step.equations['dW']:<24}{step.equations['dA_prev']}")
    print(f"   with dA[3] from the loss: {trace.loss_gradient}")
    print("In one line: dW[1] = ((((ŷ − Y)/m · W[3]) * g'(Z[2])) W[2] * g'(Z[1]))ᵀ X")
    print(f"That formula in plain NumPy against chainrule's layers on 140 points: max difference {difference:.1e}; "
          f"{check.summary()}")
    norms = [float(np.linalg.norm(step.dZ)) for step in trace.layers]
    print("How the error signal reaches the first layer: ‖dZ[3]‖ = {2:.3g} → ‖dZ[2]‖ = {1:.3g} → ‖dZ[1]‖ = {0:.3g}: "
          "each layer multiplies it by Wᵀ and by g' ≤ 1.".format(*norms))
    print()
    results = {}
    for name, sizes in (("one hidden layer (2-8-1)", [2, 8, 1]), ("two hidden layers (2-8-8-1)", [2, 8, 8, 1])):
        net = cr.mlp(sizes, activation="tanh", rng=0)
        history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.Adam(lr=0.01), epochs=1000, verbose=0)
        results[name] = {"net": net, "final_loss": history.loss[-1],
                         "train_accuracy": float((net.predict_classes(X_train) == y_train).mean()),
                         "test_accuracy": float((net.predict_classes(X_test) == y_test).mean())}
        r = results[name]
        print(f"{name:<30} final BCE {r['final_loss']:.4f}, train accuracy {r['train_accuracy']:.3f}, "
              f"test accuracy {r['test_accuracy']:.3f}")

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, (name, r) in zip(axes, results.items()):
        plot.decision_boundary(r["net"], X_train, y_train, ax=ax, title=f"{name}: test {r['test_accuracy']:.3f}")
    fig.suptitle("Exercise 5 (final exercises): one against two hidden layers (tanh, moons training points)")
    fig.tight_layout()
    path = out / "exercise_two_hidden_layers.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")
    return {"formula_difference": difference, "gradcheck_passed": check.passed, "error_signal_norms": norms,
            "results": {k: {m: v for m, v in r.items() if m != "net"} for k, r in results.items()}, "path": path}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
