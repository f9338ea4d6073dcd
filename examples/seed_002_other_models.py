"""Seed 002, "Backpropagation in Other ML Models": linear regression, logistic regression and a
linear SVM as one-layer networks trained by chainrule's backprop, and the seed's "Final comparison".

For each model the script

a) computes the gradient the seed writes for it by hand in NumPy — linear regression (MSE)
   ``dL/dw = (1/m) Σ −2xᵢ(yᵢ − (w xᵢ + b))``, logistic regression (binary cross-entropy)
   ``dL/dw = Xᵀ(σ(Xw + b) − y)/m``, the SVM's hinge loss ``max(0, 1 − y f(x))`` with the
   subgradient ``−y x·1[y f(x) < 1]`` averaged over the samples — and prints it next to the
   gradient chainrule's own backward pass produces for the same weights (the fitted model's
   network, traced by ``chainrule.inspect.explain`` and checked against central differences by
   ``gradcheck``), with their largest difference;
b) trains the chainrule model (``chainrule.models``: ``LinearRegressionGD``,
   ``LogisticRegressionGD``, ``LinearSVMGD``, full-batch gradient descent with the step 1/L) and
   compares it with scikit-learn's counterpart on the same data (``LinearRegression``,
   ``LogisticRegression``, ``LinearSVC(loss="hinge")``): coefficients, R² or test accuracy, and
   where the objectives differ;
c) prints the seed's "Final comparison" table (model, loss, output activation, dL/dz) filled with
   what chainrule used and measured, including the seed's 2-4-1 network as the fourth row.

Data: the seed gives none for these models, so linear regression uses scikit-learn's
``make_regression(n_samples=100, n_features=1, noise=10, random_state=0)`` (one feature: the
seed's ``w xᵢ + b`` and its line of best fit), and the two classifiers use the seed's own moons
(``make_moons(200, noise=0.2, random_state=42)``, 70/30 split), the data of its network.

Writes ``seed_002_other_models.png`` (the fitted line and both decision boundaries against
scikit-learn's, and the three loss curves).
Run: ``python examples/seed_002_other_models.py [OUT_DIR]``
"""

from __future__ import annotations

import copy
import sys
import textwrap
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.datasets import moons
from chainrule.inspect import explain, gradcheck
from chainrule.models import LinearRegressionGD, LinearSVMGD, LogisticRegressionGD

C = 1.0  # scikit-learn's default inverse regularisation, for both classifiers
EPOCHS = 3000
START_SEED = 1  # the random weights w₀, b₀ at which the gradients are compared


def sigmoid(z):
    """σ(z) = 1/(1 + e^−z)."""
    return 1.0 / (1.0 + np.exp(-z))


# -- data ------------------------------------------------------------------------------------------
def regression_data():
    """``make_regression(n_samples=100, n_features=1, noise=10, random_state=0)``: X (100, 1), y (100,)."""
    from sklearn.datasets import make_regression

    return make_regression(n_samples=100, n_features=1, noise=10.0, random_state=0)


# -- the seed's gradients, written out by hand ------------------------------------------------------
def seed_gradient(loss: str, X, y, w, b):
    """The seed's gradient of the mean loss over the m rows of ``X`` at ``(w, b)``.

    Parameters
    ----------
    loss : {"mse", "bce", "hinge"}
    X : ndarray, shape (m, d)
    y : ndarray, shape (m,)
        Real targets (mse), 0/1 labels (bce) or ±1 labels (hinge).
    w : ndarray, shape (d,)
    b : float
        Added to ``X w`` (chainrule's ``z = Xwᵀ + b``; the seed's SVM writes ``wᵀx − b``, the
        same model with ``b`` of the other sign).

    Returns
    -------
    dz, dw, db : ndarray (m,), ndarray (d,), float
        ``dL/dz`` per row, ``dL/dw`` and ``dL/db``.
    """
    m = len(y)
    z = X @ w + b
    if loss == "mse":  # (1/m) Σ −2xᵢ(yᵢ − (w xᵢ + b)) and (1/m) Σ −2(yᵢ − (w xᵢ + b))
        residual = y - z
        return -2.0 * residual / m, np.mean(-2.0 * X * residual[:, None], axis=0), float(np.mean(-2.0 * residual))
    if loss == "bce":  # Xᵀ(σ(Xw + b) − y)/m: the sigmoid and the cross-entropy cancel to σ(z) − y
        error = sigmoid(z) - y
        return error / m, X.T @ error / m, float(np.mean(error))
    if loss == "hinge":  # d/dw max(0, 1 − y f) = −y x where the margin is violated (y f < 1), else 0
        violated = (y * z < 1).astype(float)
        return -y * violated / m, np.mean(-(y * violated)[:, None] * X, axis=0), float(np.mean(-y * violated))
    raise ValueError(f"no hand gradient for loss {loss!r}")


def chainrule_gradient(model, X, targets, w, b, eps: float = 1e-6):
    """What chainrule's backward pass gives for the fitted ``model``'s network put at ``(w, b)``:
    ``(dz, dw, db, gradcheck report with step eps)``; the model itself is not touched."""
    net = copy.deepcopy(model.network_)
    net.set_weights([np.asarray(w, dtype=float).reshape(1, -1), np.array([b], dtype=float)])
    step = explain(net, X, targets, loss=net.loss).layer(1)  # dZ[1], dW[1] = dZ[1]ᵀ A[0], db[1] = Σ dZ[1]
    return step.dZ[:, 0], step.dW[0], float(step.db[0]), gradcheck(net, X, targets, net.loss, eps=eps)


def compare_gradients(model, loss: str, X, targets, start_rng, eps: float = 1e-6):
    """Hand and chainrule gradients at random weights w₀ ~ N(0, 1), b₀ ~ N(0, 1); ``eps`` is
    gradcheck's central-difference step."""
    rng = np.random.default_rng(start_rng)
    w0, b0 = rng.normal(size=X.shape[1]), float(rng.normal())
    hand = seed_gradient(loss, X, targets, w0, b0)
    engine = chainrule_gradient(model, X, targets, w0, b0, eps)
    differences = [np.max(np.abs(np.asarray(h) - np.asarray(e))) for h, e in zip(hand, engine[:3])]
    return {"w0": w0, "b0": b0, "hand": hand[1:], "chainrule": engine[1:3], "dz_difference": float(differences[0]),
            "max_difference": float(max(differences)), "gradcheck": engine[3]}


def objective_gradient_norm(model, loss: str, X, targets, penalty: float) -> float:
    """‖∇(mean loss + penalty/2 ‖w‖²)‖ at the trained weights: how far from a (sub)gradient-zero
    point training stopped (``penalty`` is the L2 coefficient the model's optimizer adds)."""
    w, b = model.coef_[0], float(model.intercept_[0])
    _, dw, db = seed_gradient(loss, X, targets, w, b)
    return float(np.linalg.norm(np.r_[dw + penalty * w, db]))


def print_gradients(result, names) -> None:
    """The hand and chainrule gradients of ``compare_gradients`` side by side, then the checks."""
    print(f"   at random weights w₀ = {np.array2string(result['w0'], precision=4)}, b₀ = {result['b0']:.4f}:")
    print(f"   {'':<9}{'by hand (NumPy)':>22}{'chainrule backward':>22}{'|difference|':>15}")
    hand = [*result["hand"][0], result["hand"][1]]
    engine = [*result["chainrule"][0], result["chainrule"][1]]
    for name, h, e in zip(names, hand, engine):
        print(f"   {name:<9}{h:>22.15g}{e:>22.15g}{abs(h - e):>15.2e}")
    report = result["gradcheck"]
    worst = max(entry.max_abs_error for entry in report.entries)
    print(f"   max |hand − chainrule| over dL/dz, dL/dw, dL/db: {result['max_difference']:.2e}")
    print(f"   gradcheck against central differences (ε = {report.eps:g}): {'passed' if report.passed else 'FAILED'} "
          f"(max abs error {worst:.1e})")


# -- the three models ------------------------------------------------------------------------------
def say(text: str, indent: str = "   ") -> None:
    """Print ``text`` wrapped at 115 columns with ``indent``; never breaks inside ``a = b``."""
    keep = "\u00a0"  # textwrap breaks at ASCII whitespace only
    wrapped = textwrap.fill(text.replace(" = ", f"{keep}={keep}"), width=115, initial_indent=indent,
                            subsequent_indent=indent + "  ")
    print(wrapped.replace(keep, " "))


def coefficient_difference(model, reference) -> float:
    """Largest |difference| between the weights and intercepts of two fitted linear models."""
    ours = np.r_[np.ravel(model.coef_), np.ravel(model.intercept_)]
    return float(np.abs(ours - np.r_[np.ravel(reference.coef_), np.ravel(reference.intercept_)]).max())


def linear_regression():
    from sklearn.linear_model import LinearRegression

    X, y = regression_data()
    model = LinearRegressionGD(epochs=EPOCHS, random_state=0).fit(X, y)
    reference = LinearRegression().fit(X, y)
    say("Linear regression — MSE, L(w, b) = (1/m) Σ (yᵢ − (w xᵢ + b))²; data: make_regression(n_samples=100, "
        "n_features=1, noise=10, random_state=0)", "")
    print("   seed: dL/dw = (1/m) Σ −2xᵢ(yᵢ − (w xᵢ + b)),  dL/db = (1/m) Σ −2(yᵢ − (w xᵢ + b))")
    gradients = compare_gradients(model, "mse", X, y, START_SEED, eps=1e-3)
    print_gradients(gradients, ["dL/dw", "dL/db"])
    start_loss = float(np.mean((y - X @ gradients["w0"] - gradients["b0"]) ** 2))
    say(f"(ε = 1e-3, not the default 1e-6: L(w₀, b₀) = {start_loss:.4g}, and the central difference's rounding "
        f"error, ~1e-16·L/ε = {1e-16 * start_loss / 1e-6:.0e} at ε = 1e-6, exceeds gradcheck's tolerance 1e-7; a "
        "quadratic loss has no truncation error at any ε)")
    difference = coefficient_difference(model, reference)
    r2, r2_reference = model.score(X, y), reference.score(X, y)
    step = model.network_.history.lr[-1]
    print(f"   trained ({EPOCHS} epochs, step 1/L = {step:.4g}): w = {model.coef_[0, 0]:.10f}, "
          f"b = {model.intercept_[0]:.10f}")
    print(f"   scikit-learn LinearRegression (least squares, the same objective): w = {reference.coef_[0]:.10f}, "
          f"b = {reference.intercept_:.10f}")
    say(f"max |Δ coefficient| = {difference:.1e};  R² {r2:.6f} vs {r2_reference:.6f};  ‖∇L‖ at the trained "
        f"weights {objective_gradient_norm(model, 'mse', X, y, 0.0):.1e}")
    return {"model": model, "reference": reference, "X": X, "y": y, "gradients": gradients,
            "coef_difference": difference, "r2": r2, "r2_reference": r2_reference}


def logistic_regression(X_train, X_test, y_train, y_test):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegressionGD(C=C, epochs=EPOCHS, random_state=0).fit(X_train, y_train)
    reference = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X_train, y_train)
    m = len(y_train)
    say(f"Logistic regression — binary cross-entropy on σ(z), z = Xw + b; data: the seed's moons ({m} training, "
        f"{len(y_test)} test points)", "")
    print("   seed: dL/dw = Xᵀ(σ(Xw + b) − y)/m,  dL/db = mean(σ(Xw + b) − y)")
    gradients = compare_gradients(model, "bce", X_train, y_train.astype(float), START_SEED)
    print_gradients(gradients, ["dL/dw₁", "dL/dw₂", "dL/db"])
    difference = coefficient_difference(model, reference)
    accuracy, accuracy_reference = model.score(X_test, y_test), reference.score(X_test, y_test)
    say(f"trained with C = {C:g}: chainrule minimises mean BCE + ‖w‖²/(2Cm), scikit-learn's LogisticRegression "
        "C Σ BCE + ½‖w‖²: the same minimum")
    print(f"   w = {np.array2string(model.coef_[0], precision=6)}, b = {model.intercept_[0]:.6f};  scikit-learn "
          f"w = {np.array2string(reference.coef_[0], precision=6)}, b = {reference.intercept_[0]:.6f}")
    say(f"max |Δ coefficient| = {difference:.1e};  test accuracy {accuracy:.3f} vs {accuracy_reference:.3f};  "
        f"‖∇(objective)‖ at the trained weights "
        f"{objective_gradient_norm(model, 'bce', X_train, y_train, 1 / (C * m)):.1e}")
    return {"model": model, "reference": reference, "gradients": gradients, "coef_difference": difference,
            "accuracy": accuracy, "accuracy_reference": accuracy_reference}


def svm_objective(w, b, X, signs) -> float:
    """``C Σ max(0, 1 − yᵢ(w·xᵢ + b)) + ½‖w‖²`` (intercept not penalised): chainrule's objective
    times C·m."""
    return float(C * np.maximum(0.0, 1.0 - signs * (X @ w + b)).sum() + 0.5 * w @ w)


def linear_svm(X_train, X_test, y_train, y_test):
    from sklearn.svm import LinearSVC

    model = LinearSVMGD(C=C, epochs=EPOCHS, random_state=0).fit(X_train, y_train)
    reference = LinearSVC(C=C, loss="hinge", tol=1e-8, max_iter=100_000, random_state=0).fit(X_train, y_train)
    signs = np.where(y_train == 1, 1.0, -1.0)
    m = len(y_train)
    print("Linear SVM — hinge loss max(0, 1 − y f(x)), labels ±1; data: the seed's moons")
    say("seed: L = max(0, 1 − y(wᵀx − b)); subgradient dL/dw = −y x where y f(x) < 1, else 0 (mean over the "
        "samples); chainrule writes f = wᵀx + b, its b is the seed's −b")
    gradients = compare_gradients(model, "hinge", X_train, signs, START_SEED)
    print_gradients(gradients, ["dL/dw₁", "dL/dw₂", "dL/db"])
    ours = svm_objective(model.coef_[0], model.intercept_[0], X_train, signs)
    theirs = svm_objective(reference.coef_[0], reference.intercept_[0], X_train, signs)
    difference = coefficient_difference(model, reference)
    accuracy, accuracy_reference = model.score(X_test, y_test), reference.score(X_test, y_test)
    say(f"trained with C = {C:g}: chainrule minimises mean hinge + ‖w‖²/(2Cm) by subgradient descent with a "
        "fixed step; LinearSVC (liblinear, dual coordinate descent) also penalises the intercept (½b², "
        "intercept_scaling=1)")
    print(f"   w = {np.array2string(model.coef_[0], precision=6)}, b = {model.intercept_[0]:.6f};  LinearSVC "
          f"w = {np.array2string(reference.coef_[0], precision=6)}, b = {reference.intercept_[0]:.6f}")
    say(f"C Σ hinge + ½‖w‖²: chainrule {ours:.4f}, LinearSVC {theirs:.4f} ({(ours - theirs) / theirs:+.4%}: "
        "the fixed step stops near, not on, the kinked minimum)")
    say(f"max |Δ coefficient| = {difference:.1e};  test accuracy {accuracy:.3f} vs {accuracy_reference:.3f};  "
        f"‖∇(objective)‖ {objective_gradient_norm(model, 'hinge', X_train, signs, 1 / (C * m)):.1e} (a "
        "subgradient: not 0 at a kink)")
    return {"model": model, "reference": reference, "gradients": gradients, "coef_difference": difference,
            "accuracy": accuracy, "accuracy_reference": accuracy_reference, "objective": ours,
            "objective_reference": theirs}


def seed_network_gradient(X, y, seed: int = START_SEED):
    """The seed's 2-4-1 network (sigmoid hidden and output, BCE) at random N(0, 1) weights: its
    ``dW[1]``, ``dW[2]`` written out by hand against chainrule's; returns the largest difference
    and the gradcheck report."""
    rng = np.random.default_rng(seed)
    W1, b1, W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=4), rng.normal(size=(1, 4)), rng.normal(size=1)
    m = len(y)
    Z1 = X @ W1.T + b1
    A1 = sigmoid(Z1)
    dZ2 = (sigmoid(A1 @ W2.T + b2) - y[:, None]) / m  # the seed's dZ2 = A2 − Y, with its 1/m
    dZ1 = (dZ2 @ W2) * A1 * (1 - A1)  # (W[2]ᵀ dZ[2]) * σ'(Z[1]), samples as rows
    hand = [dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ A1, dZ2.sum(axis=0)]
    net = cr.Sequential([cr.Dense.from_arrays(W1, b1), cr.Sigmoid(), cr.Dense.from_arrays(W2, b2)])
    trace = explain(net, X, y, loss="bce")
    engine = [trace.layer(1).dW, trace.layer(1).db, trace.layer(2).dW, trace.layer(2).db]
    difference = max(float(np.max(np.abs(h - e))) for h, e in zip(hand, engine))
    return difference, gradcheck(net, X, y, "bce")


# -- the seed's final comparison --------------------------------------------------------------------
def comparison_table(results, network_difference, network_report) -> list[list[str]]:
    linear, logistic, svm = results["linear regression"], results["logistic regression"], results["linear SVM"]
    return [
        ["model", "loss (chainrule)", "output activation", "dL/dz, z = Xwᵀ + b", "|hand − backward|",
         "vs scikit-learn"],
        ["Linear regression", "mse: mean (z − y)²", "identity: ŷ = z", "2(z − y)/m",
         f"{linear['gradients']['max_difference']:.1e}",
         f"R² {linear['r2']:.4f} vs {linear['r2_reference']:.4f}, |Δw| {linear['coef_difference']:.0e}"],
        ["Logistic regression", "bce on the logit z", "sigmoid (in the loss)", "(σ(z) − y)/m",
         f"{logistic['gradients']['max_difference']:.1e}",
         f"accuracy {logistic['accuracy']:.3f} vs {logistic['accuracy_reference']:.3f}, "
         f"|Δw| {logistic['coef_difference']:.0e}"],
        ["Linear SVM", "hinge: mean max(0, 1 − yz)", "none: sign(z) decides", "−y·1[yz < 1]/m",
         f"{svm['gradients']['max_difference']:.1e}",
         f"accuracy {svm['accuracy']:.3f} vs {svm['accuracy_reference']:.3f}, |Δw| {svm['coef_difference']:.0e}"],
        ["Network 2-4-1 (seed)", "bce on the logit z[2]", "sigmoid hidden + output",
         "(σ(z[2]) − y)/m, then ×W, ×σ'",
         f"{network_difference:.1e}", f"gradcheck {'passed' if network_report.passed else 'FAILED'} (all layers)"],
    ]


def print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if k == 0:
            print("-+-".join("-" * width for width in widths))


# -- the figure ------------------------------------------------------------------------------------
def plot_models(results, X_train, y_train, path: Path) -> Path:
    from chainrule import plot
    from chainrule.plot._backend import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 11.0))
    linear = results["linear regression"]
    ax = axes[0, 0]
    X, y = linear["X"], linear["y"]
    line = np.linspace(X.min(), X.max(), 2).reshape(-1, 1)
    ax.scatter(X[:, 0], y, s=18, color="0.5", label="data (make_regression)")
    ax.plot(line[:, 0], linear["model"].predict(line), color="tab:blue", linewidth=3,
            label="chainrule LinearRegressionGD")
    ax.plot(line[:, 0], linear["reference"].predict(line), color="k", linestyle="--",
            label="scikit-learn LinearRegression")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("(a) Linear regression (MSE): line of best fit")
    ax.legend(fontsize=9)
    ax.grid(True, alpha=0.3)

    for ax, key, label in ((axes[0, 1], "logistic regression", "LogisticRegression"),
                           (axes[1, 0], "linear SVM", "LinearSVC")):
        result = results[key]
        plot.decision_boundary(result["model"].network_, X_train, y_train, ax=ax, resolution=200,
                               class_names=["moon 0", "moon 1"])
        classes = ax.get_legend()  # the class markers decision_boundary put under the axes
        handles, labels = list(classes.legend_handles), [text.get_text() for text in classes.get_texts()]
        xs = np.array(ax.get_xlim())
        if key == "linear SVM":  # the margin f = ±1, the hinge loss's kinks
            w, b = result["model"].coef_[0], result["model"].intercept_[0]
            for level in (-1.0, 1.0):
                margin, = ax.plot(xs, (level - w[0] * xs - b) / w[1], color="k", linestyle=":", linewidth=1.5)
            handles.append(margin)
            labels.append("chainrule: margin f = ±1")
        w, b = result["reference"].coef_[0], result["reference"].intercept_[0]
        reference, = ax.plot(xs, -(w[0] * xs + b) / w[1], color="magenta", linestyle="--", linewidth=2)
        handles.append(reference)
        labels.append(f"scikit-learn {label}: boundary")
        ax.set_xlim(*xs)
        ax.set_ylim(X_train[:, 1].min() - 0.3, X_train[:, 1].max() + 0.3)
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2, fontsize=8,
                  frameon=False)
    axes[0, 1].set_title("(b) Logistic regression (BCE): P(moon 1), black line P = 0.5")
    axes[1, 0].set_title("(c) Linear SVM (hinge): margin f(x), black line f = 0")

    ax = axes[1, 1]
    for key, colour in (("linear regression", "tab:blue"), ("logistic regression", "tab:orange"),
                        ("linear SVM", "tab:green")):
        curve = np.asarray(results[key]["model"].loss_curve_)
        ax.plot(np.arange(1, curve.size + 1), curve / curve[0], color=colour, label=key)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (full-batch gradient descent, step 1/L)")
    ax.set_ylabel("training loss / loss of the first epoch")
    ax.set_title("(d) The three losses during training")
    ax.legend(fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("Seed 002: backpropagation in other ML models, chainrule against scikit-learn", fontsize=13)
    fig.tight_layout(w_pad=3.0)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(out_dir="."):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = moons()
    results = {}
    results["linear regression"] = linear_regression()
    print()
    results["logistic regression"] = logistic_regression(X_train, X_test, y_train, y_test)
    print()
    results["linear SVM"] = linear_svm(X_train, X_test, y_train, y_test)
    network_difference, network_report = seed_network_gradient(X_train, y_train.astype(float))
    print()
    say("Final comparison (the seed's table, filled with what chainrule used and measured; m = samples). The seed's "
        "table writes −2X(y − ŷ) and Xᵀ(σ − y) without 1/m, the gradients of the summed loss; chainrule's losses "
        "are means, like the seed's L(w, b) and its network's dW = (1/m)·dZ·Aᵀ. All four are the same backward "
        "pass, dW = dZᵀ A[l−1] and db = Σ dZ; the network adds one chain-rule factor per layer.", "")
    print_table(comparison_table(results, network_difference, network_report))
    path = plot_models(results, X_train, y_train, out / "seed_002_other_models.png")
    print(f"wrote {path}")
    results["network"] = {"max_difference": network_difference, "gradcheck": network_report}
    results["path"] = path
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
