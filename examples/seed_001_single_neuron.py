"""Seed 001: one sigmoid unit trained on a 4-row truth table.

The notebook draws ``weights = 2 * np.random.random((3, 1)) - 1`` after ``np.random.seed(0)``
(U(-1, 1), no bias: the third input column is a constant 1), then runs 10000 full-batch
steps of ``weights += X.T @ ((y - a) * a (1 - a))`` — gradient descent with learning rate 1
on ``E = ½ Σ (a - y)²``. It predicts 0.99993703 for the input ``[1, 0, 0]``.

Run: ``python examples/seed_001_single_neuron.py``
"""

import numpy as np

import chainrule as cr
from chainrule.datasets import truth_table


def main():
    X, y = truth_table()
    np.random.seed(0)
    weights = 2 * np.random.random((3, 1)) - 1
    net = cr.Sequential([cr.Dense.from_arrays(weights.T, b=None), cr.Sigmoid()])
    net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(lr=1.0), epochs=10000, shuffle=False, verbose=0)
    predicted = net.predict(np.array([[1, 0, 0]]))
    print("Predicted output:", np.array2string(predicted, precision=8))
    return predicted


if __name__ == "__main__":
    main()
