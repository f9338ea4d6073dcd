"""Small helpers shared by the subcommands: output-path checks and atomic text and figure files."""

from __future__ import annotations

import os
from pathlib import Path


def check_output_file(path, option: str) -> Path:
    """Refuse an output path whose directory is missing or that names a directory (also one
    written with a trailing slash that does not exist yet: ``Path`` would drop the slash and
    write a file of that name), before any work starts."""
    text = str(path)
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {text} is a directory; give a file name")
    if text.endswith(("/", os.sep)):
        raise ValueError(f"{option} {text}: directory {text} does not exist (and a file name is needed)")
    if not path.parent.exists():
        raise ValueError(f"{option} {path}: directory {path.parent} does not exist")
    return path


def same_file(a, b) -> bool:
    """Whether two paths name the same file: by ``os.path.samefile`` when both exist
    (symbolic and hard links included), otherwise by resolved path."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting(out, option: str, inputs: dict) -> None:
    """Refuse an output path that is one of the command's input files, before any work.

    Parameters
    ----------
    out : str or Path
        The output file.
    option : str
        The option that named it, for the message (``"--out"``).
    inputs : dict
        What each input is (``"the model file"``) -> its path.

    Raises
    ------
    ValueError
        ``out`` is the same file as an input (``same_file``).
    """
    for role, path in inputs.items():
        if same_file(out, path):
            raise ValueError(f"{option} {out} is {role}; writing there would overwrite it, give another file name")


def check_output_dir(path, option: str) -> Path:
    """Refuse an output directory that is an existing file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a directory")
    return path


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``chainrule.atomic.replacing``)."""
    from ..atomic import replacing

    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_figure(figure, path) -> None:
    """Save a matplotlib figure atomically (format from the suffix, PNG without one) and
    close it."""
    import matplotlib.pyplot as plt

    from ..atomic import replacing

    path = Path(path)
    try:
        with replacing(path) as tmp:
            figure.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(figure)
