"""Options the CLI audit found unchecked: gradcheck sizes that exhaust memory or never finish,
--eps out of range, seeds past 2**32 - 1."""

import json

import pytest

from chainrule.cli import main
from conftest import one_line_error


def test_gradcheck_refuses_a_network_that_cannot_fit_in_memory(capsys):
    err = one_line_error(["gradcheck", "--sizes", "2,1000000000000,1"], capsys)
    assert "--sizes 2,1000000000000,1 with --samples 4 need" in err and "GiB" in err
    assert "ask for a smaller network or fewer --samples" in err


def test_gradcheck_refuses_a_check_that_would_take_hours(capsys):
    err = one_line_error(["gradcheck", "--samples", "100000"], capsys)
    assert "--sizes 2,4,1 with --samples 100000: the check runs the network twice for each of 1,000,017" in err
    assert "more than the 1e+13 it takes on" in err and "(or --no-inputs)" in err


def test_memory_error_advice_covers_the_network(monkeypatch, capsys):
    from chainrule.cli import gradcheck

    def out_of_memory(args):
        raise MemoryError("Unable to allocate 3.0 GiB")

    monkeypatch.setattr(gradcheck, "build", out_of_memory)
    err = one_line_error(["gradcheck"], capsys)
    assert "not enough memory for this run (Unable to allocate 3.0 GiB); ask for less data or a smaller network" in err


@pytest.mark.parametrize("eps", ["1e300", "1e-300", "0.5"])
def test_gradcheck_eps_is_bounded(eps, capsys):
    err = one_line_error(["gradcheck", "--eps", eps], capsys)
    assert f"argument --eps: must be between 1e-12 and 0.1, got {eps}" in err


def test_gradcheck_eps_at_the_bounds_runs(capsys):
    assert main(["gradcheck", "--eps", "1e-3", "--json"]) in (0, 1)


@pytest.mark.parametrize("argv", [["train"], ["gradcheck"], ["ising", "generate", "--out", "{tmp}/x.npz"],
                                  ["ising", "tc"], ["ising", "classify", "{tmp}/x.npz", "--plot", "none"]])
def test_seeds_past_2_to_the_32_are_usage_errors(argv, tmp_path, capsys):
    err = one_line_error([*(a.format(tmp=tmp_path) for a in argv), "--seed", str(2**32)], capsys)
    assert "argument --seed: must be at most 2**32 - 1 = 4294967295, got 4294967296" in err


@pytest.mark.parametrize("field", ["x", "lr"])
def test_a_config_integer_too_large_for_a_float_is_named(tmp_path, field, capsys):
    config = {"x": [1, 2], "y": 0.5, "layers": [{"W": [[0.1, 0.2]], "b": [0.0]}], "lr": 0.1}
    config[field] = int("9" * 401) if field == "lr" else [int("9" * 401), 2]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(config))
    for command in ("explain", "gradcheck"):
        err = one_line_error([command, "--config", str(path)], capsys)
        where = "field 'x': [0]" if field == "x" else "field 'lr'"
        assert f"{path}: {where} is an integer too large for a float (over 1.8e308)" in err


def test_a_config_that_is_not_utf8_is_named(tmp_path, capsys):
    path = tmp_path / "utf16.json"
    path.write_bytes('{"x": [1]}'.encode("utf-16"))
    err = one_line_error(["explain", "--config", str(path)], capsys)
    assert f"{path}: not UTF-8 text (byte 0xff at offset 0); save the config as UTF-8" in err
