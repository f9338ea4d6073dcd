"""The verdict of a gradient check: each tensor's comparison (``GradcheckEntry``) and the
report over all of them (``GradcheckReport``: its table, its summary, and where a failure
starts). ``gradcheck`` in ``gradcheck.py`` computes what is compared."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class GradcheckEntry:
    """The check of one tensor's gradient.

    Attributes
    ----------
    name : str
        ``W[1]``, ``b[2]`` (Dense layers numbered as in the lecture, in network order: those
        inside a residual block count where they run, as ``GradientFlow`` numbers them),
        ``gamma (layer 3)`` (1-based position in the network; ``gamma (layer 2.1)`` for the
        first layer of the block at position 2); for ``∂L/∂(layer input)`` the lecture's ``dA[0]``
        (∂L/∂X, the first Dense layer's input), ``dZ[1]`` (the input of the activation after
        Dense layer 1), or ``input of layer 3`` where the lecture has no name.
    layer : str
        The layer holding the tensor, e.g. ``Dense(2→4)`` or ``CustomActivation('xtanh')``
        (for a parameter inside a residual block, the block's own layer).
    position : int
        1-based position in the network of the (top-level) layer.
    kind : {"parameter", "input"}
    shape : tuple of int
    max_abs_error : float
        ``max |a − n|``.
    rel_error : float
        ``‖a − n‖ / max(‖a‖ + ‖n‖, 1e-300)``.
    max_error : float
        ``max |a − n| / max(1, |a|, |n|)``, the pass criterion.
    passed : bool
        ``max_error <= tol``.
    unresolved : bool
        Passed with a norm-relative error above ``UNRESOLVED_REL_ERROR`` and a discrepancy
        within the numeric error (``noise``): these gradients are too small to test.
    noise : float or None
        The numeric gradient's own error, measured (for a tensor whose relative error is above
        ``REL_TOL``) as the largest change of the central differences between ``eps`` and
        ``2·eps``, or the rounding error if larger; None when not needed.
    zero : bool
        Both the analytic and the numeric gradient vanish to within ``noise`` (zero by the
        network's structure, e.g. a bias followed by BatchNorm, or too small for float64).
    kink_elements, failing_elements : int
        Of the failing elements, how many sit at a kink of the loss (the one-sided differences
        disagree by far more than rounding, and not as a smooth curvature would).
    worst_index : tuple of int
        Where ``max_error`` occurs; ``analytic`` and ``numeric`` are the values there.
    """

    name: str
    layer: str
    position: int
    kind: str
    shape: tuple
    max_abs_error: float
    rel_error: float
    max_error: float
    passed: bool
    worst_index: tuple
    analytic: float
    numeric: float
    unresolved: bool = False
    noise: float | None = None
    zero: bool = False
    kink_elements: int = 0
    failing_elements: int = 0

    @property
    def status(self) -> str:
        """"ok", "zero", "unresolved" or "FAILED"."""
        if not self.passed:
            return "FAILED"
        return "zero" if self.zero else "unresolved" if self.unresolved else "ok"

    @property
    def kinked(self) -> bool:
        """Failed, and every failing element examined sits at a kink of the loss."""
        return not self.passed and 0 < self.kink_elements == min(self.failing_elements, MAX_KINK_PROBES)

    def to_dict(self) -> dict:
        """JSON-ready (standard JSON: non-finite numbers as the strings "NaN", "Infinity")."""
        out = {key: _json_number(value) for key, value in vars(self).items()}
        out["shape"] = list(self.shape)
        out["worst_index"] = list(self.worst_index)
        out["status"] = self.status
        return out

    def describe(self) -> str:
        """One line: what failed, where, and by how much."""
        verdict = self.status
        return (f"{self.name} [{self.layer}]: {verdict}, max abs error {self.max_abs_error:.3e}, "
                f"relative error {self.rel_error:.3e} (at {self.worst_index}: analytic {self.analytic:.10g}, "
                f"numeric {self.numeric:.10g})")


@dataclass
class GradcheckReport:
    """Per-tensor results of ``gradcheck``; true in a boolean context when everything passed."""

    entries: list
    eps: float
    tol: float
    objective: str
    n_samples: int
    notes: list = field(default_factory=list)
    kinks: list = field(default_factory=list)  # positions of ReLU-type layers with inputs at their kink
    rounding_error: float = 0.0  # about what rounding alone puts into a central difference here

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.entries)

    @property
    def failures(self) -> list:
        return [e for e in self.entries if not e.passed]

    @property
    def unresolved(self) -> list:
        """Entries that passed only because their gradients are small (see the module)."""
        return [e for e in self.entries if e.unresolved]

    def __bool__(self) -> bool:
        return self.passed

    def __getitem__(self, name: str) -> GradcheckEntry:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(f"no gradient check named {name!r}; have: {', '.join(e.name for e in self.entries)}")

    def summary(self) -> str:
        """One line: passed, or which tensors failed (naming their layers)."""
        if self.passed:
            line = f"gradient check passed: {len(self.entries)} tensors within tol {self.tol:g} (eps {self.eps:g})"
            zero = [e.name for e in self.entries if e.zero]
            if zero:
                line += (f"; {len(zero)} zero ({', '.join(zero)}: analytic and numeric gradients both vanish to "
                         "within rounding, zero by the network's structure (e.g. a bias followed by BatchNorm, which "
                         "subtracts it again) or too small for float64 to see)")
            if self.unresolved:
                worst = max(e.rel_error for e in self.unresolved)
                line += (f", but {len(self.unresolved)} unresolved ({', '.join(e.name for e in self.unresolved)}: "
                         f"relative error up to {worst:.2e}, within the central differences' own error; these "
                         "gradients are too small to test the derivative: try inputs, weights or targets "
                         "that make them larger)")
            return line
        names = "; ".join(f"{e.name} [{e.layer}] max abs error {e.max_abs_error:.3e}" for e in self.failures)
        return (f"gradient check FAILED for {len(self.failures)} of {len(self.entries)} tensors: {names}. "
                f"{self.origin()}")

    def origin(self) -> str:
        """Where a failure starts: backprop runs from the output back, so a wrong derivative
        spoils its own layer's gradients and every one nearer the input, and the failure
        nearest the output points at the layer to look at. Empty when everything passed."""
        if self.passed:
            return ""
        first = max(self.failures, key=lambda e: (e.position, e.kind == "input"))
        last_position = max(e.position for e in self.entries)
        where = f"{first.name} [{first.layer}] (position {first.position} in the network)"
        if all(e.max_abs_error <= 10 * self.rounding_error for e in self.failures):
            return (f"It starts at {where}, but every failure is within the central differences' rounding "
                    "error (see the note): probably not a wrong derivative")
        if first.position in self.kinks:
            return (f"It starts at {where}, which has inputs at its kink (see the note): probably the central "
                    "difference straddling the kink, not a wrong derivative")
        if first.kinked:
            later = [k for k in self.kinks if k >= first.position]
            at = f" (the layer at position {later[0]} has inputs at a kink)" if later else ""
            return (f"It starts at {where}, but its failing elements sit at a kink of the loss{at}: the one-sided "
                    "differences disagree (see the note), so probably the central difference straddling the "
                    "kink, not a wrong derivative")
        if first.position == last_position:
            text = (f"It starts at the output end, at {where}: look at that layer's backward, or at the loss's "
                    "gradient")
        else:
            text = f"It starts at {where}: every tensor nearer the output passed, so look at that layer's backward"
        if any(note.startswith(f"{first.layer}: its derivative gives the slope when handed the output") for note in
               self.notes):
            text += " (its derivative is written for the output a = g(z), not z: see the note)"
        if not any(e.kind == "input" for e in self.entries):
            text += " or at a layer after it (inputs=True checks each layer's input gradient on its own)"
            after = min((e.position for e in self.entries if e.passed and e.position > first.position),
                        default=last_position + 1)
            kinked = [k for k in self.kinks if first.position < k < after]
            if kinked:
                text += (f"; the layer at position {kinked[0]}, after it, has inputs at its kink (see the note), "
                         "which alone can do this")
        return text

    def table(self) -> str:
        """A plain-text table, one row per tensor."""
        rows = [("tensor", "layer", "shape", "max abs err", "rel err", "status")]
        for e in self.entries:
            rows.append((e.name, e.layer, "×".join(map(str, e.shape)), f"{e.max_abs_error:.3e}",
                         f"{e.rel_error:.3e}", e.status))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
                 for r in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return "\n".join([self.table(), *(f"note: {note}" for note in self.notes), self.summary()])

    def to_dict(self) -> dict:
        return {"passed": self.passed, "eps": self.eps, "tol": self.tol, "objective": self.objective,
                "n_samples": self.n_samples, "notes": list(self.notes), "origin": self.origin(),
                "rounding_error": _json_number(self.rounding_error),
                "kinks": list(self.kinks),
                "unresolved": [e.name for e in self.unresolved],
                "entries": [e.to_dict() for e in self.entries]}


#: Norm-relative error above which a passed tensor whose discrepancy lies within the numeric
#: error is "unresolved".
UNRESOLVED_REL_ERROR = 1e-2
#: Norm-relative error above which a tensor is examined further: a correct float64 check at
#: eps 1e-6 stays near 1e-9, while a derivative off by 0.5% gives 2.5e-3 at any magnitude.
REL_TOL = 1e-6
#: A discrepancy this many times the numeric error is a wrong gradient, however small.
NOISE_FACTOR = 10.0
#: Failing elements examined for kinks, per tensor (as ``gradcheck_diagnose.MAX_KINK_PROBES``).
MAX_KINK_PROBES = 50


def _json_number(value):
    """``value``, with a non-finite float as the string "NaN", "Infinity" or "-Infinity"."""
    if isinstance(value, float) and not np.isfinite(value):
        return "NaN" if np.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    return value


def _compare(name, label, position, kind, analytic, numeric, tol, noise=None) -> GradcheckEntry:
    """The verdict on one tensor. Passing needs ``max |a − n| / max(1, |a|, |n|) <= tol``
    and, where ``noise`` (the numeric gradient's own error) is given and the norm-relative
    error passes ``REL_TOL``, a largest discrepancy within ``NOISE_FACTOR · noise``: small
    gradients do not hide a wrong derivative that the numbers can resolve."""
    analytic = np.asarray(analytic, dtype=np.float64).reshape(numeric.shape)
    diff = np.abs(analytic - numeric)
    scale = np.maximum(1.0, np.maximum(np.abs(analytic), np.abs(numeric)))
    scaled = diff / scale
    with np.errstate(invalid="ignore"):
        worst = int(np.nanargmax(np.where(np.isfinite(scaled), scaled, np.inf))) if scaled.size else 0
    max_error = float(scaled.reshape(-1)[worst])
    denom = max(float(np.linalg.norm(analytic) + np.linalg.norm(numeric)), 1e-300)
    rel = float(np.linalg.norm(analytic - numeric) / denom)
    index = tuple(int(i) for i in np.unravel_index(worst, numeric.shape))
    passed = bool(np.isfinite(max_error) and max_error <= tol)
    zero = False
    if passed and noise is not None and rel > REL_TOL:
        within = float(diff.max()) <= NOISE_FACTOR * noise
        zero = bool(max(np.abs(analytic).max(), np.abs(numeric).max()) <= NOISE_FACTOR * noise)
        passed = within
    unresolved = passed and not zero and rel > UNRESOLVED_REL_ERROR
    return GradcheckEntry(name=name, layer=label, position=position, kind=kind, shape=tuple(numeric.shape),
                          max_abs_error=float(diff.max()), rel_error=rel, max_error=max_error, passed=passed,
                          worst_index=index, analytic=float(analytic.reshape(-1)[worst]),
                          numeric=float(numeric.reshape(-1)[worst]), unresolved=unresolved, noise=noise, zero=zero)


__all__ = ["GradcheckEntry", "GradcheckReport"]
