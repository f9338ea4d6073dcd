"""Small helpers shared by the subcommands: output-path checks and atomic text and figure files."""

from __future__ import annotations

from pathlib import Path


def check_output_file(path, option: str) -> Path:
    """Refuse an output path whose directory is missing or that names a directory, before
    any work starts."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; give a file name")
    if not path.parent.exists():
        raise ValueError(f"{option} {path}: directory {path.parent} does not exist")
    return path


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
