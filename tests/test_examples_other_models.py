"""Seed 002's "Backpropagation in Other ML Models" and "Exploding Gradient Problem" as runnable
examples: each runs, writes its plots and reaches the numbers it prints."""

import numpy as np
import pytest
from conftest import assert_png, run_example

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_other_models_gradients_and_scikit_learn_parity(tmp_path, capsys):
    r = run_example("seed_002_other_models.py", tmp_path)
    linear, logistic, svm = r["linear regression"], r["logistic regression"], r["linear SVM"]
    for result in (linear, logistic, svm):
        g = result["gradients"]
        # the seed's formula by hand and chainrule's backward agree to rounding (float64)
        assert g["max_difference"] < 1e-10 and g["dz_difference"] < 1e-10
        assert g["gradcheck"].passed
        (dw_hand, db_hand), (dw_engine, db_engine) = g["hand"], g["chainrule"]
        np.testing.assert_allclose(dw_engine, dw_hand, rtol=1e-10, atol=1e-12)
        assert db_engine == pytest.approx(db_hand, rel=1e-10, abs=1e-12)
        assert np.abs(dw_hand).max() > 1e-2  # a real gradient at w₀, not a trivially zero one
    assert r["network"]["max_difference"] < 1e-10 and r["network"]["gradcheck"].passed

    # least squares: the same objective, so the same coefficients
    assert linear["coef_difference"] < 1e-8
    np.testing.assert_allclose(linear["model"].coef_[0], linear["reference"].coef_, rtol=1e-10)
    assert linear["r2"] == pytest.approx(linear["r2_reference"], abs=1e-12) and linear["r2"] > 0.9
    # logistic regression with C: the same objective as scikit-learn's, so the same minimum
    assert logistic["coef_difference"] < 1e-5
    assert abs(logistic["accuracy"] - logistic["accuracy_reference"]) <= 1 / 60 + 1e-12
    assert logistic["accuracy"] > 0.8
    # linear SVM: near LinearSVC (which also penalises the intercept), not on it
    assert abs(svm["accuracy"] - svm["accuracy_reference"]) <= 1 / 60 + 1e-12 and svm["accuracy"] > 0.8
    assert svm["coef_difference"] < 0.05
    assert abs(svm["objective"] - svm["objective_reference"]) < 1e-3 * svm["objective_reference"]

    out = capsys.readouterr().out
    assert "seed: dL/dw = (1/m) Σ −2xᵢ(yᵢ − (w xᵢ + b))" in out
    assert "seed: dL/dw = Xᵀ(σ(Xw + b) − y)/m" in out
    assert "subgradient dL/dw = −y x where y f(x) < 1" in out
    assert out.count("gradcheck against central differences") == 3 and "FAILED" not in out
    assert "Final comparison" in out
    table = out[out.index("Final comparison"):]
    for row in ("Linear regression", "Logistic regression", "Linear SVM", "Network 2-4-1 (seed)"):
        assert row in table
    for gradient in ("2(z − y)/m", "(σ(z) − y)/m", "−y·1[yz < 1]/m"):
        assert gradient in table
    assert f"R² {linear['r2']:.4f} vs {linear['r2_reference']:.4f}" in table
    assert f"accuracy {svm['accuracy']:.3f} vs {svm['accuracy_reference']:.3f}" in table
    assert_png(r["path"])


def test_exploding_gradients_diverge_and_the_remedies(tmp_path, capsys):
    r = run_example("exploding_gradients.py", tmp_path)
    results = r["results"]
    by_letter = {label[:2]: result for label, result in results.items()}
    none, clipped, glorot, warmup = (by_letter[k] for k in ("a)", "b)", "c)", "d)"))
    best = r["least_squares_mse"]

    # the error signal grows toward the input, ~2 per layer, as estimated; Glorot keeps it at ~1
    too_large, careful = r["error_signal"]["N(0, 4/n_in) (a, b, d)"], r["error_signal"]["Glorot normal (c)"]
    assert np.all(np.diff(too_large) < 0)
    assert 25 < too_large[0] / too_large[-1] < 128
    assert 0.5 < careful[0] / careful[-1] < 2

    # no remedy: DivergenceError, caught, with the last good (here: initial) weights restored
    assert none["diverged"] and none["epoch"] == 2
    assert none["message"].startswith("training diverged at epoch 2") and "weights restored" in none["message"]
    assert r["restored_initial_weights"]
    assert "exploding" in none["warnings"] and none["largest_grad_norm"] > 1e20
    assert none["stable_rate"][0] < 1e-4  # 2/λ_max far below α = 0.01

    # clipping and careful initialisation train to a finite loss far below the start, near least squares
    for result in (clipped, glorot):
        assert not result["diverged"] and np.isfinite(result["final_loss"])
        assert result["final_loss"] < 1.01 * best and result["final_loss"] < 0.5 * result["first_loss"]
    assert clipped["final_loss"] < 1e-3 * clipped["first_loss"]
    assert r["clipped_steps"] > 0 and clipped["grad_norms"][0] > 1e3  # clipping was needed, and it acted
    assert glorot["largest_grad_norm"] < 50  # a healthy gradient is never clipped at the threshold chosen
    assert glorot["stable_rate"][0] > 0.01 and clipped["stable_rate"][1] > 0.01

    # the warm-up: what the example reports, a later divergence
    assert warmup["diverged"] and warmup["epoch"] > 10

    out = capsys.readouterr().out
    assert "cr.DivergenceError: training diverged at epoch 2" in out
    assert "here the initial ones: True" in out
    assert "exploding gradients. Remedies (seed 002)" in out
    assert "estimate 2^(7−l)" in out
    table = out[out.index("variant "):]
    for label, text in (("a) no remedy", "diverged at epoch 2"), ("b) clipping", "final MSE"),
                        ("c) Glorot init", "final MSE"), ("d) LR warm-up", f"diverged at epoch {warmup['epoch']}")):
        row = next(line for line in table.splitlines() if line.startswith(label))
        assert text in row
    assert f"final MSE {clipped['final_loss']:.4f}" in table
    for path in r["paths"]:
        assert_png(path)
