"""Small helpers shared by the subcommands: output-path checks and atomic text and figure files."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path


#: The width of a report written to a pipe or a file: wide enough that rich never wraps a
#: line or a table cell there (a log keeps one record per line).
LOG_WIDTH = 10_000


def report_console(stderr: bool = False):
    """A rich Console for a command's report: a terminal's own width; in a pipe or a file
    (not a terminal, not Jupyter) ``LOG_WIDTH``, not rich's 80 columns (or $COLUMNS), so
    notes and table cells are not hard-wrapped in logs."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if console.is_terminal or console.is_jupyter:
        return console
    return Console(stderr=stderr, width=LOG_WIDTH)


def print_warnings(messages) -> None:
    """Each of a table's warnings (``Table.warnings``) as one line on standard error."""
    for message in messages:
        print(f"chainrule: warning: {message}", file=sys.stderr)


def check_output_file(path, option: str, hint: str = "") -> Path:
    """Refuse an output path whose directory is missing or that names a directory (also one
    written with a trailing slash that does not exist yet: ``Path`` would drop the slash and
    write a file of that name) or an existing non-regular file (a FIFO, a device, also through
    a symbolic link), before any work starts; ``hint`` ends that last message."""
    text = str(path)
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {text} is a directory; give a file name")
    kind = _special_kind(path)
    if kind:
        link = f" (a link to {os.path.realpath(path)})" if path.is_symlink() else ""
        raise ValueError(f"{option} {text}{link} is {kind}, not a regular file{hint}")
    if text.endswith(("/", os.sep)):
        raise ValueError(f"{option} {text}: directory {text} does not exist (and a file name is needed)")
    real = Path(os.path.realpath(path))  # a link is written through: its target's directory counts
    via = f" (a link to {real})" if path.is_symlink() else ""
    parent = real.parent if via else path.parent
    if not os.path.exists(parent):
        raise ValueError(f"{option} {text}{via}: directory {parent} does not exist")
    if not parent.is_dir():
        raise ValueError(f"{option} {text}{via}: {parent} is not a directory")
    if real.exists() and not os.access(real, os.W_OK):
        raise ValueError(f"{option} {text}{via}: the file is read-only")
    _probe(parent, option, text)
    return path


def _probe(directory: Path, option: str, text: str) -> None:
    """Refuse a directory a new file cannot be written in, by writing one (and removing it):
    ``os.access`` says yes to root on a read-only file system."""
    import tempfile

    try:
        handle, name = tempfile.mkstemp(prefix=".chainrule-probe-", dir=directory)
    except OSError as exc:
        raise ValueError(f"{option} {text}: cannot write in directory {directory} "
                         f"({exc.strerror or type(exc).__name__})") from None
    os.close(handle)
    os.unlink(name)


def _special_kind(path: Path) -> str | None:
    """What an existing path is when it is neither a regular file nor a directory (its
    link followed), else None (``chainrule.atomic.file_kind``)."""
    from ..atomic import file_kind

    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing, or a dangling link: a new file
        return None
    return None if stat.S_ISDIR(mode) else file_kind(mode)


def check_memory(n_bytes: int, what: str, advice: str = "ask for fewer") -> None:
    """Refuse, before any work, data that cannot fit in this machine's memory: more than half
    of it (the operating system would kill the process without a word)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this system
        return
    if n_bytes > total // 2:
        raise ValueError(f"{what} need {n_bytes / 2**30:.1f} GiB, more than half of this machine's "
                         f"{total / 2**30:.1f} GiB of memory; {advice}")


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


def json_text(value, **options) -> str:
    """``json.dumps(value, allow_nan=False, **options)``: standard JSON, which has no NaN or
    infinity; such a number is named by its key in a ValueError instead of printed as
    ``NaN``, which JSON readers refuse."""
    import json

    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        found = _non_finite(value)
        if found is None:  # another ValueError (a circular reference): json's own message
            raise
        key, number = found
        raise ValueError(f"the JSON output would hold {key} = {number}, which JSON cannot represent") from None


def _non_finite(value, key: str = "a value"):
    """The first NaN or infinity in nested dicts and lists, with its key path (``train.r2``)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return key, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for k, v in items:
        found = _non_finite(v, str(k) if key == "a value" else f"{key}.{k}")
        if found:
            return found
    return None


def check_output_dir(path, option: str) -> Path:
    """Refuse an output directory that cannot be made or written in, before any work: an
    existing file, a link to nothing, a path through a file (``data.csv/plots``), or whose
    nearest existing directory does not take a new file (permissions, a read-only file system)."""
    text = str(path)
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise ValueError(f"{option} {text} is a link to {os.path.realpath(path)}, which does not exist")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {text} is a file, not a directory")
    existing = path
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{option} {text}: {existing} is not a directory")
    _probe(existing, option, text)
    return path


#: Compressions a text output takes from its file name's ending (pandas' compression="infer").
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}


def compression_of(path) -> str | None:
    """The compression a file name asks for (``COMPRESSIONS``, case-insensitive), or None."""
    name = str(path).lower()
    return next((kind for ending, kind in COMPRESSIONS.items() if name.endswith(ending)), None)


def write_text_atomic(path, text: str, compression: str | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``chainrule.atomic.replacing``),
    compressed when asked (``"gzip"``, ``"bz2"``, ``"xz"``, or ``"zip"``: one member named
    like the file without ``.zip``, as pandas writes them). The compression is given, not
    inferred: the atomic writer's temporary file has another name."""
    from ..atomic import replacing

    data = text.encode("utf-8")
    with replacing(path) as tmp:
        if compression is None:
            tmp.write_text(text, encoding="utf-8")
        elif compression == "zip":
            import zipfile

            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(Path(path).name[: -len(".zip")] or "data", data)
        else:
            import bz2
            import gzip
            import lzma

            compress = {"gzip": lambda b: gzip.compress(b, mtime=0), "bz2": bz2.compress, "xz": lzma.compress}
            tmp.write_bytes(compress[compression](data))


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
