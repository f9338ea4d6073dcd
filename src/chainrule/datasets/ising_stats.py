"""Error analysis of Monte Carlo time series: blocking (Flyvbjerg & Petersen, 1989), the
jackknife over bins, and integrated autocorrelation times with Sokal's automatic window;
plus the thermodynamic observables of the Ising model with their error bars."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["blocking_error", "integrated_autocorrelation_time", "ising_observables", "jackknife_bins"]

#: Fewest blocks a blocking level may have to be trusted (its error estimate is itself
#: uncertain by about 1/sqrt(2·(blocks - 1)), 13 % at 32 blocks).
MIN_BLOCKS = 32


def blocking_error(series, *, min_blocks: int = MIN_BLOCKS) -> tuple[float, int]:
    """Standard error of the mean of a correlated time series by blocking.

    Consecutive measurements are averaged in blocks of 1, 2, 4, ... ; once blocks are longer
    than the correlation time the naive error of the block means stops growing (a plateau).
    The largest estimate among levels with at least ``min_blocks`` blocks is returned: the
    plateau value up to its noise, never an underestimate from a level below the plateau.

    Parameters
    ----------
    series : array-like, shape (n,)
        Measurements in time order.
    min_blocks : int
        Levels with fewer blocks are ignored (but level 0 is always used).

    Returns
    -------
    error : float
    block : int
        The block length whose estimate was returned.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"need at least 2 measurements for an error estimate, got {x.size}")
    levels, block = [], 1
    while x.size >= 2:
        levels.append((float(np.std(x, ddof=1) / math.sqrt(x.size)), block, x.size))
        half = x.size // 2
        x = 0.5 * (x[: 2 * half : 2] + x[1 : 2 * half : 2])
        block *= 2
    trusted = [level for level in levels if level[2] >= min_blocks] or levels[:1]
    error, block, _ = max(trusted)
    return error, block


def jackknife_bins(sums: np.ndarray, counts: np.ndarray, function) -> tuple[np.ndarray, np.ndarray]:
    """Value and jackknife error of a function of averages, from per-bin sums.

    Parameters
    ----------
    sums : ndarray, shape (n_bins, n_moments)
        Sum of each moment over the measurements of each bin.
    counts : ndarray, shape (n_bins,)
        Measurements in each bin.
    function : callable
        Maps averages of shape (..., n_moments) to the observable, shape (...).

    Returns
    -------
    value, error : float
        ``function`` of the full averages, and the leave-one-bin-out jackknife error
        ``sqrt((K-1)/K Σ_b (f_b - f̄)²)`` over K bins (NaN when K < 2).
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = sums.sum(axis=0)
    value = function(total / counts.sum())
    K = sums.shape[0]
    if K < 2:
        return value, np.nan
    left_out = (total[None] - sums) / (counts.sum() - counts)[:, None]
    f = function(left_out)
    error = np.sqrt((K - 1) / K * ((f - f.mean(axis=0)) ** 2).sum(axis=0))
    return value, error


def integrated_autocorrelation_time(series, *, window_factor: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Integrated autocorrelation time τ_int with Sokal's automatic windowing.

    τ_int = 1/2 + Σ_{t=1}^{W} ρ(t), with W the smallest window such that W >= c·τ_int(W)
    (c = ``window_factor``). With this convention the variance of the mean of n correlated
    measurements is 2 τ_int σ² / n, so measurements ``2 τ_int`` apart are effectively
    independent.

    Parameters
    ----------
    series : array-like, shape (n_t,) or (n_t, n_chains) or (n_t, n_chains, n_series)
        Measurements in time order (axis 0). Independent chains (axis 1) share one
        autocorrelation function; each trailing series gets its own τ.

    Returns
    -------
    tau : ndarray, shape of the trailing axes (a 0-d array for one series)
        In units of the measurement interval.
    error : ndarray, same shape
        Statistical error ≈ τ·sqrt(2(2W + 1)/n) (Madras & Sokal, 1988), n = n_t·n_chains.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim == 2:
        x = x[:, :, None]
    n_t = x.shape[0]
    if n_t < 4:
        raise ValueError(f"need at least 4 measurements in time, got {n_t}")
    x = x - x.mean(axis=0, keepdims=True)
    size = 1 << (2 * n_t - 1).bit_length()
    spectrum = np.fft.rfft(x, n=size, axis=0)
    acov = np.fft.irfft(spectrum * spectrum.conj(), n=size, axis=0)[:n_t].mean(axis=1)  # (n_t, n_series)
    acov /= (n_t - np.arange(n_t))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = acov / acov[0]
    rho = np.nan_to_num(rho)  # a constant series: no correlation
    tau_w = 0.5 + np.cumsum(rho[1:], axis=0)  # τ(W) for W = 1 .. n_t - 1
    windows = np.arange(1, n_t)[:, None]
    ok = windows >= window_factor * tau_w
    W = np.where(ok.any(axis=0), ok.argmax(axis=0) + 1, n_t - 1)
    tau = np.maximum(tau_w[W - 1, np.arange(tau_w.shape[1])], 0.5)
    error = tau * np.sqrt(2.0 * (2 * W + 1) / (n_t * x.shape[1]))
    return tau.squeeze(), error.squeeze()


def ising_observables(energy: np.ndarray, magnetisation: np.ndarray, temperatures: np.ndarray, L: int,
                      *, min_chains: int = 16) -> dict:
    """Thermodynamic observables per temperature with error bars, from measurements.

    Parameters
    ----------
    energy, magnetisation : ndarray, shape (n_t, n_chains, n_T)
        Energy per spin e and magnetisation per spin m (signed or absolute) measured at
        ``n_t`` times in ``n_chains`` independent chains at each temperature.
    temperatures : ndarray, shape (n_T,)
    L : int
    min_chains : int
        With at least this many chains, each chain is one bin (chains are independent by
        construction, so the error needs no assumption about correlation times). With
        fewer, bins are blocks of consecutive measurements of each chain, as long as the
        blocking analysis of e and |m| requires (at least 8 blocks per chain).

    Returns
    -------
    dict of ndarrays, shape (n_T,)
        ``energy`` ⟨e⟩, ``magnetisation`` ⟨|m|⟩, ``specific_heat`` C = N(⟨e²⟩ - ⟨e⟩²)/T²,
        ``susceptibility`` χ = N(⟨m²⟩ - ⟨|m|⟩²)/T, ``binder`` U = 1 - ⟨m⁴⟩/(3⟨m²⟩²), each
        with ``<name>_err`` (jackknife over the bins), and ``block`` (measurements per bin).
    """
    e = np.asarray(energy, dtype=np.float64)
    m = np.abs(np.asarray(magnetisation, dtype=np.float64))
    n_t, n_chains, n_T = e.shape
    N = L * L
    T = np.asarray(temperatures, dtype=np.float64)
    if n_chains >= min_chains or n_t < 16:
        block = np.full(n_T, n_t)
    else:
        block = np.empty(n_T, dtype=np.int64)
        for t in range(n_T):
            b = max(blocking_error(e[:, :, t].mean(axis=1), min_blocks=8)[1],
                    blocking_error(m[:, :, t].mean(axis=1), min_blocks=8)[1])
            block[t] = min(b, n_t // 8) if n_t >= 8 else n_t
    moments = np.stack([e, e * e, m, m * m, m**4], axis=2)  # (n_t, n_chains, 5, n_T)
    out = {name: np.empty(n_T) for name in ("energy", "magnetisation", "specific_heat", "susceptibility", "binder")}
    out.update({f"{name}_err": np.empty(n_T) for name in list(out)})
    functions = {
        "energy": lambda a: a[..., 0],
        "magnetisation": lambda a: a[..., 2],
        "specific_heat": lambda a: N * (a[..., 1] - a[..., 0] ** 2),
        "susceptibility": lambda a: N * (a[..., 3] - a[..., 2] ** 2),
        "binder": lambda a: 1.0 - a[..., 4] / np.where(a[..., 3] > 0, 3.0 * a[..., 3] ** 2, np.nan),
    }
    for t in range(n_T):
        b = int(block[t])
        usable = n_t // b * b
        bins = moments[:usable, :, :, t].reshape(usable // b, b, n_chains, 5).sum(axis=1)  # (n_blocks, chains, 5)
        sums = bins.reshape(-1, 5)
        counts = np.full(sums.shape[0], b)
        for name, f in functions.items():
            value, error = jackknife_bins(sums, counts, f)
            scale = 1.0 / T[t] ** 2 if name == "specific_heat" else 1.0 / T[t] if name == "susceptibility" else 1.0
            out[name][t] = value * scale
            out[f"{name}_err"][t] = error * scale
    out["block"] = block
    return out
