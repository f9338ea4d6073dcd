"""Seed 002, Final Exercises, Exercise 2: L2 regularisation on a network with 50 hidden units.

The seed's regularised loss is ``L_reg = L + λ/(2m) (‖W[1]‖²_F + ‖W[2]‖²_F)``, whose gradient adds
``(λ/m) W`` to each weight gradient (biases are not penalised). chainrule's optimizers take
that coefficient directly: ``l2 = λ/m`` adds ``l2 · W`` to every weight gradient.

The network is 2-50-1 with a tanh hidden layer (exercise 1's better choice) and ``cr.mlp``'s
Glorot initial weights (not the notebook's ``randn · 0.01``) on seed 002's moons, trained with Adam (lr 0.01, 3000 full-batch epochs) for λ = 0, 0.03, 0.3 and 3. (Plain gradient
descent at lr 0.1 does not even fit the training set in 10000 epochs, so there would be no
overfitting for L2 to undo.) For each λ it reports the weights' size, the accuracies and the
length of the decision boundary (the 0.5 contour of P(class 1) over the plot area; the longer,
the more it winds around individual noisy points) and the steepest slope of P(class 1) (how
abruptly the network switches from one class to the other).

Writes ``exercise_l2_regularization.png`` (the four decision boundaries).
Run: ``python examples/exercise_l2_regularization.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons

LAMBDAS = (0.0, 0.03, 0.3, 3.0)
AREA = ((-2.0, 3.0), (-1.5, 2.0))


def boundary_shape(net, resolution: int = 400) -> tuple[float, float]:
    """Length of the P(class 1) = 0.5 contour inside ``AREA`` and the steepest slope of P there."""
    import contourpy

    (x0, x1), (y0, y1) = AREA
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    xx, yy = np.meshgrid(xs, ys)
    p = net.predict(np.c_[xx.ravel(), yy.ravel()])[:, 0].reshape(xx.shape)
    lines = contourpy.contour_generator(xs, ys, p).lines(0.5)
    length = float(sum(np.linalg.norm(np.diff(line, axis=0), axis=1).sum() for line in lines))
    dy, dx = np.gradient(p, ys, xs)
    return length, float(np.hypot(dx, dy).max())


def train(lam: float, X, y, seed: int = 0):
    m = X.shape[0]
    net = cr.mlp([2, 50, 1], activation="tanh", rng=seed)
    history = net.fit(X, y, loss="bce", optimizer=cr.optim.Adam(lr=0.01, l2=lam / m), epochs=3000, verbose=0)
    return net, history


def main(out_dir="."):
    from chainrule import plot
    from chainrule.plot._backend import pyplot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = moons()
    m = X_train.shape[0]
    results = {}
    for lam in LAMBDAS:
        net, history = train(lam, X_train, y_train)
        length, slope = boundary_shape(net)
        sq = sum(float((layer.W.value ** 2).sum()) for layer in net.layers if isinstance(layer, cr.Dense))
        results[lam] = {
            "net": net, "bce": history.loss[-1], "penalty": lam / (2 * m) * sq, "weights_sq": sq,
            "train_accuracy": float((net.predict_classes(X_train) == y_train).mean()),
            "test_accuracy": float((net.predict_classes(X_test) == y_test).mean()),
            "boundary_length": length, "max_slope": slope,
        }
    print("Not the notebook's settings: a tanh hidden layer, Glorot initial weights and Adam (lr 0.01, 3000 epochs); "
          "its sigmoid network with gradient descent at lr 0.1 does not even fit the training set in 10000 epochs, "
          "so there would be no overfitting for L2 to undo.")
    print(f"L_reg = L + λ/(2m) Σ‖W‖²_F with m = {m}; its gradient adds (λ/m) W, i.e. optimizer l2 = λ/m.")
    print()
    print(f"{'λ':>6}{'BCE':>9}{'λ/2m Σ‖W‖²':>12}{'Σ‖W‖²':>10}{'train acc':>11}{'test acc':>10}{'boundary length':>17}{'max |∇P|':>10}")
    for lam, r in results.items():
        print(f"{lam:>6g}{r['bce']:>9.4f}{r['penalty']:>12.4f}{r['weights_sq']:>10.1f}{r['train_accuracy']:>11.3f}"
              f"{r['test_accuracy']:>10.3f}{r['boundary_length']:>17.2f}{r['max_slope']:>10.2f}")
    base, reg = results[0.0], results[0.3]
    print()
    print(f"Effect: without L2 the 50 hidden units drive the training loss to {base['bce']:.4f} with weights of total")
    print(f"square {base['weights_sq']:.0f}, and the boundary winds around single noisy points "
          f"({base['boundary_length']:.1f} units long).")
    print(f"With λ = 0.3 the sum of squared weights shrinks {base['weights_sq'] / reg['weights_sq']:.0f}-fold (their norm "
          f"{(base['weights_sq'] / reg['weights_sq']) ** 0.5:.1f}-fold), the boundary is a "
          f"smooth curve ({reg['boundary_length']:.1f} units) and P(class 1) changes {base['max_slope'] / reg['max_slope']:.0f}× "
          "less abruptly;")
    print(f"training accuracy drops from {base['train_accuracy']:.3f} to {reg['train_accuracy']:.3f}")
    print(f"and test accuracy goes from {base['test_accuracy']:.3f} to {reg['test_accuracy']:.3f}. Too much "
          f"(λ = 3) underfits: test accuracy {results[3.0]['test_accuracy']:.3f}.")

    plt = pyplot()
    fig, axes = plt.subplots(1, len(LAMBDAS), figsize=(5.2 * len(LAMBDAS), 4.6))
    for ax, (lam, r) in zip(axes, results.items()):
        # the area the boundary is measured over, evaluated there (not the data's own range)
        plot.decision_boundary(r["net"], X_train, y_train, ax=ax, extent=AREA,
                               title=f"λ = {lam:g}: train {r['train_accuracy']:.3f}, test {r['test_accuracy']:.3f}")
    fig.suptitle("Exercise 2 (final exercises): L2 regularisation of a 2-50-1 tanh network on moons (training points)")
    fig.tight_layout()
    path = out / "exercise_l2_regularization.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")
    return {lam: {k: v for k, v in r.items() if k != "net"} for lam, r in results.items()} | {"path": path}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
