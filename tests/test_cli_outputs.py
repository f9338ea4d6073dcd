"""What the CLI writes, and where: --save, --out and --plots never replace an input or one
another, '-' is standard output, compressed CSV by extension, reports that are not
hard-wrapped in logs."""

import os

import numpy as np
import pandas as pd
import pytest

from chainrule.cli import main


@pytest.fixture
def iris_csv(tmp_path):
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = [data.target_names[i] for i in data.target]
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


def _one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def _train(data, *extra):
    return ["train", "--data", str(data), "--target", "species", "--epochs", "3", "--quiet", *map(str, extra)]


def test_save_refuses_to_overwrite_the_input_table(tmp_path, iris_csv, capsys):
    before = iris_csv.read_bytes()
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(iris_csv)
    hard = tmp_path / "hard.csv"
    os.link(iris_csv, hard)
    for save in (iris_csv, tmp_path / "sub" / ".." / "iris.csv", link, hard):
        err = _one_line_exit_2(_train(iris_csv, "--save", save, "--no-plots"), capsys)
        assert f"--save {save} is the input table" in err
    assert iris_csv.read_bytes() == before


def test_save_refuses_a_figure_the_run_writes_into_plots(tmp_path, iris_csv, capsys):
    plots = tmp_path / "plots"
    err = _one_line_exit_2(_train(iris_csv, "--save", plots / "loss_curve.png", "--plots", plots), capsys)
    assert f"--save {plots / 'loss_curve.png'} is loss_curve.png, a figure --plots {plots} writes" in err
    plots.mkdir()
    err = _one_line_exit_2(_train(iris_csv, "--save", f"{tmp_path}/./plots/network.png", "--plots", f"{plots}/"),
                           capsys)
    assert "is network.png, a figure --plots" in err
    err = _one_line_exit_2(_train(iris_csv, "--save", plots, "--plots", plots), capsys)
    assert "is a directory" in err or "is the --plots directory" in err
    assert list(plots.iterdir()) == []
    # --no-plots writes no figure, so the name is free
    assert main(_train(iris_csv, "--save", plots / "network.png", "--plots", plots, "--no-plots")) == 0
    assert (plots / "network.png").read_bytes()[8:20] == b'{"__metadata'


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_missing_directory_with_a_trailing_slash_is_not_a_file_name(tmp_path, iris_csv, command, capsys):
    if command == "train":
        argv, option = _train(iris_csv, "--save", f"{tmp_path}/newdir/", "--no-plots"), "--save"
    else:
        model = tmp_path / "m.chainrule"
        assert main(_train(iris_csv, "--save", model, "--no-plots")) == 0
        argv, option = ["predict", str(model), str(iris_csv), "--out", f"{tmp_path}/newdir/"], "--out"
    err = _one_line_exit_2(argv, capsys)
    assert f"{option} {tmp_path}/newdir/: directory {tmp_path}/newdir/ does not exist" in err
    assert not (tmp_path / "newdir").exists()
