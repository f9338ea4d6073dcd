"""Files of the GPU benchmark: atomic writes, the GPU section spliced into ``RESULTS.md``, and
the results saved as JSON. ``report.py`` writes ``RESULTS.md`` through the same helpers."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from gpu_log import error_text, progress
from gpu_report import HEADING, markdown

QUICK_REFUSED = "quick-mode results are not a measurement: they do not go into RESULTS.md"


def _umask() -> int:
    """The process's umask."""
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def atomic_write(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and
    ``os.replace``, so that a reader never sees half a file. An existing file keeps its
    permissions; a new one gets 0644 less the umask (not ``mkstemp``'s 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def splice_gpu_section(text: str, section: str) -> str:
    """``text`` (a RESULTS.md) with its GPU section (from the first line starting ``## GPU`` to
    the next line starting ``## `` or the end) replaced by ``section``, or ``section`` appended
    after one blank line when there is none. Everything else is left as it was."""
    section = section.strip("\n") + "\n"
    start = re.search(r"^## GPU", text, re.M)
    if start is None:
        if not text:
            return section
        sep = "" if text.endswith("\n") else "\n"
        if not (text + sep).endswith("\n\n"):
            sep += "\n"
        return text + sep + section
    after = re.compile(r"^## ", re.M).search(text, start.end())
    if after is None:
        return text[:start.start()] + section
    old = text[start.start():after.start()]
    blank_lines = len(old) - len(old.rstrip("\n")) - 1  # the separation from the next heading
    return text[:start.start()] + section + "\n" * max(blank_lines, 1) + text[after.start():]


def gpu_section(result) -> str:
    """The ``RESULTS.md`` section of ``result``: its markdown, made when it has none.

    Raises
    ------
    ValueError
        For quick-mode results, which are not a measurement.
    """
    if result.get("quick"):
        raise ValueError(QUICK_REFUSED)
    return result.get("markdown") or markdown(result)


def write_results_md(path, result) -> None:
    """Splice ``result``'s markdown into the RESULTS.md at ``path`` (atomically)."""
    section = gpu_section(result)
    path = Path(path)
    text = path.read_bytes().decode("utf-8") if path.exists() else ""
    atomic_write(path, splice_gpu_section(text, section))


def save(result, path) -> None:
    """The results as they stand, with their markdown, written atomically to ``path``."""
    try:
        result["markdown"] = markdown(result)
    except Exception as exc:  # noqa: BLE001 - the numbers must still reach the disk
        result["markdown"] = f"{HEADING}\n\n(the markdown could not be made: {error_text(exc)})\n"
        result.setdefault("failures", []).append(f"markdown: {error_text(exc)}")
    try:
        atomic_write(path, json.dumps(result, indent=1, default=str) + "\n")
    except Exception as exc:  # noqa: BLE001 - keep measuring; stdout still gets the markdown
        progress(f"could not write {path}: {error_text(exc)}")

