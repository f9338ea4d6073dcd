"""Small helpers shared by the subcommands: atomic text files and output-path checks."""

from __future__ import annotations

import os
import secrets
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
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same directory, so a
    failure leaves the old file whole; an overwritten file keeps its permissions."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")  # a new file: 0o666 less the umask, as open() gives
        if path.exists():  # an overwritten file keeps its permissions
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
