"""Finite-size extrapolation of a transition temperature: ``T(L) = T_∞ + a / L`` (ν = 1) fitted
to the estimates of several lattice sizes, unweighted (:func:`extrapolate`) or weighted by each
size's error with the errors propagated (:func:`extrapolate_weighted`, what ``chainrule ising tc``
reports)."""

from __future__ import annotations

import numpy as np


def extrapolate(sizes, estimates):
    """Least-squares fit of ``T_c(L) = T_c + a / L`` (ν = 1).

    Returns
    -------
    (tc, a) : tuple of float
        The L → ∞ intercept and the slope.
    """
    inverse, estimates = _extrapolation_points(sizes, estimates)
    slope, intercept = np.polyfit(inverse, estimates, 1)
    return float(intercept), float(slope)


def extrapolate_weighted(sizes, estimates, errors) -> dict:
    """Weighted least-squares fit of ``T(L) = T_∞ + a / L`` (ν = 1), errors propagated.

    Each size weighs 1/σ²; the intercept's error is the propagated one, ``sqrt([(XᵀWX)⁻¹]₀₀)``,
    multiplied by ``sqrt(χ²/dof)`` where that exceeds 1 (the points scatter about the line by
    more than their errors say: corrections to ν = 1 scaling, or errors left out). The errors
    carry what :func:`chainrule.ising_phases.crossing_errors` includes and nothing else.

    Parameters
    ----------
    sizes : sequence of int
    estimates : sequence of float
    errors : sequence of float
        One per size, finite and > 0.

    Returns
    -------
    dict
        ``tc`` (T_∞), ``tc_err``, ``a``, ``a_err``, ``chi2``, ``dof`` (sizes - 2) and ``scaled``
        (True where the errors were multiplied by sqrt(χ²/dof)).

    Raises
    ------
    ValueError
        As :func:`extrapolate`, or for errors that are not finite and > 0.
    """
    inverse, estimates = _extrapolation_points(sizes, estimates)
    errors = np.asarray(errors, dtype=float)
    if errors.shape != estimates.shape or not np.all(np.isfinite(errors) & (errors > 0)):
        raise ValueError(f"need one finite error > 0 per size, got {errors.tolist()}")
    design = np.column_stack([np.ones_like(inverse), inverse])
    weights = 1.0 / errors**2
    cov = np.linalg.inv(design.T @ (weights[:, None] * design))
    coef = cov @ design.T @ (weights * estimates)
    chi2 = float(np.sum(weights * (estimates - design @ coef) ** 2))
    dof = inverse.size - 2
    scale = np.sqrt(chi2 / dof) if dof > 0 and chi2 > dof else 1.0
    return {"tc": float(coef[0]), "tc_err": float(np.sqrt(cov[0, 0]) * scale), "a": float(coef[1]),
            "a_err": float(np.sqrt(cov[1, 1]) * scale), "chi2": chi2, "dof": dof, "scaled": bool(scale > 1.0)}


def _extrapolation_points(sizes, estimates):
    """``(1/L, T_c(L))`` as arrays, checked: one estimate per size, two different sizes at least."""
    sizes = np.asarray(sizes, dtype=float)
    estimates = np.asarray(estimates, dtype=float)
    if sizes.shape != estimates.shape or sizes.ndim != 1:
        raise ValueError(f"{sizes.size} sizes but {estimates.size} estimates: one estimate per size is needed")
    if np.unique(sizes).size < 2:
        raise ValueError("extrapolation needs at least two different lattice sizes")
    return 1.0 / sizes, estimates


__all__ = ["extrapolate", "extrapolate_weighted"]
