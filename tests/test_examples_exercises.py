"""Seed 002's exercises as runnable examples: each runs, writes its plots and reaches its answer."""

import itertools
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLES, assert_png, run_example


def test_exercise_2_vanishing_gradients(tmp_path, capsys):
    r = run_example("exercise_2_vanishing_gradients.py", tmp_path)
    np.testing.assert_allclose(r["sigmoid_estimate"], [0.25 ** 4, 0.25 ** 3, 0.25 ** 2, 0.25, 1])
    np.testing.assert_allclose(r["relu_estimate"], [0.5 ** 4, 0.5 ** 3, 0.25, 0.5, 1])
    sigmoid, relu_he = r["measured"]["sigmoid + Glorot"], r["measured"]["ReLU + He"]
    # the measured sigmoid network follows the σ' ≤ 1/4 estimate: 1/4 per layer, ~4e-3 at the input layer
    assert 0.2 < r["per_layer_factor"]["sigmoid + Glorot"] < 0.3
    assert 0.5 * 0.25 ** 4 < sigmoid[0] < 2 * 0.25 ** 4
    # ReLU with He initialisation keeps the error signal at the output layer's size
    assert 0.5 < relu_he[0] < 2 and 0.8 < r["per_layer_factor"]["ReLU + He"] < 1.25
    assert r["measured"]["ReLU + Glorot"][0] > 10 * sigmoid[0]
    assert r["warnings"]["sigmoid + Glorot"] == ["vanishing"] and r["warnings"]["ReLU + He"] == []
    out = capsys.readouterr().out
    assert "σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4" in out and "layer 1: ≈ (1/4)^4 = 0.00390625" in out
    assert "not a bound" in out and "≤ (1/4)^" not in out  # the weights can exceed the estimate (measured)
    assert "vanishing at Dense 1 (2→32)" in out
    for path in r["paths"]:
        assert_png(path)


def test_exercise_4_custom_activation(tmp_path, capsys):
    r = run_example("exercise_4_custom_activation.py", tmp_path)
    p = r["properties"]
    assert p["derivative_error"] < 1e-7 and p["derivative_at_0"] == 0 and p["min_value"] == 0 and p["even"]
    assert p["decreasing_below_0"] and p["increasing_above_0"] and 1.19 < p["derivative_max"] < 1.21
    right, wrong = r["gradcheck"].values()
    assert right.passed and not wrong.passed
    assert any("without product rule" in e.layer for e in wrong.failures)
    assert r["builtin_matches"]
    c = r["comparison"]
    assert set(c) == {"x·tanh(x)", "ReLU", "sigmoid"}
    assert c["x·tanh(x)"]["test_accuracy"] > 0.9 and c["ReLU"]["test_accuracy"] > 0.9
    # the printed claim "trains much faster than sigmoid"
    assert c["x·tanh(x)"]["epochs_to_0.3"] < 0.5 * c["sigmoid"]["epochs_to_0.3"]
    assert c["x·tanh(x)"]["final_loss"] < c["sigmoid"]["final_loss"]
    out = capsys.readouterr().out
    assert "f'(x) = tanh(x) + x·(1 − tanh²(x))" in out and "x·tanh(x) without product rule" in out
    assert "hidden activation" in out and "sigmoid" in out
    for path in r["paths"]:
        assert_png(path)


def test_exercise_5_multi_output_regression(tmp_path, capsys):
    r = run_example("exercise_5_multi_output_regression.py", tmp_path)
    gd, scaled = r["raw targets, gradient descent"], r["standardised outputs"]
    assert r["gradcheck_passed"]
    # unscaled, the ozone output (std ~0.014 ppm) gets almost no gradient: gradient descent never
    # learns it (not even its mean), while the other two outputs are learned
    assert gd["gradient_share"][1] < 1e-3 and gd["r2"][1] < 0 and np.all(gd["r2"][[0, 2]] > 0.9)
    # Adam's rescaled steps move ozone's weights, by amounts that depend on the random start
    assert np.ptp(r["adam_raw_ozone_r2"]) > 0.3
    # per-output standardisation: every output is learned, close to the test records' own noise
    assert np.all(scaled["r2"] > 0.95)
    assert np.all(r["noise_rms"] < scaled["rmse"]) and np.all(scaled["rmse"] < 1.2 * r["noise_rms"])
    assert np.all(scaled["gradient_share"] > 0.05)
    out = capsys.readouterr().out
    for name in ("pm2.5 [µg/m³]", "ozone [ppm]", "no2 [ppb]"):
        assert out.count(name) >= 4  # the scales table and one row per variant
    assert "Per-output loss report" in out
    answers = [line[:2] for line in out.splitlines() if line[:2] in {"a)", "b)", "c)", "d)", "e)"}]
    assert answers == ["a)", "b)", "c)", "d)", "e)"]  # every part, in the exercise's order
    assert_png(r["path"])


def test_tanh_hidden_layer_beats_sigmoid(tmp_path, capsys):
    r = run_example("exercise_tanh_hidden_layer.py", tmp_path)
    assert r["verdict"] == "better"
    assert r["tanh"]["final_loss"] < 0.5 * r["sigmoid"]["final_loss"]
    assert r["tanh"]["test_accuracy"] > 0.9 > r["sigmoid"]["test_accuracy"]
    assert "tanh performs better" in capsys.readouterr().out
    assert_png(r["path"])


def test_l2_regularisation_shrinks_weights_and_smooths_the_boundary(tmp_path, capsys):
    r = run_example("exercise_l2_regularization.py", tmp_path)
    none, some, strong = r[0.0], r[0.3], r[3.0]
    assert some["weights_sq"] < none["weights_sq"] / 10
    assert some["boundary_length"] < none["boundary_length"] and some["max_slope"] < none["max_slope"] / 4
    assert none["train_accuracy"] == 1.0 and some["train_accuracy"] < none["train_accuracy"]
    assert some["test_accuracy"] >= none["test_accuracy"]
    assert strong["test_accuracy"] < some["test_accuracy"]  # too much: underfitting
    assert "optimizer l2 = λ/m" in capsys.readouterr().out
    assert_png(r["path"])


def test_sgd_loss_curve_is_noisier_than_batch_gradient_descent(tmp_path, capsys):
    r = run_example("exercise_batch_vs_sgd.py", tmp_path)
    gd, sgd = r["batch GD"], r["SGD"]
    assert gd["steps"] == sgd["steps"] == 14_000
    assert gd["share_up"] == 0.0 and sgd["share_up"] > 0.3
    assert sgd["spread"] > 20 * gd["spread"]
    assert np.any(np.diff(r["sgd_epoch_losses"]) > 0)  # "even the per-epoch loss zigzags"
    assert sgd["loss_after_100_epochs"] < gd["loss_after_100_epochs"]
    assert "much noisier" in capsys.readouterr().out
    assert_png(r["path"])


def test_sine_regression_reaches_mse_below_1e_3(tmp_path, capsys):
    r = run_example("exercise_sine_regression.py", tmp_path)
    assert r["mse"] < 1e-3 and r["max_error"] < 0.05 and r["gradcheck_passed"]
    # linear output + MSE: dZ[2] = 2(ŷ - y)/m
    np.testing.assert_allclose(r["dZ_out"], 2 * (r["prediction"] - r["y"]) / len(r["y"]), rtol=1e-12)
    out = capsys.readouterr().out
    assert "dZ[2] = dA[2]   (linear output: g'(z) = 1)" in out and "below 1e-3" in out
    assert_png(r["path"])


def test_two_hidden_layers_formula_matches_the_engine(tmp_path, capsys):
    r = run_example("exercise_two_hidden_layers.py", tmp_path)
    assert r["formula_difference"] < 1e-14 and r["gradcheck_passed"]
    results = r["results"]
    assert results["two hidden layers (2-8-8-1)"]["test_accuracy"] > 0.9
    assert results["two hidden layers (2-8-8-1)"]["final_loss"] < results["one hidden layer (2-8-1)"]["final_loss"]
    assert "dW[1] = ((((ŷ − Y)/m · W[3]) * g'(Z[2])) W[2] * g'(Z[1]))ᵀ X" in capsys.readouterr().out
    assert_png(r["path"])


def test_hidden_sizes_underfit_then_overfit(tmp_path, capsys):
    r = run_example("mini_exercise_2_hidden_sizes.py", tmp_path)
    losses = [r[h]["final_loss"] for h in (1, 2, 4, 20, 50)]
    assert all(a > b for a, b in itertools.pairwise(losses))  # training loss falls with size
    assert r[1]["train_accuracy"] < 0.9 and r[4]["train_accuracy"] > 0.95
    assert r[50]["train_accuracy"] == 1.0 and r[50]["test_loss"] > r[r["best"]]["test_loss"]  # overfitting
    assert r["best"] in (4, 20)
    assert "overfitting" in capsys.readouterr().out
    assert_png(r["path"], 50_000)


def test_relu_derivative_is_a_mask(tmp_path):
    r = run_example("mini_exercise_1_relu_derivative.py", tmp_path)
    assert r["mask_rule_holds"] and r["gradcheck_passed"]
    assert set(np.unique(r["g_prime"])) == {0.0, 1.0} and 0 < r["active_units"] < 4


@pytest.mark.parametrize("script", ["mini_exercise_1_relu_derivative.py", "exercise_sine_regression.py"])
def test_scripts_run_from_the_command_line(tmp_path, script):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), str(tmp_path / "out")], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "gradient check passed" in result.stdout
    if script == "exercise_sine_regression.py":
        assert_png(tmp_path / "out" / "exercise_sine_regression.png")
