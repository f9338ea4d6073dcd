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
        Passed with a norm-relative error above ``UNRESOLVED_REL_ERROR``: possible only
        through the absolute tolerance on small entries, which are then too small to test.
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

    @property
    def status(self) -> str:
        """"ok", "unresolved" or "FAILED"."""
        return "FAILED" if not self.passed else "unresolved" if self.unresolved else "ok"

    def to_dict(self) -> dict:
        out = dict(vars(self))
        out["shape"] = list(self.shape)
        out["worst_index"] = list(self.worst_index)
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
            if self.unresolved:
                worst = max(e.rel_error for e in self.unresolved)
                line += (f", but {len(self.unresolved)} unresolved ({', '.join(e.name for e in self.unresolved)}: "
                         f"passed on the absolute tolerance only, relative error up to {worst:.2e}; these "
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
        where = f"{first.name} [{first.layer}] (layer {first.position})"
        if all(e.max_abs_error <= 10 * self.rounding_error for e in self.failures):
            return (f"It starts at {where}, but every failure is within the central differences' rounding "
                    "error (see the note): probably not a wrong derivative")
        if first.position in self.kinks:
            return (f"It starts at {where}, which has inputs at its kink (see the note): probably the central "
                    "difference straddling the kink, not a wrong derivative")
        if first.position == last_position:
            text = (f"It starts at the output end, at {where}: look at that layer's backward, or at the loss's "
                    "gradient")
        else:
            text = f"It starts at {where}: every tensor nearer the output passed, so look at that layer's backward"
        if not any(e.kind == "input" for e in self.entries):
            text += " or at a layer after it (inputs=True checks each layer's input gradient on its own)"
            after = min((e.position for e in self.entries if e.passed and e.position > first.position),
                        default=last_position + 1)
            kinked = [k for k in self.kinks if first.position < k < after]
            if kinked:
                text += (f"; layer {kinked[0]}, after it, has inputs at its kink (see the note), which alone "
                         "can do this")
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
                "kinks": list(self.kinks),
                "unresolved": [e.name for e in self.unresolved],
                "entries": [e.to_dict() for e in self.entries]}


#: Norm-relative error above which a pass on the absolute tolerance alone is "unresolved".
UNRESOLVED_REL_ERROR = 1e-2


def _compare(name, label, position, kind, analytic, numeric, tol) -> GradcheckEntry:
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
    unresolved = passed and rel > UNRESOLVED_REL_ERROR
    return GradcheckEntry(name=name, layer=label, position=position, kind=kind, shape=tuple(numeric.shape),
                          max_abs_error=float(diff.max()), rel_error=rel, max_error=max_error, passed=passed,
                          worst_index=index, analytic=float(analytic.reshape(-1)[worst]),
                          numeric=float(numeric.reshape(-1)[worst]), unresolved=unresolved)


__all__ = ["GradcheckEntry", "GradcheckReport"]
