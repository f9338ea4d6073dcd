"""Examples owned by the engine: they run and reach their stated outcome."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_reaction_rates_network_predicts_held_out_rates(tmp_path, capsys):
    result = runpy.run_path(str(EXAMPLES / "reaction_rates.py"))["main"](tmp_path)
    out = capsys.readouterr().out
    assert "Network design" in out and "1000/T" in out and "ln k" in out
    assert result["r2"] > 0.99 and result["rmse"] < 0.5  # noise floor is 0.25
    assert (tmp_path / "reaction_rates_parity.png").stat().st_size > 10_000
