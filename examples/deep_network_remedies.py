"""The vanishing-gradient remedies of seed 002, each shown to work on a 20-layer network.

The same 20-layer, 32-unit network is trained on scikit-learn's digits (8×8 images, 10
classes) in seven variants, each adding one remedy to the previous:

1. sigmoid + Glorot init (the plain deep network),
2. ReLU + He init,
3. + gradient clipping (global norm 1),
4. + residual connections (skip every two layers),
5. + batch normalisation,
6. + a higher learning rate (Adam at 3e-3 instead of 1e-3),
7. + a learning-rate schedule (cosine decay from that rate).

A ``GradientFlow`` callback records every layer's gradient statistics in every epoch (and
warns about vanishing gradients); the example draws (a) those per-layer magnitudes for all variants, (b) the loss curves, and prints
(c) test accuracy and the ratio of first-layer to last-layer gradient norm.

Run: ``python examples/deep_network_remedies.py [OUT_DIR] [--epochs N]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr

DEPTH, WIDTH = 20, 32


def plain_network(activation: str, init: str, rng, batch_norm: bool = False) -> cr.Sequential:
    """20 Dense layers: 64 → 32 → … → 32 → 10, ``activation`` between them."""
    rng = np.random.default_rng(rng)
    layers: list[cr.Layer] = []
    sizes = [64] + [WIDTH] * (DEPTH - 1) + [10]
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(cr.Dense(n_in, n_out, init=init, rng=rng))
        if i < DEPTH - 1:
            if batch_norm:
                layers.append(cr.BatchNorm(n_out))
            layers.append(cr.layers.get_activation(activation))
    return cr.Sequential(layers)


def residual_network(rng, batch_norm: bool = False) -> cr.Sequential:
    """The same 20 Dense layers, the middle 18 grouped into 9 residual blocks of two:
    ``x + Dense(ReLU(Dense(x)))``, ReLU after each block. Each block's last layer starts
    scaled by 1/√blocks, so the skip path's activations (and gradients) do not grow with
    depth at initialisation (the idea of Fixup / SkipInit)."""
    rng = np.random.default_rng(rng)
    n_blocks = (DEPTH - 2) // 2

    def dense(n_in, n_out):
        return cr.Dense(n_in, n_out, init="he_normal", rng=rng)

    def norm(n):
        return [cr.BatchNorm(n)] if batch_norm else []

    layers: list[cr.Layer] = [dense(64, WIDTH), *norm(WIDTH), cr.ReLU()]
    for _ in range(n_blocks):
        last = dense(WIDTH, WIDTH)
        last.W.value *= 1.0 / np.sqrt(n_blocks)
        block = [dense(WIDTH, WIDTH), *norm(WIDTH), cr.ReLU(), last, *norm(WIDTH)]
        layers += [cr.Residual(block), cr.ReLU()]
    layers.append(dense(WIDTH, 10))
    return cr.Sequential(layers)


def variants(epochs: int):
    """(label, network builder, optimizer builder) for the seven variants, in order."""
    def adam(lr=1e-3, **kw):
        return lambda: cr.optim.Adam(lr=lr, **kw)

    clip = {"clip_norm": 1.0}
    return [
        ("sigmoid + Glorot", lambda: plain_network("sigmoid", "glorot_uniform", 0), adam()),
        ("ReLU + He", lambda: plain_network("relu", "he_normal", 0), adam()),
        ("+ clipping", lambda: plain_network("relu", "he_normal", 0), adam(**clip)),
        ("+ residual", lambda: residual_network(0), adam(**clip)),
        ("+ batch norm", lambda: residual_network(0, batch_norm=True), adam(**clip)),
        ("+ higher LR", lambda: residual_network(0, batch_norm=True), adam(3e-3, **clip)),
        ("+ LR schedule", lambda: residual_network(0, batch_norm=True),
         adam(3e-3, **clip, schedule=cr.optim.CosineDecay(period=epochs))),
    ]


def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0  # pixels that are always blank in the training set
    return (X_train - mean) / std, (X_test - mean) / std, y_train, y_test


def run(epochs: int = 30, batch_size: int = 64):
    """Train every variant; return a list of result dicts."""
    X_train, X_test, y_train, y_test = load_digits_split()
    from chainrule.inspect import GradientFlow

    results = []
    for label, build, make_optimizer in variants(epochs):
        flow = GradientFlow(warn=False)
        history = build().fit(X_train, y_train, loss="cross_entropy", optimizer=make_optimizer(), epochs=epochs,
                              batch_size=batch_size, verbose=0, rng=0, validation_data=(X_test, y_test),
                              callbacks=[flow])
        norms = flow.array("weight_grad_norm")[0]  # first epoch: the start of training
        results.append({
            "label": label,
            "grad_norms": norms,
            "first_over_last": float(norms[0] / norms[-1]),
            "test_accuracy": float(history.val_metric[-1]),
            "vanishing_warnings": sum(w.kind == "vanishing" for w in flow.warnings),
            "history": history,
            "gradient_flow": flow,
        })
    return results


def plot_results(results, out: Path) -> list[Path]:
    from chainrule.plot._backend import pyplot

    plt = pyplot()
    out.mkdir(parents=True, exist_ok=True)
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    styles = [("-", 3.5, "o"), ("-", 3.5, "s"), (":", 2.0, "x"), ("-", 3.5, "^"), ("-", 3.5, "D"), (":", 2.0, "+"),
              (":", 2.0, "x")]
    for i, r in enumerate(results):
        line, width, marker = styles[i % len(styles)]
        ax.semilogy(np.arange(1, DEPTH + 1), r["grad_norms"], linestyle=line, linewidth=width, marker=marker,
                    markersize=4, color=colours(i), label=r["label"], alpha=0.85)
    ax.set_xlabel("layer (1 = input side, 20 = output side)")
    ax.set_ylabel("‖dL/dW‖, mean over the first epoch")
    ax.set_title("Gradient flow through a 20-layer network (digits)\n"
                 "dotted: clipping, the rate and its schedule act on the update, so they stay near the variant before",
                 fontsize=10)
    ax.set_xticks(range(1, DEPTH + 1, 1))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    flow = out / "remedies_gradient_flow.png"
    fig.savefig(flow, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, r in enumerate(results):
        epochs = np.arange(1, r["history"].epochs + 1)
        ax.plot(epochs, r["history"].loss, color=colours(i), label=f"{r['label']} (train)")
        ax.plot(epochs, r["history"].val_loss, color=colours(i), linestyle="--", linewidth=0.9)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (solid: train, dashed: test)")
    ax.set_title(f"Loss curves of the {len(results)} variants")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    curves = out / "remedies_loss_curves.png"
    fig.savefig(curves, dpi=110)
    plt.close(fig)
    return [flow, curves]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=".", help="directory for the figures")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    results = run(args.epochs)
    print(f"{'variant':<18}{'test accuracy':>14}{'‖dW₁‖/‖dW₂₀‖':>16}{'layers warned vanishing':>26}")
    for r in results:
        print(f"{r['label']:<18}{r['test_accuracy']:>14.3f}{r['first_over_last']:>16.2e}{r['vanishing_warnings']:>26}")
    for path in plot_results(results, Path(args.out)):
        print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
