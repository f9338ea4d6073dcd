"""Seed 002: the ``SimpleNeuralNetwork`` experiment on make_moons.

2-4-1 network, sigmoid hidden layer, sigmoid output with binary cross-entropy (chainrule's
``BinaryCrossEntropy`` takes the logits and fuses the sigmoid, so the gradient at the output
is exactly the notebook's ``dZ2 = A2 - Y`` averaged over the batch), weights ``N(0,1)·0.01``,
zero biases, full-batch gradient descent with learning rate 0.1 for 10000 epochs.
Writes ``seed_002_loss.png`` and ``seed_002_decision_boundary.png``.

Run: ``python examples/seed_002_moons.py [OUT_DIR]``
"""

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons


def initial_weights(seed: int = 0):
    """The notebook's initialisation, ``randn(...) * 0.01`` (seeded here for reproducibility)."""
    rng = np.random.RandomState(seed)
    W1 = rng.randn(4, 2) * 0.01
    W2 = rng.randn(1, 4) * 0.01
    return W1, np.zeros(4), W2, np.zeros(1)


def build_network(W1, b1, W2, b2) -> cr.Sequential:
    return cr.Sequential([cr.Dense.from_arrays(W1, b1), cr.Sigmoid(), cr.Dense.from_arrays(W2, b2)])


def main(out_dir="."):
    from chainrule import plot

    X_train, X_test, y_train, y_test = moons()
    net = build_network(*initial_weights())

    def report(epoch, logs, net):
        if epoch % 1000 == 0:
            print(f"Epoch {epoch}, Loss: {logs['loss']}")

    history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.SGD(lr=0.1), epochs=10000,
                      shuffle=False, callbacks=[cr.EpochHook(report)], verbose=0)
    train_acc = float((net.predict_classes(X_train) == y_train).mean())
    test_acc = float((net.predict_classes(X_test) == y_test).mean())
    print(f"final loss {history.loss[-1]:.6f}; train accuracy {train_acc:.3f}; test accuracy {test_acc:.3f}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot.loss_curve(history, title="Loss During Training (seed 002)").savefig(out / "seed_002_loss.png", dpi=100)
    plot.decision_boundary(net, X_train, y_train, title="Decision Boundary (seed 002, training set)").savefig(
        out / "seed_002_decision_boundary.png", dpi=100
    )
    return net, history, test_acc


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
