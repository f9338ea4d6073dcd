"""Examples owned by the engine: they run and reach their stated outcome."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_reaction_rates_network_predicts_held_out_rates(tmp_path, capsys):
    result = runpy.run_path(str(EXAMPLES / "reaction_rates.py"))["main"](tmp_path)
    out = capsys.readouterr().out
    assert "Network design" in out and "1000/T" in out and "ln k" in out
    assert result["r2"] > 0.99 and result["rmse"] < 0.5  # noise floor is 0.25
    inside, outside = result["extrapolation_rmse"][350], (result["extrapolation_rmse"][T] for T in (250, 500))
    assert all(e > 2 * inside for e in outside)  # as the output says: worse outside 280-420 K
    assert "95% of reactions within a factor" in out
    assert (tmp_path / "reaction_rates_parity.png").stat().st_size > 10_000


def test_deep_network_remedies_show_what_each_remedy_does(tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / "deep_network_remedies.py"))
    results = {r["label"]: r for r in module["main"]([str(tmp_path), "--epochs", "12"])}
    sigmoid, residual = results["sigmoid + Glorot"], results["+ residual"]
    # σ' ≤ 1/4 per layer: the plain sigmoid network's first layer gets almost no gradient ...
    assert sigmoid["first_over_last"] < 1e-6
    assert sigmoid["grad_norms"][0] < 1e-6 * residual["grad_norms"][0]
    # ... while ReLU + He keeps every layer's gradient within an order of magnitude or so
    for label in ("ReLU + He", "+ residual", "+ batch norm"):
        assert 0.05 < results[label]["first_over_last"] < 20
    # and trains where the sigmoid network cannot (10 classes: chance is 0.1)
    assert sigmoid["test_accuracy"] < 0.3
    assert residual["test_accuracy"] > sigmoid["test_accuracy"] + 0.5
    assert results["+ LR schedule"]["test_accuracy"] > 0.9
    labels = list(results)  # each variant adds one remedy: the rate and its schedule are two
    assert labels[-2:] == ["+ higher LR", "+ LR schedule"] and len(labels) == 7
    # the GradientFlow callback warned about the sigmoid network's layers, and only about them
    assert sigmoid["vanishing_warnings"] >= 10
    assert all(results[label]["vanishing_warnings"] == 0 for label in results if label != "sigmoid + Glorot")
    out = capsys.readouterr().out
    assert "‖dW₁‖/‖dW₂₀‖" in out
    for name in ("remedies_gradient_flow.png", "remedies_loss_curves.png"):
        assert (tmp_path / name).stat().st_size > 20_000
