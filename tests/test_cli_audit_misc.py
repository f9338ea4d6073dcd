"""Small things the CLI audit found: --task ignored without --data, messages cut at a newline in
a column name, a closed pipe on standard output reported as a failed training."""

import os
import subprocess
import sys

import pytest

from conftest import one_line_error


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_task_without_data_is_refused(task, capsys):
    err = one_line_error(["train", "--task", task, "--no-plots", "--epochs", "1"], capsys)
    assert f"--task {task} needs --data FILE" in err


def test_a_newline_in_a_column_name_does_not_cut_the_message(tmp_path, capsys):
    path = tmp_path / "nl.csv"
    path.write_text('a,"no\nte",y\n' + "".join(f"{i / 10},{'abc' if i % 2 else 'x'},{i % 2}\n" for i in range(20)))
    err = one_line_error(["train", "--data", str(path), "--target", "y", "--no-plots", "--epochs", "1"], capsys)
    assert "columns 'no\\nte_x', 'no\\nte_abc') or leave it out with --drop 'no\\nte'" in err


@pytest.mark.parametrize("argv", [["datasets"], ["train", "--epochs", "1", "--no-plots"]])
def test_a_reader_that_went_away_is_not_a_failed_training(argv):
    read, write = os.pipe()
    os.close(read)  # nobody reads standard output: its first write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "chainrule", *argv], stdout=write, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 141  # as a program stopped by SIGPIPE; 1 would say training failed
    assert done.stderr == ""


def test_commands_run_with_a_rich_that_has_no_broken_pipe_hook(monkeypatch, capsys):
    """rich before 13.8 (which pyproject allows) has no Console.on_broken_pipe: every command
    raised AttributeError."""
    from rich.console import Console

    from chainrule.cli import main

    monkeypatch.delattr(Console, "on_broken_pipe", raising=False)
    assert main(["datasets"]) == 0
    assert "moons" in capsys.readouterr().out
