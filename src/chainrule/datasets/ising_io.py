"""Ising datasets on disk: one ``.npz`` file, no pickle, written atomically, with a format
marker so that anything else is rejected with a ValueError that says what is wrong."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..atomic import replacing
from .ising_lattice import check_increasing
from .ising_sampler import IsingSamples

__all__ = ["FORMAT", "load_ising_npz", "save_ising_npz"]

#: Value of the ``format`` entry of every file written by :func:`save_ising_npz`.
FORMAT = "chainrule-ising-v2"
#: Older files (``configs``, ``temperatures`` and five observables, no errors for C, χ, U).
FORMAT_V1 = "chainrule-ising-v1"

ARRAYS = ("temperatures", "configs", "energy", "energy_err", "magnetisation", "magnetisation_err",
          "specific_heat", "specific_heat_err", "susceptibility", "susceptibility_err", "binder", "binder_err",
          "method", "equilibration", "sweeps_between")
SCALARS = ("L", "chains")
V1_ARRAYS = ("temperatures", "configs", "energy", "energy_err", "magnetisation", "magnetisation_err",
             "specific_heat", "susceptibility", "binder")


def save_ising_npz(path, samples: IsingSamples) -> Path:
    """Write ``samples`` to ``path`` as a compressed ``.npz`` (no pickled objects).

    The file is written to a temporary file in the same directory and renamed over ``path``,
    so a reader never sees a half-written file and an interrupted write leaves none behind.

    Parameters
    ----------
    path : str or Path
        Destination; its directory must exist. No ``.npz`` suffix is added.
    samples : IsingSamples

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If the temperatures are not strictly increasing (:func:`load_ising_npz` would refuse
        the file), before anything is written.
    """
    path = Path(path)
    check_increasing(np.asarray(samples.temperatures), "the samples' temperatures")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory does not exist: {path.parent}")
    arrays = {name: np.asarray(getattr(samples, name)) for name in ARRAYS}
    arrays["method"] = arrays["method"].astype(str)  # fixed-width unicode: no pickle needed
    arrays.update({name: np.asarray(getattr(samples, name), dtype=np.int64) for name in SCALARS})
    with replacing(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, format=np.array(FORMAT), **arrays)
    return path


def load_ising_npz(path) -> IsingSamples:
    """Read a file written by :func:`save_ising_npz`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    IsingSamples

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a chainrule Ising dataset — not an npz archive, no ``format``
        marker or a different one, an entry missing, arrays that need pickle, shapes that do
        not fit together, spins other than ±1 or temperatures that are not strictly increasing —
        naming the file and what is wrong; an entry of the wrong type (text or complex
        observables, a chain count that is not a whole number), naming the entry.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such Ising dataset: {path}")
    if not path.is_file():
        from ..atomic import file_kind

        raise ValueError(f"{path} is {file_kind(path.stat().st_mode)}, not a chainrule Ising dataset")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a chainrule Ising dataset: not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as data:
            files = set(data.files)
            if "format" not in files:
                raise ValueError(f"{path} is not a chainrule Ising dataset: no 'format' entry "
                                 f"(expected {FORMAT!r})")
            marker = data["format"]
            if marker.shape != () or marker.dtype.kind != "U" or str(marker) not in (FORMAT, FORMAT_V1):
                raise ValueError(f"{path} is not a chainrule Ising dataset: format is {marker!r}, expected {FORMAT!r}")
            version = str(marker)
            required = (ARRAYS + SCALARS) if version == FORMAT else (V1_ARRAYS + ("L",))
            missing = [name for name in required if name not in files]
            if missing:
                raise ValueError(f"{path} is not a complete chainrule Ising dataset: missing {', '.join(missing)}")
            values = {name: data[name] for name in required}
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise ValueError(f"{path} is not a chainrule Ising dataset: it holds pickled objects, "
                             "which are never loaded") from None
        if str(error).startswith(str(path)):
            raise
        raise ValueError(f"{path} is not a chainrule Ising dataset: {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{path} is not a chainrule Ising dataset: {type(error).__name__}: {error}") from None
    return _samples(path, values, version)


def _samples(path, values: dict, version: str) -> IsingSamples:
    L = values.pop("L")
    if L.shape != () or L.dtype.kind not in "iu" or int(L) < 2:
        raise ValueError(f"{path}: L must be an integer >= 2, got {L!r}")
    L = int(L)
    T = values["temperatures"]
    if T.ndim != 1 or T.dtype.kind != "f" or T.size == 0 or not np.all(np.isfinite(T) & (T > 0)):
        raise ValueError(f"{path}: temperatures must be a non-empty 1-D array of finite positive floats")
    check_increasing(T, f"{path}: temperatures")
    configs = values["configs"]
    if configs.dtype != np.int8 or configs.ndim != 4 or configs.shape[0] != T.size or configs.shape[2:] != (L, L):
        raise ValueError(f"{path}: configs of shape {configs.shape} and dtype {configs.dtype} do not match "
                         f"{T.size} temperatures and L = {L} (expected int8 of shape ({T.size}, n, {L}, {L}))")
    bad = (configs != 1) & (configs != -1)
    if bad.any():
        values_found = np.unique(configs[bad])
        raise ValueError(f"{path}: configs must hold spins of +1 and -1 only; found {bad.sum()} other value"
                         f"{'s' if bad.sum() != 1 else ''} ({', '.join(str(int(v)) for v in values_found[:5])}"
                         f"{', ...' if values_found.size > 5 else ''})")
    if version == FORMAT_V1:
        nan = np.full(T.size, np.nan)
        values.update(specific_heat_err=nan, susceptibility_err=nan, binder_err=nan.copy(),
                      method=np.full(T.size, "unknown"), equilibration=np.full(T.size, -1),
                      sweeps_between=np.full(T.size, -1))
        values["chains"] = np.array(-1)
    for name in ARRAYS[2:]:
        if values[name].shape != (T.size,):
            raise ValueError(f"{path}: {name} has shape {values[name].shape}, expected ({T.size},)")
        values[name] = _typed(path, name, values[name])
    chains = values.pop("chains")
    if chains.shape != () or chains.dtype.kind not in "iu" or not (int(chains) >= 1 or int(chains) == -1):
        raise ValueError(f"{path}: chains must be a whole number >= 1 (or -1: unknown), got {_shown(chains)}")
    return IsingSamples(L=L, chains=int(chains), **values)


#: What each per-temperature entry holds: text (the method), whole numbers (sweeps; -1 in a
#: version-1 file: unknown), or real numbers (observables and their errors; NaN allowed).
_TEXT, _COUNTS = ("method",), ("equilibration", "sweeps_between")


def _typed(path, name: str, array: np.ndarray) -> np.ndarray:
    """``array`` as the type its entry holds, or a ValueError naming the file and the entry:
    text, whole numbers >= -1, or real numbers (never text, complex or structured values)."""
    kind = array.dtype.kind
    if name in _TEXT:
        if kind != "U":
            raise ValueError(f"{path}: {name} must hold text (the update used at each temperature), got "
                             f"{_shown(array)}")
        return array
    if name in _COUNTS:
        if kind not in "iu" or (array.size and int(array.min()) < -1):
            raise ValueError(f"{path}: {name} must hold whole numbers of sweeps (>= 0, or -1: unknown), got "
                             f"{_shown(array)}")
        return array.astype(np.int64)
    if kind not in "fiu":
        raise ValueError(f"{path}: {name} must hold real numbers, got {_shown(array)}")
    return array.astype(np.float64)


def _shown(array: np.ndarray) -> str:
    """An entry's dtype and its first values, for a message (a forged entry may be huge)."""
    if array.ndim == 0:
        return f"{array.item()!r} (dtype {array.dtype})"
    first = ", ".join(repr(v) for v in array.reshape(-1)[:3].tolist()) + (", ..." if array.size > 3 else "")
    return f"[{first}] (dtype {array.dtype}, shape {array.shape})"
