"""Seed 002, Final Exercises, Exercise 3: stochastic gradient descent against batch gradient descent.

The notebook's 2-4-1 network (tanh hidden layer, the better choice of exercise 1; weights
``randn · 0.01``; BCE) on its moons split, from the same initial weights, lr 0.1:

- batch gradient descent: one step per epoch on all 140 training examples (``batch_size=None``);
- SGD: one step per example (``batch_size=1``), examples reshuffled every epoch.

Both take 14000 steps (100 SGD epochs, 14000 batch epochs). Every step's loss is recorded (for
SGD the loss of the one example the step used, which is what an SGD loop sees), and the loss on
the whole training set after every SGD epoch. Noisiness is measured as the share of steps after
which the recorded loss went up, and as the spread of the step losses around their running mean
(relative to it).

Writes ``exercise_batch_vs_sgd.png``.
Run: ``python examples/exercise_batch_vs_sgd.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons

STEPS, N_TRAIN = 14_000, 140


class StepLosses(cr.Callback):
    """The loss of every step (``on_batch_end``) and, with ``evaluate``, the full training loss
    after every epoch."""

    def __init__(self, X, y, evaluate: bool):
        self.X, self.y, self.evaluate = X, y, evaluate
        self.steps, self.epochs = [], []

    def on_batch_end(self, trainer, batch, logs):
        self.steps.append(logs["loss"])

    def on_epoch_end(self, trainer, epoch, logs):
        if self.evaluate:
            self.epochs.append(trainer.net.evaluate(self.X, self.y, loss="bce")["loss"])


def simple_network(seed: int = 0) -> cr.Sequential:
    rng = np.random.RandomState(seed)
    W1, W2 = rng.randn(4, 2) * 0.01, rng.randn(1, 4) * 0.01
    return cr.Sequential([cr.Dense.from_arrays(W1, np.zeros(4)), cr.Tanh(), cr.Dense.from_arrays(W2, np.zeros(1))])


def noisiness(losses, window: int = N_TRAIN) -> dict:
    """Share of steps after which the loss went up; spread around the running mean, relative to it."""
    losses = np.asarray(losses)
    running = np.convolve(losses, np.ones(window) / window, mode="valid")
    resid = losses[window - 1:] - running
    return {"share_up": float(np.mean(np.diff(losses) > 0)), "spread": float(np.mean(np.abs(resid) / running)),
            "running": running}


def run(batch_size, X, y):
    record = StepLosses(X, y, evaluate=batch_size is not None)
    net = simple_network()
    epochs = STEPS if batch_size is None else STEPS // N_TRAIN
    net.fit(X, y, loss="bce", optimizer=cr.optim.SGD(lr=0.1), epochs=epochs, batch_size=batch_size, verbose=0,
            rng=0, callbacks=[record])
    if batch_size is None:  # every step sees all examples: the loss after step k is the one step k + 1 sees
        record.epochs = record.steps[1:] + [net.evaluate(X, y, loss="bce")["loss"]]
    return record


def main(out_dir="."):
    from chainrule.plot._backend import pyplot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_train, _, y_train, _ = moons()
    runs = {"batch GD": run(None, X_train, y_train), "SGD": run(1, X_train, y_train)}
    epochs_100 = STEPS // N_TRAIN
    stats = {}
    for name, r in runs.items():
        stats[name] = {"steps": len(r.steps), **noisiness(r.steps), "loss_after_all_steps": r.epochs[-1],
                       "loss_after_100_epochs": r.epochs[epochs_100 - 1]}
    print("The notebook's 2-4-1 network with a tanh hidden layer (exercise 1's better choice) instead of its sigmoid.")
    print(f"{STEPS} steps at lr 0.1 from the same initial weights ({N_TRAIN} training examples):")
    print(f"{'':<10}{'steps with loss up':>20}{'relative spread':>17}{'loss after 100 epochs':>23}"
          f"{f'loss after {STEPS} steps':>23}")
    for name, s in stats.items():
        print(f"{name:<10}{s['share_up']:>20.1%}{s['spread']:>17.3f}{s['loss_after_100_epochs']:>23.4f}"
              f"{s['loss_after_all_steps']:>23.4f}")
    gd, sgd = stats["batch GD"], stats["SGD"]
    print()
    print("Answer: the SGD loss curve is much noisier. Each step follows the gradient of one example, so the loss")
    print(f"it sees goes up after {sgd['share_up']:.0%} of the steps (batch GD: {gd['share_up']:.0%}) and scatters around "
          f"its running mean by {sgd['spread']:.0%} of it (batch GD: {gd['spread']:.2%}).")
    print(f"Even the loss on all examples after each SGD epoch zigzags. In exchange, SGD takes {N_TRAIN} steps per epoch:")
    print(f"after 100 epochs its training loss is {sgd['loss_after_100_epochs']:.4f} against batch GD's "
          f"{gd['loss_after_100_epochs']:.4f}; after the same {STEPS} steps batch GD reaches "
          f"{gd['loss_after_all_steps']:.4f}, SGD {sgd['loss_after_all_steps']:.4f}.")

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    steps = np.arange(1, STEPS + 1)
    ax = axes[0]
    ax.plot(steps, runs["SGD"].steps, color="tab:orange", linewidth=0.3, alpha=0.45, label="SGD: loss of the step's example")
    ax.plot(steps[N_TRAIN - 1:], sgd["running"], color="darkorange", linewidth=1.5, label=f"SGD: running mean over {N_TRAIN} steps")
    ax.plot(steps, runs["batch GD"].steps, color="tab:blue", linewidth=2, label="batch GD: loss of all examples")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss seen by the step (BCE)")
    ax.set_title("Loss per step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax = axes[1]
    ax.plot(steps, runs["batch GD"].epochs, color="tab:blue", linewidth=2, label="batch GD (after every step = epoch)")
    ax.plot(np.arange(1, epochs_100 + 1) * N_TRAIN, runs["SGD"].epochs, color="tab:orange", marker="o", markersize=2.5,
            label=f"SGD (after every epoch = {N_TRAIN} steps)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss on all examples (BCE)")
    ax.set_title("Training loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.suptitle("Exercise 3 (final exercises): batch gradient descent against SGD (2-4-1 tanh network, moons, lr 0.1)")
    fig.tight_layout()
    path = out / "exercise_batch_vs_sgd.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")
    return {name: {k: v for k, v in st.items() if k != "running"} for name, st in stats.items()} | {
        "sgd_epoch_losses": runs["SGD"].epochs, "path": path}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
