"""Atomic file writes, shared by every writer (model files, Ising data, CSV and text output,
figures): a reader never sees half a file, a failed write leaves the old one whole, and the
file's permissions are those a plain ``open()`` would give (an overwritten file keeps its own).
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path, *, fsync: bool = False):
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write; its directory must exist.
    fsync : bool
        Flush the data to disk before the rename (model files).

    Yields
    ------
    Path
        The temporary file to write (it exists, empty, with the final permissions' umask
        applied). When the block raises, it is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        # created by us, so a new file gets 0o666 less the umask without touching the umask;
        # writers that create their own file (safetensors: 0600) get these bits back below
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        mode = stat.S_IMODE((path if path.exists() else tmp).stat().st_mode)
        yield tmp
        os.chmod(tmp, mode)
        if fsync:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


__all__ = ["replacing"]
