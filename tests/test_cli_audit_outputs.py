"""Output paths the CLI audit found checked too late: through a file, a link to nowhere, a
directory that takes no new file; a model saved before a failing step; explain's --output over
its own --config."""

import errno
import os
import shutil

import pytest

from conftest import EXAMPLES, one_line_error, train_iris


def test_plots_through_a_file_is_refused_before_the_model_is_saved(tmp_path, iris_csv, capsys):
    model = tmp_path / "m.model"
    err = one_line_error(train_iris(iris_csv, "--plots", f"{iris_csv}/sub", "--save", model), capsys)
    assert f"--plots {iris_csv}/sub: {iris_csv} is not a directory" in err
    assert not model.exists()


def test_links_to_nowhere_are_refused_up_front(tmp_path, iris_csv, capsys):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere" / "x")
    err = one_line_error(train_iris(iris_csv, "--plots", link), capsys)
    assert f"--plots {link} is a link to {tmp_path / 'nowhere' / 'x'}, which does not exist" in err
    err = one_line_error(train_iris(iris_csv, "--no-plots", "--save", link), capsys)
    assert f"--save {link} (a link to {tmp_path / 'nowhere' / 'x'}): directory {tmp_path / 'nowhere'} does not " \
           "exist" in err
    model = tmp_path / "m.model"
    err = one_line_error(["predict", str(model), str(iris_csv), "--out", f"{iris_csv}/p.csv"], capsys)
    assert f"--out {iris_csv}/p.csv: {iris_csv} is not a directory" in err


def test_a_directory_that_takes_no_file_is_refused_before_training(tmp_path, iris_csv, capsys, monkeypatch):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # root writes anywhere but on a read-only mount
    model = tmp_path / "m.model"
    err = one_line_error(train_iris(iris_csv, "--no-plots", "--save", model), capsys)
    assert f"--save {model}: cannot write in directory {tmp_path} (Read-only file system)" in err
    err = one_line_error(train_iris(iris_csv, "--plots", tmp_path / "plots"), capsys)
    assert f"--plots {tmp_path / 'plots'}: cannot write in directory {tmp_path}" in err
    config = EXAMPLES / "exercise_1_hand_calculation.json"
    err = one_line_error(["explain", "--config", str(config), "--output", str(tmp_path / "e.txt")], capsys)
    assert "--output" in err and "Read-only file system" in err
    err = one_line_error(["ising", "generate", "--L", "4", "--steps", "7", "--samples", "4", "--out",
                          str(tmp_path / "x.npz")], capsys)
    assert "--out" in err and "Read-only file system" in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes in a read-only directory")
def test_a_read_only_directory_is_refused(tmp_path, iris_csv, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        err = one_line_error(train_iris(iris_csv, "--no-plots", "--save", locked / "m.model"), capsys)
        assert "cannot write in directory" in err
    finally:
        locked.chmod(0o755)


def test_the_model_is_saved_after_the_plots(tmp_path, iris_csv, capsys, monkeypatch):
    from chainrule.cli import _train_report

    def failing(figure, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(_train_report, "save_figure", failing)
    model = tmp_path / "m.model"
    one_line_error(train_iris(iris_csv, "--plots", tmp_path / "plots", "--save", model), capsys)
    assert not model.exists()


def test_explain_output_refuses_its_own_config(tmp_path, capsys):
    config = tmp_path / "config.json"
    shutil.copy(EXAMPLES / "exercise_1_hand_calculation.json", config)
    before = config.read_bytes()
    err = one_line_error(["explain", "--config", str(config), "--output", str(config)], capsys)
    assert f"--output {config} is the config" in err
    assert config.read_bytes() == before
