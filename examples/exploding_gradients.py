"""Seed 002, "Exploding Gradient Problem": a deep network whose gradients explode, and the
seed's three remedies — gradient clipping, careful weight initialisation, learning-rate
scheduling — each tried on it.

The network: 7 Dense layers, 10 → 32 → 32 → 32 → 32 → 32 → 32 → 1, with linear (identity)
activations, so that g'(z) = 1 and each layer the error signal passes back through multiplies it
by its weights Wᵀ alone. Its weights start at N(0, 4/n_in): twice the standard deviation 1/√n_in
that keeps a signal's size, so each layer doubles the gradient and the first layer gets
≈ 2⁶ = 64× the last one's. The data: scikit-learn's diabetes regression (442 patients, 10
features), features and target standardised. Full-batch gradient descent on the MSE at the
rate α = 0.01 for 300 epochs; a linear network can at best reach least squares' MSE.

Variants (a ``GradientFlow`` callback records every layer's gradients; ``StopOnDivergence`` ends
a run whose loss grows 1000×, as chainrule's estimators do, and ``fit`` itself any non-finite
loss; either raises ``chainrule.DivergenceError`` with the last good weights restored):

a) no remedy: diverges — the error is caught and its message printed;
b) gradient clipping, ``SGD(..., clip_norm=50)``: the seed's ``g ← g × threshold/‖g‖`` when
   ``‖g‖ > threshold``, on all gradients together (50 is ~10× the largest gradient norm of the
   well-initialised network, so only exploding steps are cut);
c) careful initialisation: Glorot normal, N(0, 2/(n_in + n_out)), instead of N(0, 4/n_in);
d) learning-rate scheduling: an exponential warm-up from 10⁻⁴ α to α over 100 epochs, written here
   as a ``Schedule`` subclass (chainrule's built-in schedules — step, exponential, cosine, plateau —
   have no warm-up, and a blow-up in the first epochs needs a rate that starts low). It does not
   rescue this network: it diverges later, and the script shows why.

Gradient descent is stable only for α < 2/λ_max, λ_max the largest curvature (Hessian
eigenvalue) of the loss; the script measures it (power iteration on Hessian-vector products,
each a central difference of two backward passes) to show why each variant does what it does.

Prints the per-layer gradients at the start against the 2^(7−l) estimate, the
``DivergenceError`` and the ``GradientFlow`` warning, and a table: variant, final loss or
"diverged at epoch k", largest gradient norm, 2/λ_max. Writes ``exploding_gradients.png``
(per-layer gradients, gradient norms, loss and learning rate per epoch) and
``exploding_gradients_flow.png`` (``chainrule.plot.gradient_flow`` of the unremedied run).
Run: ``python examples/exploding_gradients.py [OUT_DIR]``
"""

from __future__ import annotations

import copy
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.inspect import GradientFlow

SIZES = [10, 32, 32, 32, 32, 32, 32, 1]
N_LAYERS = len(SIZES) - 1
SCALE = 2.0  # the too-large initialisation: this many times the signal-preserving 1/√n_in
LEARNING_RATE = 0.01
EPOCHS = 300
CLIP_NORM = 50.0
WARMUP_START, WARMUP_EPOCHS = 1e-4, 100


def too_large_init(shape, rng):
    """W ~ N(0, SCALE²/n_in): each layer multiplies a signal's size by about SCALE."""
    return rng.standard_normal(shape) * SCALE / np.sqrt(shape[1])


class ExponentialWarmup(cr.optim.Schedule):
    """lr = base · start^(1 − epoch/epochs) for the first ``epochs`` epochs, then base: from
    ``start``·base up to base, by the same factor every epoch."""

    def __init__(self, start: float, epochs: int):
        self.start, self.epochs = start, epochs

    def __call__(self, epoch, base_lr, monitor=None):
        return base_lr * self.start ** max(0.0, 1.0 - epoch / self.epochs)


@dataclass
class Variant:
    """One training run: its initialiser and optimizer, and what it recorded.

    Attributes
    ----------
    history : History
        The fit's record (for a run that diverged, the ``DivergenceError``'s).
    flow : GradientFlow
        Per-layer gradient statistics of every epoch.
    error : DivergenceError or None
    grad_norms : list of float
        ‖g‖ of all parameters together, before clipping, one per epoch (one full-batch step each).
    """

    label: str
    init: object
    optimizer: cr.optim.Optimizer
    history: object = None
    flow: GradientFlow = None
    error: cr.DivergenceError = None
    grad_norms: list = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.error is not None


def diabetes():
    """scikit-learn's diabetes data, features and target standardised: X (442, 10), y (442, 1)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), ((y - y.mean()) / y.std()).reshape(-1, 1)


def least_squares_mse(X, y) -> float:
    """The lowest training MSE any linear map (so any linear network) can reach."""
    A = np.c_[X, np.ones(len(X))]
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    return float(np.mean((A @ coef - y) ** 2))


def variants() -> list[Variant]:
    sgd = cr.optim.SGD
    return [
        Variant("a) no remedy", too_large_init, sgd(lr=LEARNING_RATE)),
        Variant(f"b) clipping ‖g‖ ≤ {CLIP_NORM:g}", too_large_init, sgd(lr=LEARNING_RATE, clip_norm=CLIP_NORM)),
        Variant("c) Glorot init", "glorot_normal", sgd(lr=LEARNING_RATE)),
        Variant("d) LR warm-up", too_large_init,
                sgd(lr=LEARNING_RATE, schedule=ExponentialWarmup(WARMUP_START, WARMUP_EPOCHS))),
    ]


def build(variant: Variant) -> cr.Sequential:
    return cr.mlp(SIZES, activation="identity", init=variant.init, rng=0)


def train(variant: Variant, X, y) -> cr.Sequential:
    """Fit ``variant``'s network, recording its gradient flow and the norm ‖g‖ of the gradient of
    all parameters together (what clipping measures) in every epoch; a divergence is kept on the
    variant, not raised."""
    net = build(variant)
    variant.flow = GradientFlow(warn=False)  # its warnings are printed from variant.flow.warnings

    def record_norm(epoch, logs, net):
        # full batch: one step per epoch, and .grad still holds that step's gradient (before clipping)
        variant.grad_norms.append(float(np.sqrt(sum((p.grad ** 2).sum() for p in net.parameters()))))

    # StopOnDivergence last: the epoch that diverges is still recorded by the two before it
    callbacks = [variant.flow, cr.EpochHook(record_norm), cr.StopOnDivergence()]
    try:
        variant.history = net.fit(X, y, loss="mse", optimizer=variant.optimizer, epochs=EPOCHS, verbose=0,
                                  callbacks=callbacks)
    except cr.DivergenceError as error:
        variant.error, variant.history = error, error.history
    return net


# -- curvature: why a rate is too large ------------------------------------------------------------
def _gradient(net, X, y, loss) -> np.ndarray:
    loss.forward(net.forward(X), y)
    net.backward(loss.backward())
    return np.concatenate([p.grad.ravel() for p in net.parameters()])


def _set_parameters(params, vector) -> None:
    offset = 0
    for p in params:
        p.value[...] = vector[offset:offset + p.value.size].reshape(p.value.shape)
        offset += p.value.size


def top_curvature(net, X, y, iterations: int = 40, eps: float = 1e-6) -> float:
    """λ_max of the MSE's Hessian at ``net``'s weights, by power iteration; each Hessian-vector
    product is ``(∇L(θ + εv) − ∇L(θ − εv)) / 2ε`` from two backward passes (on a copy)."""
    net, loss = copy.deepcopy(net), cr.losses.MSE()
    params = net.parameters()
    theta = np.concatenate([p.value.ravel() for p in params])
    v = np.random.default_rng(0).normal(size=theta.size)
    v /= np.linalg.norm(v)
    curvature = 0.0
    for _ in range(iterations):
        _set_parameters(params, theta + eps * v)
        up = _gradient(net, X, y, loss)
        _set_parameters(params, theta - eps * v)
        Hv = (up - _gradient(net, X, y, loss)) / (2 * eps)
        curvature = float(v @ Hv)
        v = Hv / np.linalg.norm(Hv)
    return curvature


# -- reporting -------------------------------------------------------------------------------------
def outcome(variant: Variant) -> str:
    if variant.diverged:
        return f"diverged at epoch {variant.error.epoch}"
    return f"final MSE {variant.history.loss[-1]:.4f}"


def start_profiles(results) -> dict:
    """‖dL/dZ[l]‖, l = 1..7, in the first epoch (full batch: at the initial weights), as
    GradientFlow recorded them, for the two initialisations."""
    return {"N(0, 4/n_in) (a, b, d)": results[0].flow.array("dz_norm")[0],
            "Glorot normal (c)": results[2].flow.array("dz_norm")[0]}


def print_profile(profiles) -> None:
    header = "".join(f"{f'layer {l}':>10}" for l in range(1, N_LAYERS + 1))
    print("GradientFlow, epoch 1: ‖dL/dZ[l]‖ / ‖dL/dZ[7]‖, the error signal reaching layer l at the initial weights:")
    print(f"   {'':<30}{header}")
    estimate = SCALE ** (N_LAYERS - np.arange(1, N_LAYERS + 1))
    print(f"   {'estimate 2^(7−l)':<30}" + "".join(f"{v:>10.3g}" for v in estimate))
    for label, norms in profiles.items():
        print(f"   {label:<30}" + "".join(f"{v:>10.3g}" for v in norms / norms[-1]))


def print_table(results, limits) -> None:
    print(f"{'variant':<24}{'initial weights':<18}{'result (loss: MSE)':<27}{'largest ‖g‖':>13}"
          f"{'2/λ_max start':>15}{'2/λ_max end*':>14}")
    for variant in results:
        largest = max(variant.grad_norms)
        start, end = limits[variant.label]
        init = "N(0, 4/n_in)" if variant.init is too_large_init else "Glorot normal"
        print(f"{variant.label:<24}{init:<18}{outcome(variant):<27}{largest:>13.3g}{start:>15.2g}{end:>14.2g}")
    say(f"‖g‖: the gradient of all parameters together, before clipping. * After training; for a run that "
        f"diverged, at the last good weights it was restored to. Gradient descent is stable when α = "
        f"{LEARNING_RATE:g} < 2/λ_max.", "")


def plot_results(results, profiles, limits, best_mse, out: Path) -> list[Path]:
    from chainrule import plot
    from chainrule.plot._backend import pyplot

    plt = pyplot()
    colours = {results[0].label: "tab:red", results[1].label: "tab:blue", results[2].label: "tab:green",
               results[3].label: "tab:orange"}
    fig, axes = plt.subplots(2, 2, figsize=(13.0, 9.5))
    layers = np.arange(1, N_LAYERS + 1)
    ax = axes[0, 0]
    ax.semilogy(layers, SCALE ** (N_LAYERS - layers), "k--", marker="x", label="estimate 2^(7−l)")
    for (label, norms), colour in zip(profiles.items(), ("tab:red", "tab:green")):
        ax.semilogy(layers, norms / norms[-1], marker="o", linewidth=2, color=colour, label=label)
    ax.set_xticks(layers)
    ax.set_xlabel("layer l (1 = input side, 7 = output)")
    ax.set_ylabel("‖dL/dZ[l]‖ / ‖dL/dZ[7]‖, epoch 1 (GradientFlow)")
    ax.set_title("(a) The error signal grows toward the input")
    ax.legend(fontsize=9)
    ax.grid(True, which="both", alpha=0.3)

    for ax, values_of, ylabel, title in (
        (axes[0, 1], lambda v: np.asarray(v.grad_norms), "‖g‖, all parameters, before clipping",
         "(b) Gradient norm during training"),
        (axes[1, 0], lambda v: np.asarray(v.history.loss), "training MSE", "(c) Training loss"),
        (axes[1, 1], lambda v: np.asarray(v.history.lr), "learning rate α",
         "(d) Learning rate (a, b, c: the same constant α)"),
    ):
        for variant in results:
            values = values_of(variant)
            epochs = np.arange(1, values.size + 1)
            label = variant.label + (f" (diverged at epoch {variant.error.epoch})" if variant.diverged else "")
            ax.plot(epochs, values, color=colours[variant.label], linewidth=2, label=label)
            if variant.diverged and values.size:
                ax.plot(epochs[-1:], values[-1:], "x", color=colours[variant.label], markersize=12, markeredgewidth=3)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 1].axhline(CLIP_NORM, color="tab:blue", linestyle=":", label=f"clipping threshold {CLIP_NORM:g}")
    axes[1, 0].axhline(best_mse, color="k", linestyle=":",
                       label=f"least squares, the best a linear map can do ({best_mse:.3f})")
    for label, linestyle in (("a) no remedy", "--"), ("c) Glorot init", ":")):
        start = limits[label][0]
        init = "N(0, 4/n_in)" if label.startswith("a") else "Glorot"
        axes[1, 1].axhline(start, color="k", linestyle=linestyle, label=f"2/λ_max at the start, {init}: {start:.2g}")
    for ax in axes.flat[1:]:
        ax.legend(fontsize=8)
    fig.suptitle(f"Seed 002: exploding gradients in a {N_LAYERS}-layer linear network (diabetes data, gradient "
                 f"descent, α = {LEARNING_RATE:g})\n× marks the epoch in which a run diverged", fontsize=12)
    fig.tight_layout()
    paths = [out / "exploding_gradients.png", out / "exploding_gradients_flow.png"]
    fig.savefig(paths[0], dpi=90)
    plt.close(fig)
    fig = plot.gradient_flow(results[0].flow, title="Exploding gradients: the unremedied 7-layer network")
    fig.savefig(paths[1], dpi=90)
    plt.close(fig)
    return paths


def say(text: str, label: str = "   ") -> None:
    """Print ``text`` wrapped at 110 columns, after ``label``, continued 3 spaces in; never breaks
    inside ``a = b`` or ``N(0, ...)``."""
    keep = "\u00a0"  # textwrap breaks at ASCII whitespace only
    text = text.replace(" = ", f"{keep}={keep}").replace("N(0, ", f"N(0,{keep}")
    print(textwrap.fill(text, width=110, initial_indent=label, subsequent_indent="   ").replace(keep, " "))


def train_all(X, y):
    """Train every variant; return them, their stability limits 2/λ_max (at the start, and after
    training or at the last good weights) and their networks."""
    results, limits, nets = variants(), {}, {}
    for variant in results:
        nets[variant.label] = net = train(variant, X, y)  # a diverged run's net holds its last good weights
        limits[variant.label] = (2 / top_curvature(build(variant), X, y), 2 / top_curvature(net, X, y))
    return results, limits, nets


def explain_variants(results, limits, nets, profiles) -> bool:
    """Print what happened to each variant and why; returns whether the unremedied network was
    restored to its initial weights."""
    unremedied, clipped, glorot, warmup = results
    restored = all(np.array_equal(a, b) for a, b in zip(nets[unremedied.label].get_weights(),
                                                        build(unremedied).get_weights()))
    print("a) No remedy:")
    print(f"   cr.DivergenceError: {unremedied.error}")
    print(f"   the network holds its last good weights, here the initial ones: {restored}")
    exploding = [w for w in unremedied.flow.warnings if w.kind == "exploding"]
    print(f"   GradientFlow warned 'exploding' for {len(exploding)} of {N_LAYERS} layers; the first warning:")
    print(f"   {exploding[0].message}" if exploding else "   (none)")
    norms = np.array(clipped.grad_norms)
    say(f"Clipping: ‖g‖ was above {CLIP_NORM:g} in {int((norms > CLIP_NORM).sum())} of {norms.size} steps (first step "
        f"{norms[0]:.3g}, largest {norms.max():.3g}, last step {norms[-1]:.3g}; the Glorot network's largest ‖g‖ is {max(glorot.grad_norms):.3g}, "
        f"so no healthy step is cut). A clipped step has the length α·{CLIP_NORM:g} = {LEARNING_RATE * CLIP_NORM:g}: "
        f"the weights move steadily to a flatter region (2/λ_max from {limits[clipped.label][0]:.2g} to "
        f"{limits[clipped.label][1]:.2g} > α) instead of jumping out.", "b) ")
    glorot_profile = profiles["Glorot normal (c)"]
    say(f"Glorot initialisation keeps the error signal's size ({glorot_profile[0] / glorot_profile[-1]:.2f}× at "
        f"layer 1) and 2/λ_max = {limits[glorot.label][0]:.2g} > α: gradient descent is stable from the start.", "c) ")
    if warmup.diverged:
        rate = warmup.optimizer.schedule(warmup.error.epoch - 1, LEARNING_RATE)
        ratio = limits[glorot.label][0] / limits[warmup.label][0]
        say(f"The warm-up starts at α = {WARMUP_START * LEARNING_RATE:g}, below the start's 2/λ_max = "
            f"{limits[warmup.label][0]:.2g}, yet diverges at epoch {warmup.error.epoch}, at α = {rate:.2g}: the "
            f"weights it reached were sharper still (2/λ_max = {limits[warmup.label][1]:.2g} at the last good ones). A "
            f"schedule sets the step, not the curvature, which this initialisation made {ratio:,.0f}× Glorot's: here "
            "it does not rescue the run.", "d) ")
    else:
        say(f"The warm-up trained: {outcome(warmup)}.", "d) ")
    return restored


def main(out_dir="."):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = diabetes()
    best_mse = least_squares_mse(X, y)
    results, limits, nets = train_all(X, y)
    profiles = start_profiles(results)
    say(f"A {N_LAYERS}-layer linear network {'-'.join(map(str, SIZES))} on the diabetes data (442 × 10, "
        f"standardised), weights N(0, 4/n_in) unless Glorot; full-batch gradient descent, α = {LEARNING_RATE:g}, "
        f"MSE, {EPOCHS} epochs.", "")
    print_profile(profiles)
    print()
    restored = explain_variants(results, limits, nets, profiles)
    print()
    print(f"Least squares (the best any linear network can do): MSE {best_mse:.4f}")
    print_table(results, limits)
    paths = plot_results(results, profiles, limits, best_mse, out)
    for path in paths:
        print(f"wrote {path}")
    return {
        "least_squares_mse": best_mse,
        "error_signal": profiles,
        "results": {v.label: {"diverged": v.diverged, "epoch": v.error.epoch if v.diverged else None,
                              "message": str(v.error) if v.diverged else None,
                              "final_loss": None if v.diverged else v.history.loss[-1],
                              "first_loss": v.history.loss[0] if v.history.loss else None,
                              "largest_grad_norm": max(v.grad_norms),
                              "grad_norms": list(v.grad_norms),
                              "stable_rate": limits[v.label],
                              "warnings": [w.kind for w in v.flow.warnings]} for v in results},
        "restored_initial_weights": restored,
        "clipped_steps": int((np.array(results[1].grad_norms) > CLIP_NORM).sum()),
        "paths": paths,
    }


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
