"""Atomic file writes, shared by every writer (model files, Ising data, CSV and text output,
figures): a reader never sees half a file, a failed write leaves the old one whole, and the
file's permissions are those a plain ``open()`` would give (an overwritten file keeps its own
mode, and its owner and group where the process may set them).

The new file is renamed over the old one, so a path given through a symbolic link writes the
link's target (the link stays), and a hard link to the old file keeps the old contents.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a pipe (FIFO)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def file_kind(mode: int) -> str | None:
    """What an ``os.stat`` ``st_mode`` describes when it is not a regular file ("a pipe
    (FIFO)", "a directory", ...), for messages; None for a regular file."""
    kind = stat.S_IFMT(mode)
    return None if kind == stat.S_IFREG else _KINDS.get(kind, "not a regular file")


@contextmanager
def replacing(path, *, fsync: bool = False):
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write; its directory must exist. A symbolic link is followed: its
        target is replaced and the link kept.
    fsync : bool
        Flush the data to disk before the rename (model files).

    Yields
    ------
    Path
        The temporary file to write (it exists, empty, writable by its owner whatever the
        umask). When the block raises, it is removed and ``path`` is untouched.

    Raises
    ------
    ValueError
        ``path`` exists and is not a regular file (a pipe, a device such as /dev/null, a
        directory): renaming over it would replace the node itself.
    PermissionError
        ``path`` exists and this process may not write it (as ``open(path, "w")`` would
        refuse), or its directory is not writable.
    OSError
        Any other failure to create, write or rename the file (a full disk), naming
        ``path`` (not the temporary file) where the error named no other file.
    """
    path = Path(path)
    target = _writable_target(path)
    tmp = target.with_name(f".{_shortened(target.name)}.{secrets.token_hex(4)}.tmp")
    try:
        mode, owner = _create(tmp, target, path)
        yield tmp
        if fsync:
            with open(tmp, "rb") as handle:  # read-only: fsync needs no write permission
                os.fsync(handle.fileno())
        _set_owner(tmp, owner)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        raise _naming(exc, tmp, path) from None
    finally:
        if os.path.lexists(tmp):
            try:
                tmp.unlink()
            except OSError:
                pass  # (a directory that only grows): the error that stopped the write is the one to report


def _writable_target(path: Path) -> Path:
    """The file a write to ``path`` must replace: ``path`` with symbolic links resolved,
    refused when it exists as anything but a regular file this process may write."""
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # a new file (or a parent that is none: said below)
        return target
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(f"{path} is a symbolic link loop, not a file to write") from None
        raise
    kind = file_kind(info.st_mode)
    if kind:
        raise ValueError(f"{path} is {kind}: chainrule writes a file by "
                         "replacing it, which would replace the node itself; give the name of a regular file")
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "Permission denied (the file is read-only)", str(path))
    return target


def _create(tmp: Path, target: Path, path: Path) -> tuple[int, tuple | None]:
    """Create ``tmp`` (owner read-write), and return the mode and (uid, gid) the finished
    file takes: the old file's, or for a new file 0o666 less the umask and no change."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # its mode shows the umask
    try:
        info = os.stat(target) if os.path.exists(target) else None
        mode = stat.S_IMODE((info or os.fstat(fd)).st_mode)
        os.fchmod(fd, 0o600)  # writers reopen it: a umask such as 0o277 must not lock them out
    finally:
        os.close(fd)
    return mode, None if info is None else (info.st_uid, info.st_gid)


def _set_owner(tmp: Path, owner: tuple | None) -> None:
    """Give ``tmp`` the old file's owner and group where allowed (root; a group of ours)."""
    if owner is None:
        return
    current = os.stat(tmp)
    if (current.st_uid, current.st_gid) == owner:
        return
    try:
        os.chown(tmp, *owner)
    except OSError:
        try:
            os.chown(tmp, -1, owner[1])
        except OSError:
            pass  # not ours to give: the new file stays the writer's, as a copy would


def _shortened(name: str, limit: int = 100) -> str:
    """``name`` cut to at most ``limit`` bytes (UTF-8), so that the temporary name stays
    within the file system's limit whenever ``name`` does."""
    encoded = name.encode("utf-8", "surrogateescape")
    return name if len(encoded) <= limit else encoded[:limit].decode("utf-8", "ignore")


def _naming(exc: OSError, tmp: Path, path: Path) -> OSError:
    """``exc`` naming ``path`` where it named the temporary file (which the user never
    asked for) or no file at all (a failed ``write``, such as a full disk, names none)."""
    if exc.errno is None:
        return exc
    if exc.filename is not None and str(tmp) not in (str(exc.filename), str(exc.filename2)):
        return exc  # another file (one the writer read): its own name is the right one
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))


__all__ = ["replacing"]
