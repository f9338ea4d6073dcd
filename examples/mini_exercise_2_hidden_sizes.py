"""Seed 002, Mini-Exercise 2: hidden layer sizes 1, 2, 4, 20 and 50.

The notebook's ``SimpleNeuralNetwork`` on its moons split (sigmoid hidden layer, weights
``randn · 0.01``, zero biases, sigmoid output with binary cross-entropy), with 1, 2, 4, 20 and 50
hidden units. The notebook's plain gradient descent (lr 0.1) has not converged after 10000 epochs
even with 4 units (``examples/seed_002_moons.py``: loss 0.33 and still falling), which would hide
what the size does, so each network is trained with Adam (lr 0.02, 3000 full-batch epochs) until it
is close to what its size allows.

Writes ``mini_exercise_2_hidden_sizes.png`` (the five decision boundaries and the losses).
Run: ``python examples/mini_exercise_2_hidden_sizes.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons

SIZES = (1, 2, 4, 20, 50)


def simple_network(hidden: int, seed: int = 0) -> cr.Sequential:
    rng = np.random.RandomState(seed)
    W1, W2 = rng.randn(hidden, 2) * 0.01, rng.randn(1, hidden) * 0.01
    return cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(hidden)), cr.Sigmoid(),
                          cr.Dense.from_arrays(W2, np.zeros(1))])


def main(out_dir="."):
    from chainrule import plot
    from chainrule.plot._backend import pyplot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = moons()
    results = {}
    for hidden in SIZES:
        net = simple_network(hidden)
        history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.Adam(lr=0.02), epochs=3000, verbose=0)
        results[hidden] = {"net": net, "final_loss": history.loss[-1],
                           "test_loss": net.evaluate(X_test, y_test)["loss"],
                           "train_accuracy": float((net.predict_classes(X_train) == y_train).mean()),
                           "test_accuracy": float((net.predict_classes(X_test) == y_test).mean())}
    print("Not the notebook's training settings: its gradient descent (lr 0.1, 10000 epochs) has not converged even "
          "with 4 units, so every size is trained with Adam (lr 0.02, 3000 full-batch epochs).")
    print(f"{'hidden units':>12}{'train loss':>12}{'test loss':>11}{'train acc':>11}{'test acc':>10}")
    for hidden, r in results.items():
        print(f"{hidden:>12}{r['final_loss']:>12.4f}{r['test_loss']:>11.4f}{r['train_accuracy']:>11.3f}"
              f"{r['test_accuracy']:>10.3f}")
    best = max(SIZES, key=lambda h: (results[h]["test_accuracy"], -h))
    print()
    print(f"Underfitting: with 1 and 2 units the boundary is still a straight line (training losses "
          f"{results[1]['final_loss']:.3f} and {results[2]['final_loss']:.3f}); the moons need a curve.")
    chain = " > ".join(f"{results[h]['final_loss']:.3f}" for h in SIZES)
    print(f"4 units already follow the two moons. The training loss keeps falling with size ({chain}),")
    print(f"but the test accuracy peaks at {best} units ({results[best]['test_accuracy']:.3f}); with 50 units the "
          f"network fits the training set to {results[50]['train_accuracy']:.3f} and bends around noisy points:")
    print(f"test accuracy {results[50]['test_accuracy']:.3f}, test loss {results[50]['test_loss']:.3f} against "
          f"{results[best]['test_loss']:.3f} — overfitting.")

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    for ax, hidden in zip(axes.ravel(), SIZES):
        r = results[hidden]
        plot.decision_boundary(r["net"], X_train, y_train, ax=ax,
                               title=f"{hidden} hidden unit{'s' if hidden > 1 else ''}: train loss "
                               f"{r['final_loss']:.3f}, test acc {r['test_accuracy']:.3f}")
    ax = axes.ravel()[-1]
    ax.semilogy(SIZES, [results[h]["final_loss"] for h in SIZES], "o-", label="training loss")
    ax.semilogy(SIZES, [results[h]["test_loss"] for h in SIZES], "s-", label="test loss")
    ax.set_xscale("log")
    ax.set_xticks(SIZES)
    ax.set_xticklabels([str(h) for h in SIZES])
    ax.set_xlabel("hidden units")
    ax.set_ylabel("BCE after 3000 epochs")
    ax.set_title("Final losses by hidden layer size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.suptitle("Mini-Exercise 2: hidden layer size of the 2-h-1 sigmoid network on moons (training points)")
    fig.tight_layout()
    path = out / "mini_exercise_2_hidden_sizes.png"
    fig.savefig(path, dpi=75)
    plt.close(fig)
    print(f"wrote {path}")
    return {h: {k: v for k, v in r.items() if k != "net"} for h, r in results.items()} | {"best": best, "path": path}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
