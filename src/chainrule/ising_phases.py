"""Machine learning phases of matter on real Monte Carlo configurations of the 2-D Ising model.

Two experiments, both with the network of Carrasquilla & Melko (Nature Physics 13, 431 (2017)):
L² inputs, 100 sigmoid hidden units, a 2-way softmax.

- :func:`classify` (supervised): configurations labelled ordered (T < T_c) or disordered, the
  estimate is where the two mean outputs cross on held-out configurations. :func:`extrapolate`
  fits ``T_c(L) = T_c + a / L`` (ν = 1) to the crossings of several sizes.
- :func:`confusion` ("learning by confusion", van Nieuwenburg, Liu & Huber, Nature Physics 13, 435
  (2017)): retrain with every trial critical temperature T'; the held-out accuracy against T' is
  W-shaped and its inner peak is the estimate. The exact T_c is used nowhere.

Training uses the lattice's symmetries, which leave the phase unchanged: every configuration
also enters with all spins reversed (Z2), and ``translations`` more copies, each shifted by a
random lattice vector, put through a random one of the square's 8 rotations/reflections and a
random global sign (periodic boundaries make these exact symmetries of the Boltzmann weight).
Without them the 100 000-weight network memorises the ~10⁴ training configurations (training
accuracy 0.999 against 0.96 held out at L = 32) and its crossing drifts by ~1% from seed to seed.
"""

from __future__ import annotations

import math

import numpy as np

from .datasets.ising_exact import T_C
from .datasets.ising_lattice import check_count

#: Mean outputs between these bounds take part in the straight-line fit of the crossing.
CROSSING_WINDOW = (0.2, 0.8)
#: The mean output "ordered" must run from above the upper to below the lower value for a
#: crossing to mean anything.
SEPARATED = (0.3, 0.7)
#: The mean output "ordered" over the coldest quarter of the temperatures must reach the upper
#: value, over the hottest quarter stay below the lower one (:func:`crossing`).
ENDS = (0.3, 0.7)
#: Fewest configurations per temperature: a quarter of them is held out (:func:`split_samples`).
MIN_SAMPLES = 4
#: Learning by confusion: the inner peak's held-out accuracy must beat that of always predicting
#: the larger side of its split by this much (:func:`confusion_peak`).
CONFUSION_MARGIN = 0.1
#: Mini-batch size, and the fewest Adam steps a phase network takes however small the data.
BATCH, MIN_STEPS = 64, 1500


def paper_network(n_inputs: int, rng):
    """``n_inputs → 100 sigmoid → 2`` (logits; the cross-entropy loss applies the softmax)."""
    from . import Dense, Sequential, Sigmoid

    return Sequential([Dense(n_inputs, 100, rng=rng), Sigmoid(), Dense(100, 2, rng=rng)], dtype="float32")


def split_samples(samples, seed: int):
    """Flattened configurations, their temperatures and a held-out quarter per temperature.

    Raises
    ------
    ValueError
        With fewer than :data:`MIN_SAMPLES` configurations per temperature (with one, the only
        configuration is held out and nothing is left to train on).

    Returns
    -------
    X : ndarray of float32, shape (n_T · n, L²)
    temps : ndarray, shape (n_T · n,)
    test : ndarray of bool, shape (n_T · n,)
    """
    n_T, n, L, _ = samples.configs.shape
    if n < MIN_SAMPLES:
        raise ValueError(f"the dataset has {n} configuration{'s' if n != 1 else ''} per temperature; at least "
                         f"{MIN_SAMPLES} are needed (a quarter of them is held out to test the networks, the rest "
                         "trains them)")
    X = samples.configs.reshape(n_T * n, L * L).astype(np.float32)
    temps = np.repeat(samples.temperatures, n)
    rng = np.random.default_rng(seed)
    test = np.zeros(n_T * n, dtype=bool)
    for i in range(n_T):
        test[i * n + rng.permutation(n)[: max(1, n // 4)]] = True
    return X, temps, test


def symmetric_copies(X, y, L: int, translations: int, rng):
    """The training set enlarged by symmetries of the periodic square lattice.

    Parameters
    ----------
    X : ndarray, shape (m, L²)
        Flattened configurations.
    y : ndarray, shape (m,)
    L : int
    translations : int
        Extra copies beyond ``X`` and ``-X``; each is ``X`` shifted by one random lattice vector,
        turned by one random element of the square's symmetry group and multiplied by a random
        global sign (one draw per copy, shared by all configurations of that copy).
    rng : numpy.random.Generator

    Returns
    -------
    X_aug : ndarray, shape ((2 + translations) · m, L²)
    y_aug : ndarray, shape ((2 + translations) · m,)
    """
    grids = X.reshape(-1, L, L)
    copies = [grids, -grids]
    for _ in range(translations):
        shift = tuple(int(v) for v in rng.integers(0, L, 2))
        moved = np.rot90(np.roll(grids, shift, axis=(1, 2)), k=int(rng.integers(4)), axes=(1, 2))
        if rng.random() < 0.5:
            moved = moved[:, :, ::-1]
        copies.append(moved if rng.random() < 0.5 else -moved)
    X_aug = np.concatenate([np.ascontiguousarray(c) for c in copies]).reshape(-1, L * L)
    return X_aug, np.tile(y, len(copies))


def train_phase_network(X, y, L: int, *, epochs: int, translations: int, rng):
    """One paper network trained on ``(X, y)`` and its symmetric copies.

    Adam (α = 10⁻³, L2 10⁻⁴) in mini-batches of 64 with a cosine decay of α over ``epochs``, so
    the last epochs settle instead of leaving the decision boundary where the last batches
    pushed it. A small data set gets more epochs, enough for :data:`MIN_STEPS` Adam steps (eight
    epochs of a few hundred configurations per temperature are a few hundred steps, too few
    for the 100k-weight network to separate the phases).
    """
    from .optim import Adam
    from .optim.schedules import CosineDecay

    X_aug, y_aug = symmetric_copies(X, y, L, translations, rng)
    net = paper_network(X.shape[1], rng)
    epochs = max(epochs, math.ceil(MIN_STEPS / math.ceil(len(y_aug) / BATCH)))
    net.fit(X_aug, y_aug, loss="cross_entropy", optimizer=Adam(1e-3, l2=1e-4, schedule=CosineDecay(period=epochs)),
            epochs=epochs, batch_size=BATCH, verbose=0, rng=rng)
    return net


def classify(samples, epochs: int = 8, seed: int = 0, networks: int = 3, translations: int = 2,
             tc_label: float = T_C) -> dict:
    """Supervised phase classification and the temperature where the two outputs cross.

    Parameters
    ----------
    samples : IsingSamples
        Configurations at several temperatures on both sides of ``tc_label``.
    epochs : int
        Passes over the (enlarged) training set.
    seed : int
        Seeds the held-out split, the initial weights and the shuffling.
    networks : int
        Independently initialised networks whose held-out outputs are averaged (an ensemble:
        less seed-to-seed scatter in the crossing).
    translations : int
        Symmetry copies per configuration beyond the spin-flipped one (:func:`symmetric_copies`).
    tc_label : float
        The temperature that separates the two labels (the exact T_c).

    Returns
    -------
    dict
        ``tc`` (the crossing), ``temperatures`` (n_T,), ``p_ordered`` (n_T,) the ensemble's mean
        output "ordered" per temperature, ``tc_members`` (the crossing of each network alone) and
        ``test_accuracy`` of the ensemble.
    """
    epochs, networks = check_count("epochs", epochs), check_count("networks", networks)
    translations = check_count("translations", translations, minimum=0)
    T = samples.temperatures
    if not (T.min() < tc_label < T.max()):
        raise ValueError(f"the temperatures ({T.min():g}..{T.max():g}) must lie on both sides of T_c = {tc_label:g}")
    X, temps, test = split_samples(samples, seed)
    y = (temps >= tc_label).astype(np.int64)  # 0: ordered, 1: disordered
    rng = np.random.default_rng(seed)
    outputs = []
    for _ in range(networks):
        net = train_phase_network(X[~test], y[~test], samples.L, epochs=epochs, translations=translations, rng=rng)
        outputs.append(net.predict(X[test])[:, 0])
    p_test = np.mean(outputs, axis=0)
    at_T = [temps[test] == t for t in T]
    members = []
    for p in outputs:
        try:
            members.append(crossing(T, np.array([p[mask].mean() for mask in at_T])))
        except ValueError:
            members.append(float("nan"))
    p_ordered = np.array([p_test[mask].mean() for mask in at_T])
    return {"tc": crossing(T, p_ordered), "temperatures": T, "p_ordered": p_ordered, "tc_members": members,
            "test_accuracy": float(((p_test < 0.5) == y[test]).mean())}


def crossing(T, p_ordered) -> float:
    """Temperature where the mean output "ordered" falls through ½ (where the two outputs cross).

    A straight line is fitted to the points around the first downward crossing whose values lie
    in :data:`CROSSING_WINDOW` (three or more such neighbours: a least-squares line averages the
    statistical noise of each point); with fewer, the two points either side are interpolated.

    Parameters
    ----------
    T : ndarray, shape (n_T,)
        Increasing temperatures.
    p_ordered : ndarray, shape (n_T,)

    Raises
    ------
    ValueError
        If the curve never falls through ½, does not run from above 0.7 to below 0.3
        (:data:`SEPARATED`), or is not clearly ordered at the cold end and disordered at the hot
        end: its mean over the coldest quarter of the temperatures must be at least 0.7 and over
        the hottest quarter at most 0.3 (:data:`ENDS`; a quarter is at least two points, at
        most half of them). A network that has not separated the phases has no meaningful
        crossing, and a single noisy point above 0.7 or below 0.3 does not show that it has.
    """
    T, p = np.asarray(T, dtype=float), np.asarray(p_ordered, dtype=float)
    down = np.flatnonzero((p[:-1] >= 0.5) & (p[1:] < 0.5))
    if down.size == 0:
        raise ValueError("the network's outputs never cross: it did not learn the two phases")
    if p.max() < SEPARATED[1] or p.min() > SEPARATED[0]:
        raise ValueError(f"the network did not separate the phases: its mean output 'ordered' only spans "
                         f"{p.min():.2f}..{p.max():.2f} over T = {T[0]:g}..{T[-1]:g} (it should run from above "
                         f"{SEPARATED[1]:g} to below {SEPARATED[0]:g}); more samples per temperature, more epochs "
                         "or a wider temperature range help")
    k = _end_points(p.size)
    cold, hot = float(p[:k].mean()), float(p[-k:].mean())
    if cold < ENDS[1] or hot > ENDS[0]:
        raise ValueError(f"the network did not separate the phases: its mean output 'ordered' averages "
                         f"{cold:.2f} over the {k} coldest temperatures (T = {T[0]:g}..{T[k - 1]:g}) and {hot:.2f} "
                         f"over the {k} hottest (T = {T[-k]:g}..{T[-1]:g}); it should be at least {ENDS[1]:g} at the "
                         f"cold end and at most {ENDS[0]:g} at the hot end (it spans {p.min():.2f}..{p.max():.2f}); "
                         "more samples per temperature, more epochs or a wider temperature range help")
    i = int(down[0])
    lo, hi = CROSSING_WINDOW
    first, last = i, i + 1
    while first > 0 and lo < p[first - 1] < hi:
        first -= 1
    while last < len(p) - 1 and lo < p[last + 1] < hi:
        last += 1
    inside = [k for k in range(first, last + 1) if lo < p[k] < hi]
    if len(inside) >= 3:
        slope, intercept = np.polyfit(T[inside], p[inside], 1)
        if slope < 0:
            return float(np.clip((0.5 - intercept) / slope, T[first], T[last]))
    return float(T[i] + (p[i] - 0.5) * (T[i + 1] - T[i]) / (p[i] - p[i + 1]))


def _end_points(n: int) -> int:
    """How many temperatures make up the cold (or hot) end of ``n``: a quarter, at least two but
    at most half of them (one of three)."""
    return max(1, min(max(2, n // 4), n // 2))


def extrapolate(sizes, estimates):
    """Least-squares fit of ``T_c(L) = T_c + a / L`` (ν = 1).

    Returns
    -------
    (tc, a) : tuple of float
        The L → ∞ intercept and the slope.
    """
    sizes = np.asarray(sizes, dtype=float)
    if sizes.size < 2 or np.unique(sizes).size < 2:
        raise ValueError("extrapolation needs at least two different lattice sizes")
    slope, intercept = np.polyfit(1.0 / sizes, np.asarray(estimates, dtype=float), 1)
    return float(intercept), float(slope)


def extrapolate_error(sizes, estimates):
    """Standard error of the intercept of :func:`extrapolate`'s fit ``T_c(L) = T_c + a / L``.

    The ordinary least-squares error ``s · sqrt([(XᵀX)⁻¹]₀₀)``, with ``s²`` the residual sum of
    squares over ``n - 2`` degrees of freedom (what ``np.polyfit(..., cov="unscaled")`` scaled
    by ``s²`` gives). It reflects only how far the estimates scatter about the straight line, not
    corrections to ν = 1 scaling nor an error known for each size; with four sizes (two degrees
    of freedom) it is itself rough.

    Parameters
    ----------
    sizes : sequence of int
    estimates : sequence of float
        ``T_c(L)`` per size, as given to :func:`extrapolate`.

    Returns
    -------
    float or None
        None when there are only two different sizes or fewer than three points: a line through
        two points fits them exactly and leaves no residual to estimate the scatter from.

    Raises
    ------
    ValueError
        If ``sizes`` and ``estimates`` differ in length, or there are fewer than two different
        sizes (as :func:`extrapolate`).
    """
    sizes = np.asarray(sizes, dtype=float)
    estimates = np.asarray(estimates, dtype=float)
    if sizes.shape != estimates.shape or sizes.ndim != 1:
        raise ValueError(f"{sizes.size} sizes but {estimates.size} estimates: one estimate per size is needed")
    if sizes.size < 2 or np.unique(sizes).size < 2:
        raise ValueError("extrapolation needs at least two different lattice sizes")
    if sizes.size < 3:
        return None
    design = np.column_stack([np.ones_like(sizes), 1.0 / sizes])
    coef, *_ = np.linalg.lstsq(design, estimates, rcond=None)
    residual = estimates - design @ coef
    variance = float(residual @ residual) / (sizes.size - 2)
    return float(np.sqrt(variance * np.linalg.inv(design.T @ design)[0, 0]))


def confusion(samples, epochs: int = 8, seed: int = 0, translations: int = 1, networks: int = 2) -> dict:
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
        As for :func:`classify`.
    networks : int
        Networks per trial whose outputs are averaged (2: the peak's apex scattered about 25%
        less between data sets at L = 32 than with one, for twice the time).

    Returns
    -------
    dict
        ``tc``, ``trials`` (n_T - 1,), ``accuracy`` (n_T - 1,), ``peak`` (the trials fitted),
        ``baseline`` (n_T - 1,): the held-out accuracy of always predicting the larger side of
        each trial's split.

    Raises
    ------
    ValueError
        Besides bad settings, if the accuracy curve has no inner peak or its peak does not beat
        ``baseline`` by :data:`CONFUSION_MARGIN` (:func:`confusion_peak`): the networks learned
        nothing beyond the label proportions, or the temperatures do not span the transition.
    """
    epochs, networks = check_count("epochs", epochs), check_count("networks", networks)
    translations = check_count("translations", translations, minimum=0)
    T = samples.temperatures
    if T.size < 7:
        raise ValueError(f"learning by confusion needs at least 7 temperatures; got {T.size}")
    X, temps, test = split_samples(samples, seed)
    trials = (T[:-1] + T[1:]) / 2
    accuracy, baseline = [], []
    for trial in trials:
        y = (temps >= trial).astype(np.int64)
        share = float(y[test].mean())
        baseline.append(max(share, 1.0 - share))  # always predicting the larger side
        p_disordered = 0.0
        for k in range(networks):
            net = train_phase_network(X[~test], y[~test], samples.L, epochs=epochs, translations=translations,
                                      rng=np.random.default_rng([seed, k]))
            p_disordered = p_disordered + net.predict(X[test])[:, 1] / networks
        accuracy.append(float(((p_disordered >= 0.5) == y[test]).mean()))
    accuracy, baseline = np.array(accuracy), np.array(baseline)
    tc, peak = confusion_peak(trials, accuracy, baseline=baseline)
    return {"tc": tc, "trials": trials, "accuracy": accuracy, "peak": peak, "baseline": baseline}


def confusion_peak(trials, accuracy, *, baseline=None, margin: float = CONFUSION_MARGIN):
    """The inner peak of a W-shaped accuracy curve, located between trials by a "tent" fit.

    The inner peak is the trial standing highest above the lowest accuracies on both of its
    sides (the two outer ends, trivially accurate because one label dominates, have no dip on
    their outer side). Its top half — the neighbouring trials above the midpoint between the
    peak and the higher of the two dips, and at least two trials on each side of it — is fitted
    by least squares with two straight flanks
    meeting at the apex ``t0``, with independent slopes: the peak is skewed (it falls off more
    slowly on the disordered side), which biases a parabola towards high T, and using every
    point of the top half averages the noise a single highest trial carries.

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
    while first > 0 and accuracy[first - 1] >= floor:
        first -= 1
    while last < n - 1 and accuracy[last + 1] >= floor:
        last += 1
    first, last = max(0, min(first, best - 2)), min(n - 1, max(last, best + 2))  # two points on each flank
    T, acc = trials[first : last + 1], accuracy[first : last + 1]
    if T.size < 5:
        return float(trials[best]), T
    apexes = np.linspace(T[0], T[-1], 20 * (T.size - 1) + 1)
    errors = []
    for t0 in apexes:
        design = np.column_stack([np.ones_like(T), -np.clip(t0 - T, 0, None), -np.clip(T - t0, 0, None)])
        coef = np.linalg.lstsq(design, acc, rcond=None)[0]
        errors.append(float(np.sum((design @ coef - acc) ** 2)))
    return float(apexes[int(np.argmin(errors))]), T


def default_temperatures(steps: int = 26, fine_step: float = 0.05):
    """``steps`` temperatures from 1.0 to 3.5 plus a finer grid from 1.9 to 2.7 around T_c (which
    the supervised labels use anyway), where the crossing is located."""
    coarse = np.linspace(1.0, 3.5, steps)
    fine = np.arange(1.9, 2.7 + 1e-9, fine_step)
    return np.unique(np.round(np.concatenate([coarse, fine]), 6))


__all__ = ["CROSSING_WINDOW", "classify", "confusion", "confusion_peak", "crossing", "default_temperatures",
           "extrapolate", "extrapolate_error", "paper_network", "split_samples", "symmetric_copies", "train_phase_network"]
