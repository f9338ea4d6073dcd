"""Ising datasets on disk: one ``.npz`` (no pickle), written atomically, with a format marker."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .ising import IsingSamples

MARKER = "chainrule-ising-v1"
FIELDS = ("temperatures", "configs", "energy", "energy_err", "magnetisation", "magnetisation_err",
          "specific_heat", "susceptibility", "binder")


def save_ising_npz(path, samples: IsingSamples) -> Path:
    """Write ``samples`` to ``path`` (temporary file, then rename)."""
    path = Path(path)
    if not path.parent.exists():
        raise FileNotFoundError(f"directory does not exist: {path.parent}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    arrays = {name: getattr(samples, name) for name in FIELDS}
    try:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, format=np.array(MARKER), L=np.array(samples.L), **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_ising_npz(path) -> IsingSamples:
    """Read a file written by ``save_ising_npz``; anything else gets a ValueError saying why."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such Ising dataset: {path}")
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):
            raise ValueError("a bare .npy array, not an archive")
    except Exception as exc:  # pickles, zip and npy parse errors of all kinds
        raise ValueError(f"{path} is not a chainrule Ising dataset ({str(exc).splitlines()[0]})") from None
    with data:
        if "format" not in data.files or str(data["format"]) != MARKER:
            raise ValueError(f"{path} is not a chainrule Ising dataset (no {MARKER!r} marker)")
        missing = [name for name in FIELDS if name not in data.files]
        if missing:
            raise ValueError(f"{path} is not a complete chainrule Ising dataset (missing {', '.join(missing)})")
        values = {name: data[name] for name in FIELDS}
        L = int(data["L"])
    configs = values["configs"]
    if configs.ndim != 4 or configs.shape[2:] != (L, L) or configs.shape[0] != values["temperatures"].size:
        raise ValueError(f"{path}: configurations of shape {configs.shape} do not match L={L} and the temperatures")
    return IsingSamples(L=L, **values)
