"""Seed 002, Exercise 5: Multi-Output Regression.

Inputs: environmental measurements ``[temperature, humidity, pressure, wind_speed]``;
outputs: ``[pm2.5_concentration, ozone_level, no2_level]``. The data are synthetic (600 hourly
records generated below with plausible dependences and noise) and the outputs live on very
different scales: PM2.5 in µg/m³ (tens), ozone in ppm (hundredths), NO₂ in ppb (tens).

a) Forward pass: ``Z[1] = X W[1]ᵀ + b[1]``, ``A[1] = tanh(Z[1])``, ``Ŷ = A[1] W[2]ᵀ + b[2]`` — three
   linear outputs sharing one hidden layer.
b) Loss: the mean squared error over all n·3 entries, ``L = (1/3n) Σ_i Σ_k w_k (ŷ_ik − y_ik)²``, on
   per-output standardised targets (``w_k`` = importance, 1 by default).
c) Backpropagation: ``dŶ = 2 w ⊙ (Ŷ − Y)/(3n)``, ``dW[2] = dŶᵀ A[1]``, ``db[2] = Σ_rows dŶ``,
   ``dA[1] = dŶ W[2]`` (the hidden layer receives the sum of the three outputs' error signals),
   ``dZ[1] = dA[1] * (1 − A[1]²)``, ``dW[1] = dZ[1]ᵀ X``.
d) Different scales: without scaling, the output with the largest mean square owns the error
   signal at the start (the untrained outputs are near 0, so each output's share is set by its mean²
   plus its variance): with gradient descent ozone gets about 1e-4 of it and is never learned.
   Adam rescales each weight's step to about its learning rate, so ozone's weights do move, but
   in steps as large as ozone's whole spread: its fit then depends on the random start. Standardise
   each output (and the inputs), or weight them.
e) Updates: ``W[l] ← W[l] − α dW[l]`` (gradient descent; Adam rescales each step), checked by a
   gradient check of the 3-output network.

The script trains a 4-16-3 tanh network (1500 full-batch epochs) four ways: raw targets with gradient
descent (lr 0.01), raw targets with Adam (lr 0.01, five random starts), standardised targets with Adam,
and standardised with importance weights (1, 4, 1); it reports each output's error in its own units
beside the noise actually drawn for the test records (the best reachable RMSE).

Writes ``exercise_5_multi_output.png`` (predicted against true, per output).
Run: ``python examples/exercise_5_multi_output_regression.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.inspect import gradcheck

INPUTS = ("temperature [°C]", "humidity [%]", "pressure [hPa]", "wind_speed [m/s]")
OUTPUTS = ("pm2.5 [µg/m³]", "ozone [ppm]", "no2 [ppb]")
NOISE = (3.0, 0.002, 2.0)  # standard deviation of the noise added to each output
ADAM_STARTS = 5  # random starts of the raw-target Adam run


def environmental_data(n: int = 600, seed: int = 0, noiseless: bool = False):
    """Synthetic hourly records: X (n, 4) and Y (n, 3) with the units of ``INPUTS``/``OUTPUTS``;
    with ``noiseless`` also the outputs before their noise, shape (n, 3)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(-5, 35, n)
    H = rng.uniform(20, 95, n)
    P = rng.normal(1013, 8, n)
    W = rng.gamma(2.0, 2.0, n)
    pm25 = 8 + 0.35 * H + 1.2 * np.maximum(P - 1013, 0) + 60 * np.exp(-W / 2)
    ozone = 0.02 + 0.0012 * np.maximum(T, 0) - 0.0001 * (H - 50) + 0.002 * np.sqrt(W)
    no2 = 45 * np.exp(-W / 4) + 0.15 * (30 - T)
    clean = np.c_[pm25, ozone, no2]
    noise = np.c_[rng.normal(0, NOISE[0], n), rng.normal(0, NOISE[1], n), rng.normal(0, NOISE[2], n)]
    X = np.c_[T, H, P, W]
    return (X, clean + noise, clean) if noiseless else (X, clean + noise)


class Scaler:
    """Per-column standardisation fitted on the training rows; ``weights`` multiply the scaled
    columns by √w_k, which multiplies output k's squared error in the MSE by w_k."""

    def __init__(self, data, weights=None):
        self.mean, self.std = data.mean(axis=0), data.std(axis=0)
        self.factor = np.sqrt(np.asarray(weights, float)) if weights is not None else np.ones(data.shape[1])

    def forward(self, data):
        return (data - self.mean) / self.std * self.factor

    def inverse(self, scaled):
        return scaled / self.factor * self.std + self.mean


def r2(y, pred):
    return 1.0 - ((y - pred) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)


def train_variant(name, X_train, Y_train, X_test, Y_test, scale_outputs: bool, weights=None, optimizer="adam",
                  start: int = 0):
    """Train one 4-16-3 network from random start ``start`` with ``optimizer`` ("adam" or "gd")."""
    x_scaler = Scaler(X_train)
    y_scaler = Scaler(Y_train, weights) if scale_outputs else None
    targets = y_scaler.forward(Y_train) if scale_outputs else Y_train
    net = cr.mlp([4, 16, 3], activation="tanh", rng=start)
    loss = cr.losses.MSE()
    loss.forward(net.forward(x_scaler.forward(X_train)), targets)  # the error signal at initialisation
    d_out = loss.backward()
    share = (d_out ** 2).sum(axis=0) / (d_out ** 2).sum()
    step = cr.optim.Adam(lr=0.01) if optimizer == "adam" else cr.optim.SGD(lr=0.01)
    history = net.fit(x_scaler.forward(X_train), targets, loss=loss, optimizer=step, epochs=1500, verbose=0)
    pred = net.predict(x_scaler.forward(X_test))
    pred = y_scaler.inverse(pred) if scale_outputs else pred
    per_output_mse = ((pred - Y_test) ** 2).mean(axis=0)
    scaled_mse = per_output_mse / Y_train.std(axis=0) ** 2  # on the standardised scale: comparable across outputs
    return {"name": name, "net": net, "history": history, "pred": pred, "gradient_share": share,
            "rmse": np.sqrt(per_output_mse), "scaled_mse": scaled_mse, "r2": r2(Y_test, pred)}


def main(out_dir="."):
    from chainrule.plot._backend import pyplot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, Y, Y_clean = environmental_data(noiseless=True)
    n_train = 480
    X_train, X_test, Y_train, Y_test = X[:n_train], X[n_train:], Y[:n_train], Y[n_train:]
    noise_rms = np.sqrt(((Y_test - Y_clean[n_train:]) ** 2).mean(axis=0))  # the noise drawn for the test rows
    print("a) Forward pass: Z[1] = X W[1]ᵀ + b[1], A[1] = tanh(Z[1]), Ŷ = A[1] W[2]ᵀ + b[2] "
          "(three linear outputs sharing one hidden layer)")
    print("b) Loss: L = (1/3n) Σ_i Σ_k w_k (ŷ_ik − y_ik)², the MSE over all n·3 entries of per-output "
          "standardised targets (w_k = importance, 1 by default)")
    print("c) Backpropagation: dŶ = 2 w ⊙ (Ŷ − Y)/(3n), dW[2] = dŶᵀ A[1], db[2] = Σ_rows dŶ, dA[1] = dŶ W[2] "
          "(the hidden layer sums the three outputs' error signals), dZ[1] = dA[1] * (1 − A[1]²), dW[1] = dZ[1]ᵀ X")
    print()
    print("Outputs on different scales (training set):")
    for k, name in enumerate(OUTPUTS):
        print(f"   {name:<14} mean {Y_train[:, k].mean():>9.4g}   std {Y_train[:, k].std():>9.3g}")
    variants = [
        train_variant("raw targets, gradient descent", X_train, Y_train, X_test, Y_test, scale_outputs=False,
                      optimizer="gd"),
        train_variant("raw targets, Adam", X_train, Y_train, X_test, Y_test, scale_outputs=False),
        train_variant("standardised outputs", X_train, Y_train, X_test, Y_test, scale_outputs=True),
        train_variant("standardised, weights (1, 4, 1)", X_train, Y_train, X_test, Y_test, scale_outputs=True,
                      weights=(1, 4, 1)),
    ]
    print()
    print("Per-output loss report on the 120 test records (inputs standardised in every variant):")
    for v in variants:
        print(f"  {v['name']}")
        print(f"    {'output':<15}{'share of dŶ² at start':>23}{'RMSE (own units)':>18}{'noise RMS':>11}"
              f"{'MSE / var':>11}{'R²':>8}")
        for k, name in enumerate(OUTPUTS):
            print(f"    {name:<15}{v['gradient_share'][k]:>23.2e}{v['rmse'][k]:>18.4g}{noise_rms[k]:>11.4g}"
                  f"{v['scaled_mse'][k]:>11.4f}{v['r2'][k]:>8.3f}")
    gd, raw, scaled, weighted = variants
    adam_ozone = np.array([raw["r2"][1]] + [
        train_variant("", X_train, Y_train, X_test, Y_test, scale_outputs=False, start=s)["r2"][1]
        for s in range(1, ADAM_STARTS)])
    print("   (noise RMS: the noise drawn for these test records, the best reachable RMSE)")
    print()
    print(f"d) Without scaling, ozone (std {Y_train[:, 1].std():.3g} ppm) carries {gd['gradient_share'][1]:.1e} of the "
          f"output error signal at the start; with gradient descent its output weights hardly move and it is never "
          f"learned: R² {gd['r2'][1]:.3g}.")
    print(f"   Adam rescales every weight's step to about its learning rate (0.01, near ozone's whole spread), so "
          f"ozone's weights move but overshoot: its R² over {ADAM_STARTS} random starts is "
          f"{adam_ozone.min():.3f} … {adam_ozone.max():.3f}.")
    print(f"   Standardising each output gives all three comparable gradients: ozone R² {scaled['r2'][1]:.3f}, "
          f"PM2.5 {scaled['r2'][0]:.3f}, NO₂ {scaled['r2'][2]:.3f}.")
    print(f"   Weighting ozone 4× changes its test RMSE from {scaled['rmse'][1]:.3e} to {weighted['rmse'][1]:.3e} ppm "
          f"(the test records' noise is {noise_rms[1]:.3e} ppm) and PM2.5's from {scaled['rmse'][0]:.3f} to "
          f"{weighted['rmse'][0]:.3f} µg/m³:")
    print("   importance weights move accuracy between the outputs that share the hidden layer.")
    rng = np.random.default_rng(1)
    check = gradcheck(cr.mlp([4, 16, 3], activation="tanh", rng=0), rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))
    print(f"e) Updates W[l] ← W[l] − α dW[l] (gradient descent; Adam rescales each step) use these gradients; gradient check of the 4-16-3 "
          f"network with MSE over three outputs: {check.summary()}")

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.4))
    for row, v in enumerate((gd, scaled)):
        for k, name in enumerate(OUTPUTS):
            ax = axes[row, k]
            lo, hi = Y_test[:, k].min(), Y_test[:, k].max()
            ax.scatter(Y_test[:, k], v["pred"][:, k], s=10, alpha=0.7, color="tab:blue" if row else "tab:red")
            ax.plot([lo, hi], [lo, hi], "k--", linewidth=1, label="perfect prediction")
            ax.set_xlabel(f"true {name}")
            ax.set_ylabel(f"predicted {name}")
            ax.set_title(f"{v['name']}: {name.split()[0]}, R² = {v['r2'][k]:.3f}", fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Exercise 5: one 4-16-3 network for three pollutants (test records); top: raw targets "
                 "(gradient descent), bottom: each output standardised (Adam)")
    fig.tight_layout()
    path = out / "exercise_5_multi_output.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"wrote {path}")
    keep = ("gradient_share", "rmse", "scaled_mse", "r2")
    return ({v["name"]: {k: v[k] for k in keep} for v in variants}
            | {"adam_raw_ozone_r2": adam_ozone, "noise_rms": noise_rms, "gradcheck_passed": check.passed, "path": path})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
