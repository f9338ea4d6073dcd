"""The seeds' worked examples: chainrule reproduces the notebooks' numbers, and with the
same initial weights its trained weights equal the notebooks' own NumPy loops to 1e-9."""

import runpy
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import lecture_linear, moons

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def seed_000_loop(data, labels, W1, b1, W2, b2, epochs=1000, learning_rate=0.1):
    """Seed 000's training loop, as printed in the lecture notes."""
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def sigmoid_derivative(z):
        return z * (1 - z)

    losses = []
    for epoch in range(epochs):
        hidden = sigmoid(np.dot(data, W1) + b1)
        output = sigmoid(np.dot(hidden, W2) + b2)
        losses.append(np.mean((labels.reshape(-1, 1) - output) ** 2))
        d_output = (output - labels.reshape(-1, 1)) * sigmoid_derivative(output)
        d_hidden = np.dot(d_output, W2.T) * sigmoid_derivative(hidden)
        W2 -= learning_rate * np.dot(hidden.T, d_output)
        b2 -= learning_rate * np.sum(d_output, axis=0)
        W1 -= learning_rate * np.dot(data.T, d_hidden)
        b1 -= learning_rate * np.sum(d_hidden, axis=0)
    return W1, b1, W2, b2, losses


class SimpleNeuralNetwork:
    """Seed 002's class (features × samples layout), trimmed to what training uses."""

    def __init__(self, W1, b1, W2, b2):
        self.W1, self.b1, self.W2, self.b2 = W1, b1.reshape(-1, 1), W2, b2.reshape(-1, 1)

    @staticmethod
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def train(self, X, Y, epochs, learning_rate):
        losses = []
        for _ in range(epochs):
            self.Z1 = self.W1 @ X + self.b1
            self.A1 = self.sigmoid(self.Z1)
            self.A2 = self.sigmoid(self.W2 @ self.A1 + self.b2)
            losses.append(-(Y * np.log(self.A2) + (1 - Y) * np.log(1 - self.A2)).mean())
            m = Y.shape[1]
            dZ2 = self.A2 - Y
            dW2 = (1 / m) * dZ2 @ self.A1.T
            db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
            dZ1 = (self.W2.T @ dZ2) * self.sigmoid(self.Z1) * (1 - self.sigmoid(self.Z1))
            dW1 = (1 / m) * dZ1 @ X.T
            db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
            self.W1 -= learning_rate * dW1
            self.b1 -= learning_rate * db1
            self.W2 -= learning_rate * dW2
            self.b2 -= learning_rate * db2
        return losses


def test_seed_000_weights_equal_the_lecture_loop():
    X, y, rng = lecture_linear()
    W1, W2 = rng.randn(2, 4), rng.randn(4, 1)
    ref = seed_000_loop(X, y.astype(bool), W1.copy(), np.zeros(4), W2.copy(), np.zeros(1))
    net = cr.Sequential([cr.Dense.from_arrays(W1.T, np.zeros(4)), cr.Sigmoid(),
                         cr.Dense.from_arrays(W2.T, np.zeros(1)), cr.Sigmoid()])
    history = net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(0.1), epochs=1000, shuffle=False, verbose=0)
    W1_, b1_, W2_, b2_ = net.get_weights()
    np.testing.assert_allclose(W1_, ref[0].T, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b1_, ref[1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(W2_, ref[2].T, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b2_, ref[3], rtol=0, atol=1e-9)
    lecture_losses = 2 * np.array(history.loss) / len(X)  # the lecture prints mean((y - ŷ)²)
    np.testing.assert_allclose(lecture_losses, ref[4], rtol=1e-9)


def test_seed_000_example_prints_the_lecture_numbers(capsys):
    runpy.run_path(str(EXAMPLES / "seed_000_lecture.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Epoch 0, Loss: 0.2570" in out and "Epoch 900, Loss: 0.0025" in out
    assert out.count("Epoch ") == 10
    assert "Test predictions: [0 0 1 0]" in out
    assert out.count("on the boundary x0 + x1 = 0") == 2  # (0.5, -0.5) and (-0.5, 0.5)


def test_seed_001_single_neuron_prints_0_99993703(capsys):
    runpy.run_path(str(EXAMPLES / "seed_001_single_neuron.py"), run_name="__main__")
    assert "[[0.99993703]]" in capsys.readouterr().out


def test_seed_001_equals_the_notebook_loop():
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0, 1, 1, 0]]).T
    np.random.seed(0)
    weights = 2 * np.random.random((3, 1)) - 1
    net = cr.Sequential([cr.Dense.from_arrays(weights.T), cr.Sigmoid()])
    for _ in range(10000):  # the notebook's loop
        layer1 = 1 / (1 + np.exp(-(X @ weights)))
        weights += X.T @ ((y - layer1) * layer1 * (1 - layer1))
    net.fit(X, y, loss="sse", optimizer=cr.optim.SGD(1.0), epochs=10000, verbose=0)
    np.testing.assert_allclose(net.get_weights()[0], weights.T, rtol=0, atol=1e-9)
    assert float(net.predict(np.array([[1.0, 0.0, 0.0]]))[0, 0]) == pytest.approx(0.99993703, abs=5e-9)


def test_seed_002_weights_equal_simple_neural_network():
    X_train, X_test, y_train, y_test = moons()
    rng = np.random.RandomState(0)
    W1, W2 = rng.randn(4, 2) * 0.01, rng.randn(1, 4) * 0.01
    ref = SimpleNeuralNetwork(W1.copy(), np.zeros(4), W2.copy(), np.zeros(1))
    ref_losses = ref.train(X_train.T, y_train.reshape(1, -1), epochs=10000, learning_rate=0.1)
    net = cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(4)), cr.Sigmoid(), cr.Dense.from_arrays(W2, np.zeros(1))])
    history = net.fit(X_train, y_train, loss="bce", optimizer=cr.optim.SGD(0.1), epochs=10000, verbose=0)
    got = net.get_weights()
    for ours, theirs in zip(got, [ref.W1, ref.b1.ravel(), ref.W2, ref.b2.ravel()]):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(history.loss, ref_losses, rtol=1e-9)


def test_seed_002_example_writes_its_plots(tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / "seed_002_moons.py"))
    net, history, test_acc = module["main"](tmp_path)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 10
    assert history.loss[-1] < 0.35 and test_acc >= 0.8
    for name in ("seed_002_loss.png", "seed_002_decision_boundary.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_seed_002_toy_ising_demo_runs_as_in_the_notebook(tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / "seed_002_toy_ising.py"))
    net, history, accuracy = module["main"](tmp_path)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 5 and "Accuracy on the test set:" in out
    assert "Input data shape: (800, 16)" in out and "Labels shape: (800,) (the notebook's y.T is (1, 800))" in out
    # the two toy "phases" differ in the mean spin (0.8 vs 0): nearly separable from 16 spins
    assert history.loss[0] == pytest.approx(np.log(2), abs=1e-3) and history.loss[-1] < 0.1
    assert accuracy == pytest.approx(0.98)  # deterministic: the README's 98.00% (seed 0)
    # the ceiling printed beside it: the Bayes rule's accuracy, checked by simulation
    from scipy.stats import binom

    best = module["bayes_accuracy"]()
    rng = np.random.default_rng(5)
    ordered, disordered = rng.binomial(16, 0.9, 200_000), rng.binomial(16, 0.5, 200_000)
    likelier_ordered = binom.pmf(np.arange(17), 16, 0.9) > binom.pmf(np.arange(17), 16, 0.5)
    simulated = 0.5 * (likelier_ordered[ordered].mean() + (~likelier_ordered[disordered]).mean())
    assert best == pytest.approx(simulated, abs=2e-3) and 0.97 < best < 0.975
    assert f"expect here is {100 * best:.2f}%" in out
    assert (tmp_path / "seed_002_toy_ising_loss.png").stat().st_size > 10_000
    # and the weights are the notebook's own loop's from the same start
    X_train, _, y_train, _ = module["make_data"](0)
    W1, b1, W2, b2 = module["build_network"](0).get_weights()
    ref = SimpleNeuralNetwork(W1, b1, W2, b2)
    ref.train(X_train.T, y_train.reshape(1, -1), epochs=5000, learning_rate=0.05)
    for ours, theirs in zip(net.get_weights(), [ref.W1, ref.b1.ravel(), ref.W2, ref.b2.ravel()]):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
