"""Learning by confusion (van Nieuwenburg, Liu & Huber, Nature Physics 13, 435 (2017)) on real
Monte Carlo configurations of the 2-D Ising model: T_c without using its exact value.

The networks, the held-out split and the symmetry-augmented training are those of the
supervised experiment (:mod:`chainrule.ising_phases`); only the labels change, once per trial
critical temperature.
"""

from __future__ import annotations

import numpy as np

from .datasets.ising_lattice import check_count, check_increasing
from .ising_phases import epochs_note, error_summary, split_samples, train_phase_network, training_epochs

#: The inner peak's held-out accuracy must beat that of always predicting the larger side of its
#: split by this much (:func:`confusion_peak`).
CONFUSION_MARGIN = 0.1


def confusion(samples, epochs: int = 8, seed: int = 0, translations: int = 1, networks: int = 2,
              bootstrap: int = 200) -> dict:
    """Learning by confusion: T_c from the W-shaped accuracy curve, without the exact value.

    For each trial T' halfway between neighbouring sampled temperatures, configurations are
    labelled by T < T' and fresh networks are trained; the held-out accuracy of their averaged
    output is trivially high when T' is at either end (one label dominates), dips in between,
    and peaks again where the labels agree with the real phases. The estimate is the apex of
    that inner peak (:func:`confusion_peak`). Every trial trains from the same initial weights
    and the same symmetry copies, so the curve's point-to-point noise comes from the labels.

    Parameters
    ----------
    samples : IsingSamples
    epochs, seed, translations
        As for :func:`chainrule.ising_phases.classify`.
    networks : int
        Networks per trial whose outputs are averaged (2: the peak's apex scattered about 25%
        less between data sets at L = 32 than with one, for twice the time).
    bootstrap : int
        Resamples of the held-out configurations for ``tc_bootstrap_err`` (0: none).

    Returns
    -------
    dict
        ``tc``, ``trials`` (n_T - 1,), ``accuracy`` (n_T - 1,), ``peak`` (the trials fitted),
        ``baseline`` (n_T - 1,): the held-out accuracy of always predicting the larger side of
        each trial's split; ``epochs``, those each network trained (``--epochs`` raised where it
        gives too few Adam steps, :func:`chainrule.ising_phases.training_epochs`); ``tent``, the
        fitted flanks to draw (:func:`confusion_tent`); ``tc_bootstrap_err`` (the apex found
        again on the held-out configurations resampled with replacement per temperature, from
        the outputs already computed), ``tc_network_err`` (the standard deviation of the apexes
        the single networks give, over √networks; NaN with one network) and ``tc_err``, both in
        quadrature. They leave out the Monte Carlo noise of the training configurations and
        the dependence on the training budget (samples, epochs): rerun on data of other seeds
        to see those.

    Raises
    ------
    ValueError
        Besides bad settings and temperatures that are not strictly increasing, if the accuracy curve has no inner peak or its peak does not beat
        ``baseline`` by :data:`CONFUSION_MARGIN` (:func:`confusion_peak`): the networks learned
        nothing beyond the label proportions, or the temperatures do not span the transition.
    """
    epochs, networks = check_count("epochs", epochs), check_count("networks", networks)
    translations = check_count("translations", translations, minimum=0)
    T = check_increasing(samples.temperatures, "the dataset's temperatures")
    if T.size < 7:
        raise ValueError(f"learning by confusion needs at least 7 temperatures; got {T.size}")
    X, temps, test = split_samples(samples, seed)
    trials = (T[:-1] + T[1:]) / 2
    bootstrap = check_count("bootstrap", bootstrap, minimum=0)
    accuracy, baseline = [], []
    right = np.empty((trials.size, int(test.sum())), dtype=bool)  # the ensemble right on each held-out configuration
    member_right = np.empty((networks, trials.size, int(test.sum())), dtype=bool)
    for t, trial in enumerate(trials):
        y = (temps >= trial).astype(np.int64)
        share = float(y[test].mean())
        baseline.append(max(share, 1.0 - share))  # always predicting the larger side
        p_disordered = 0.0
        for k in range(networks):
            net = train_phase_network(X[~test], y[~test], samples.L, epochs=epochs, translations=translations,
                                      rng=np.random.default_rng([seed, k]))
            p_member = net.predict(X[test])[:, 1]
            member_right[k, t] = (p_member >= 0.5) == y[test]
            p_disordered = p_disordered + p_member / networks
        right[t] = (p_disordered >= 0.5) == y[test]
        accuracy.append(float(right[t].mean()))
    accuracy, baseline = np.array(accuracy), np.array(baseline)
    used = training_epochs(int((~test).sum()), epochs, translations)
    try:
        tc, peak = confusion_peak(trials, accuracy, baseline=baseline)
    except ValueError as exc:
        raise ValueError(f"{exc}{epochs_note(used, epochs)}") from None
    errors = _confusion_errors(trials, T, temps[test], right, member_right, bootstrap,
                               np.random.default_rng([seed, 2017]))
    return {"tc": tc, "trials": trials, "accuracy": accuracy, "peak": peak, "baseline": baseline, "epochs": used,
            "tent": confusion_tent(trials, accuracy, tc, peak), **errors}


def _apex(trials, accuracy) -> float:
    """:func:`confusion_peak`'s apex, NaN where the curve has none."""
    try:
        return confusion_peak(trials, accuracy)[0]
    except ValueError:
        return float("nan")


def _confusion_errors(trials, T, test_temps, right, member_right, n_resamples: int, rng) -> dict:
    """Bootstrap over held-out configurations (resampled per temperature, the same draw for
    every trial: they are the same configurations) and the single networks' spread, as
    :func:`chainrule.ising_phases.crossing_errors` for the supervised crossing."""
    rows = [np.flatnonzero(test_temps == t) for t in T]
    apexes = []
    for _ in range(n_resamples):
        pick = np.concatenate([idx[rng.integers(0, idx.size, idx.size)] for idx in rows])
        apexes.append(_apex(trials, right[:, pick].mean(axis=1)))
    members = [_apex(trials, r.mean(axis=1)) for r in member_right]
    return error_summary(apexes, members) | {"tc_members": members,
                                              "bootstrap_failed": int(np.sum(~np.isfinite(apexes)))}


def confusion_peak(trials, accuracy, *, baseline=None, margin: float = CONFUSION_MARGIN):
    """The inner peak of a W-shaped accuracy curve, located between trials by a "tent" fit.

    The inner peak is the trial standing highest above the lowest accuracies on both of its
    sides (the two outer ends, trivially accurate because one label dominates, have no dip on
    their outer side). Its top half — the neighbouring trials above the midpoint between the
    peak and the higher of the two dips, going down from it without turning up again, and at
    least two trials on each side of it — is fitted
    by least squares with two straight flanks
    meeting at the apex ``t0``, with independent slopes: the peak is skewed (it falls off more
    slowly on the disordered side), which biases a parabola towards high T, and using every
    point of the top half averages the noise a single highest trial carries. The apex is
    sought between the peak trial's two neighbours, so it stays on the peak and each flank
    keeps at least two of the trials fitted.

    Parameters
    ----------
    trials, accuracy : ndarray, shape (n,)
        Increasing trial temperatures (at least three) and the held-out accuracy at each.
    baseline : ndarray, shape (n,), optional
        The accuracy of always predicting the larger side of each trial's split; the peak trial
        must beat it by ``margin``.
    margin : float

    Returns
    -------
    (tc, peak) : float and ndarray of the trial temperatures fitted

    Raises
    ------
    ValueError
        If no inner trial stands above the lowest accuracies on both of its sides (a V or a
        monotonic curve, not a W: nothing to locate), or the peak trial's accuracy is less than
        ``margin`` above its ``baseline`` (a W made by the label proportions alone).
    """
    trials, accuracy = np.asarray(trials, dtype=float), np.asarray(accuracy, dtype=float)
    n = trials.size
    if n < 3 or accuracy.shape != trials.shape:
        raise ValueError(f"learning by confusion needs an accuracy for each of at least 3 trials; got "
                         f"{accuracy.size} accuracies for {n} trials")
    height = [accuracy[k] - max(accuracy[:k].min(), accuracy[k + 1 :].min()) for k in range(1, n - 1)]
    best = int(np.argmax(height)) + 1
    if height[best - 1] <= 0:
        raise ValueError(f"learning by confusion found no inner peak: no trial's accuracy stands above the lowest "
                         f"accuracies on both of its sides (accuracy {accuracy.min():.3f}..{accuracy.max():.3f} "
                         f"over T' = {trials[0]:g}..{trials[-1]:g}); the temperatures may not span the transition, "
                         "or the networks learned nothing")
    if baseline is not None:
        base = float(np.asarray(baseline, dtype=float)[best])
        if accuracy[best] < base + margin:
            raise ValueError(f"the networks did not learn the phases: the inner peak's accuracy {accuracy[best]:.3f} "
                             f"at T' = {trials[best]:g} is not clearly above {base:.3f}, that of always predicting "
                             f"the larger side (it should beat it by {margin:g}); the temperatures may not span the "
                             "transition, or more samples per temperature or more epochs are needed")
    dips = max(accuracy[:best].min(), accuracy[best + 1 :].min())
    floor = dips + 0.5 * (accuracy[best] - dips)
    first, last = best, best
    # a flank ends where the curve turns up again: past that lies the far side of a dip (an
    # outlier there would otherwise be fitted as part of the peak)
    while first > 0 and floor <= accuracy[first - 1] <= accuracy[first]:
        first -= 1
    while last < n - 1 and floor <= accuracy[last + 1] <= accuracy[last]:
        last += 1
    first, last = max(0, min(first, best - 2)), min(n - 1, max(last, best + 2))  # two points on each flank
    T, acc = trials[first : last + 1], accuracy[first : last + 1]
    if T.size < 5:
        return float(trials[best]), T
    # the apex stays between the peak trial's neighbours: searched over the whole window, an
    # outlier at its end could take a flank of its own (a perfect one-point fit) and pull the
    # apex away from the peak that is drawn
    apexes = np.linspace(trials[best - 1], trials[best + 1], 41)
    errors = []
    for t0 in apexes:
        design, coef = _tent_fit(T, acc, t0)
        errors.append(float(np.sum((design @ coef - acc) ** 2)))
    return float(apexes[int(np.argmin(errors))]), T


def confusion_tent(trials, accuracy, tc, peak):
    """The two straight flanks :func:`confusion_peak` fitted, as a line to draw.

    Parameters
    ----------
    trials, accuracy : ndarray, shape (n,)
        As given to :func:`confusion_peak`.
    tc : float
        The apex it returned.
    peak : ndarray
        The trial temperatures it fitted.

    Returns
    -------
    (ndarray, ndarray) or None
        The tent's three corners, ``([peak[0], tc, peak[-1]], accuracies)``; None where
        :func:`confusion_peak` fitted nothing (fewer than 5 trials: ``tc`` is the peak trial).
    """
    trials, accuracy, peak = (np.asarray(a, dtype=float) for a in (trials, accuracy, peak))
    if peak.size < 5:
        return None
    fitted = np.isin(trials, peak)
    T, acc = trials[fitted], accuracy[fitted]
    _, (level, left, right) = _tent_fit(T, acc, tc)
    x = np.array([T[0], tc, T[-1]])
    return x, np.array([level - left * (tc - T[0]), level, level - right * (T[-1] - tc)])


def _tent_fit(T, acc, t0):
    """Least-squares tent with its apex at ``t0``: the design matrix and (level at the apex,
    rise per unit T of the left flank, fall per unit T of the right one)."""
    design = np.column_stack([np.ones_like(T), -np.clip(t0 - T, 0, None), -np.clip(T - t0, 0, None)])
    return design, np.linalg.lstsq(design, acc, rcond=None)[0]


__all__ = ["CONFUSION_MARGIN", "confusion", "confusion_peak", "confusion_tent"]
