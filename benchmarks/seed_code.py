"""The lecture seeds' own NumPy code, copied here so the benchmark never reads ``../shared``.

Only two things differ from the notebooks: the seed 000 training loop is wrapped in a
function taking its arrays as arguments (the notebook runs it at top level), and the
callers silence the ``print`` calls with ``contextlib.redirect_stdout`` instead of
removing them, so the timed code is the code the lecture runs.
"""

from __future__ import annotations

import numpy as np


# ---- seed 000 (lecture 9, "Python example of backpropagation") -------------------------------
# Define the sigmoid activation function
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# Define the derivative of the sigmoid activation function
def sigmoid_derivative(z):
    return z * (1 - z)


# Define the mean squared error (MSE) loss function
def mse(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)


# Define the derivative of the mean squared error (MSE) loss function
def mse_derivative(y_true, y_pred):
    return y_pred - y_true


def seed_000_training_loop(data, labels, W1, b1, W2, b2, epochs=1000, learning_rate=0.1):
    """Seed 000's training loop, verbatim; updates ``W1, b1, W2, b2`` in place.

    Parameters
    ----------
    data : ndarray, shape (500, 2)
    labels : ndarray of bool, shape (500,)
    W1 : ndarray, shape (2, 4)  (the seed's input-by-output layout)
    b1 : ndarray, shape (4,)
    W2 : ndarray, shape (4, 1)
    b2 : ndarray, shape (1,)
    """
    # Training loop
    for epoch in range(epochs):
        # Forward pass
        hidden = sigmoid(np.dot(data, W1) + b1)
        output = sigmoid(np.dot(hidden, W2) + b2)

        # Calculate loss
        loss = mse(labels.reshape(-1, 1), output)

        # Backpropagation
        d_output = mse_derivative(labels.reshape(-1, 1), output) * sigmoid_derivative(output)
        d_hidden = np.dot(d_output, W2.T) * sigmoid_derivative(hidden)

        # Update weights and biases
        W2 -= learning_rate * np.dot(hidden.T, d_output)
        b2 -= learning_rate * np.sum(d_output, axis=0)
        W1 -= learning_rate * np.dot(data.T, d_hidden)
        b1 -= learning_rate * np.sum(d_hidden, axis=0)

        if epoch % 100 == 0:
            print(f"Epoch {epoch}, Loss: {loss:.4f}")
    return W1, b1, W2, b2


# ---- seed 002 ("Implementing Backpropagation from Scratch") ---------------------------------
# Sigmoid activation function and its derivative
def sigmoid_002(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_derivative_002(z):
    return sigmoid_002(z) * (1 - sigmoid_002(z))


# Loss function
def compute_loss(y_true, y_pred):
    return - (y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred)).mean()


class SimpleNeuralNetwork:
    """Seed 002's class, verbatim (features × samples layout; ``sigmoid`` and
    ``sigmoid_derivative`` renamed ``*_002`` only because seed 000's differ)."""

    def __init__(self, input_size, hidden_size, output_size):
        # Initialize weights and biases
        self.W1 = np.random.randn(hidden_size, input_size) * 0.01
        self.b1 = np.zeros((hidden_size, 1))
        self.W2 = np.random.randn(output_size, hidden_size) * 0.01
        self.b2 = np.zeros((output_size, 1))

    def forward_pass(self, X):
        self.Z1 = np.dot(self.W1, X) + self.b1
        self.A1 = sigmoid_002(self.Z1)
        self.Z2 = np.dot(self.W2, self.A1) + self.b2
        self.A2 = sigmoid_002(self.Z2)
        return self.A2

    def backward_pass(self, X, Y):
        m = Y.shape[1]

        # Gradients for the output layer
        dZ2 = self.A2 - Y
        self.dW2 = (1 / m) * np.dot(dZ2, self.A1.T)
        self.db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)

        # Gradients for the hidden layer
        dZ1 = np.dot(self.W2.T, dZ2) * sigmoid_derivative_002(self.Z1)
        self.dW1 = (1 / m) * np.dot(dZ1, X.T)
        self.db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)

    def update_parameters(self, learning_rate):
        self.W1 -= learning_rate * self.dW1
        self.b1 -= learning_rate * self.db1
        self.W2 -= learning_rate * self.dW2
        self.b2 -= learning_rate * self.db2

    def train(self, X, Y, epochs, learning_rate):
        losses = []
        for i in range(epochs):
            y_pred = self.forward_pass(X)
            loss = compute_loss(Y, y_pred)
            losses.append(loss)

            self.backward_pass(X, Y)
            self.update_parameters(learning_rate)

            if i % 1000 == 0:
                print(f"Epoch {i}, Loss: {loss}")

        return losses
