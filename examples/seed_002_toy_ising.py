"""Seed 002: "Classifying Phases of Matter", the notebook's toy Ising demo, as written there.

The data are the notebook's ``generate_ising_data(4, 1000)``: NOT physical configurations,
but 4×4 grids of independent spins, +1 with probability 0.9 ("ordered", label 0) or 0.5
("disordered", label 1) — ``chainrule.datasets.ising.toy_ising_configurations``. Shuffled,
800 for training and 200 for testing; the notebook's ``SimpleNeuralNetwork`` 16-8-1 (sigmoid
hidden layer, sigmoid output with binary cross-entropy, weights ``N(0,1)·0.01``, zero biases),
full-batch gradient descent with learning rate 0.05 for 5000 epochs. Prints the loss every
1000 epochs, the test accuracy beside the best accuracy possible on such data, and writes
``seed_002_toy_ising_loss.png``.

For the physics (Monte Carlo configurations, the critical temperature from a network) see
``examples/ising_phase_classification.py`` and ``chainrule ising``.

Run: ``python examples/seed_002_toy_ising.py [OUT_DIR]``
"""

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets.ising import toy_ising_configurations

L = 4


def make_data(seed: int = 0):
    """The notebook's data, shuffle and 800/200 split (samples as rows)."""
    X, y = toy_ising_configurations(L, 1000, rng=seed)
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order].astype(np.float64), y[order]
    return X[:800], X[800:], y[:800], y[800:]


def bayes_accuracy(n_spins: int = L * L, p_ordered: float = 0.9, p_disordered: float = 0.5) -> float:
    """The best accuracy any classifier can expect on these data (equal class sizes): the number
    of up spins k is all the evidence (the spins are independent), and the Bayes rule picks the
    class under which k is likelier, so the accuracy is ½ Σ_k max(P_ordered(k), P_disordered(k))."""
    from math import comb

    def binomial(k, p):
        return comb(n_spins, k) * p**k * (1 - p) ** (n_spins - k)

    return 0.5 * sum(max(binomial(k, p_ordered), binomial(k, p_disordered)) for k in range(n_spins + 1))


def build_network(seed: int = 0) -> cr.Sequential:
    """16-8-1 with the notebook's initialisation, ``randn(...) * 0.01`` and zero biases."""
    rng = np.random.RandomState(seed)
    W1, W2 = rng.randn(8, L * L) * 0.01, rng.randn(1, 8) * 0.01
    return cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(8)), cr.Sigmoid(),
                          cr.Dense.from_arrays(W2, np.zeros(1))])


def main(out_dir=".", seed: int = 0):
    from chainrule import plot

    X_train, X_test, y_train, y_test = make_data(seed)
    print(f"Input data shape: {X_train.shape} (samples as rows; the notebook's X.T is {X_train.T.shape})")
    print(f"Labels shape: {y_train.shape} (the notebook's y.T is {y_train.reshape(-1, 1).T.shape})")
    net = build_network(seed)

    def report(epoch, logs, net):
        if epoch % 1000 == 0:
            print(f"Epoch {epoch}, Loss: {logs['loss']:.6f}")

    history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.SGD(lr=0.05), epochs=5000,
                      shuffle=False, callbacks=[cr.EpochHook(report)], verbose=0)
    accuracy = float((net.predict_classes(X_test) == y_test).mean())
    print(f"Accuracy on the test set: {100 * accuracy:.2f}% (data and initial weights from seed {seed}; the "
          "notebook is unseeded)")
    best = bayes_accuracy()
    errors = round((1 - accuracy) * len(y_test))
    print(f"The best any classifier can expect here is {100 * best:.2f}% (the Bayes rule on the count of up spins): "
          f"{(1 - best) * len(y_test):.1f} ± {np.sqrt(best * (1 - best) * len(y_test)):.1f} errors in {len(y_test)} "
          f"test samples, against the {errors} made here; 200 samples are too few to tell the two apart")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figure = plot.loss_curve(history, title="Ising Model Phase Classification Loss (seed 002's toy data)")
    figure.savefig(out / "seed_002_toy_ising_loss.png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return net, history, accuracy


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
