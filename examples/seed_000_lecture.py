"""Seed 000, the GRA 4160 lecture: a 2-4-1 sigmoid network by full-batch gradient descent.

The lecture draws 500 points with ``np.random.seed(42)``, labels them ``x0 + x1 > 0``, and
trains for 1000 epochs with learning rate 0.1. Its update is the gradient of
``E = ½ Σ (ŷ - y)²`` (chainrule's ``SumSquaredError``) while the loss it *prints* is the mean
squared error ``mean((y - ŷ)²) = 2E/n``. This example does the same, training on ``E`` and
printing ``2E/n``, from the initial weights the notebook draws, so the printed numbers are the
notebook's.

Run: ``python examples/seed_000_lecture.py``
"""

import numpy as np

import chainrule as cr
from chainrule.datasets import lecture_linear


def build_lecture_network(rng: np.random.RandomState) -> cr.Sequential:
    """The notebook's initial weights: ``W1 = randn(2, 4)``, ``W2 = randn(4, 1)``, zero biases,
    transposed into chainrule's ``(n_out, n_in)`` layout."""
    W1 = rng.randn(2, 4)
    W2 = rng.randn(4, 1)
    return cr.Sequential([
        cr.Dense.from_arrays(W1.T, np.zeros(4)), cr.Sigmoid(),
        cr.Dense.from_arrays(W2.T, np.zeros(1)), cr.Sigmoid(),
    ])


def main():
    X, y, rng = lecture_linear()
    print(X[0:5])
    print(y[0:5].astype(bool))
    net = build_lecture_network(rng)
    n = X.shape[0]

    def report(epoch, logs, net):
        if epoch % 100 == 0:
            print(f"Epoch {epoch}, Loss: {2 * logs['loss'] / n:.4f}")

    net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(lr=0.1), epochs=1000, batch_size=None,
            shuffle=False, callbacks=[cr.EpochHook(report)], verbose=0)
    test_data = np.array([[0.5, -0.5], [-0.5, 0.5], [0.5, 0.5], [-0.5, -0.5]])
    test_output = net.predict(test_data)
    print("Test predictions:", (test_output > 0.5).astype(int).reshape(-1))
    # beyond the lecture's output: the probabilities behind those 0/1 answers
    truth = (test_data.sum(axis=1) > 0).astype(int)
    for point, p, label in zip(test_data, test_output[:, 0], truth):
        where = "on the boundary x0 + x1 = 0, labelled 0 (> 0 is false)" if point.sum() == 0 else f"label {label}"
        print(f"   {str(point):<12} ŷ = {p:.3f}   ({where})")
    return net


if __name__ == "__main__":
    main()
