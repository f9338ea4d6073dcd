"""Machine learning phases of matter on real Monte Carlo configurations of the 2-D Ising model.

Two experiments, both with the network of Carrasquilla & Melko (Nature Physics 13, 431 (2017)):
L² inputs, 100 sigmoid hidden units, a 2-way softmax.

- :func:`classify` (supervised): configurations labelled ordered (T < ``tc_label``, by default
  the exact T_c) or disordered; the result is where the two mean outputs cross on held-out
  configurations. The networks are taught the threshold, and the crossing follows it (with
  labels at 2.45 or 2.1 it comes out near 2.4 or 2.13): it is a consistency check of how far
  the network's crossing moves from the threshold it was taught, not a measurement of T_c.
  :func:`extrapolate_weighted` fits ``T(L) = T_∞ + a / L`` (ν = 1) to the crossings of several
  sizes, with their errors.
- :func:`chainrule.ising_confusion.confusion` ("learning by confusion", van Nieuwenburg, Liu &
  Huber, Nature Physics 13, 435 (2017)) uses the same network, data split and training: retrain
  with every trial critical temperature T'; the held-out accuracy against T' is W-shaped and its
  inner peak is the estimate. The exact T_c is used nowhere.

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
from .datasets.ising_lattice import check_count, check_increasing
from .ising_extrapolation import extrapolate, extrapolate_weighted  # noqa: F401  (part of this module's API)

#: Mean outputs between these bounds take part in the straight-line fit of the crossing.
CROSSING_WINDOW = (0.2, 0.8)
#: The mean output "ordered" over the coldest quarter of the temperatures must reach the upper
#: value, over the hottest quarter stay below the lower one (:func:`crossing`).
ENDS = (0.3, 0.7)
#: Fewest configurations per temperature: a quarter of them is held out (:func:`split_samples`).
MIN_SAMPLES = 4
#: Mini-batch size, and the fewest Adam steps a phase network takes however small the data.
BATCH, MIN_STEPS = 64, 1500
#: The epochs :func:`classify` asks for when given none (raised as :func:`training_epochs` says).
DEFAULT_EPOCHS = 8


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


def training_epochs(n_train: int, epochs: int, translations: int) -> int:
    """The epochs :func:`train_phase_network` runs on ``n_train`` configurations: ``epochs``, or
    more where that gives fewer than :data:`MIN_STEPS` Adam steps (mini-batches of :data:`BATCH`
    over the configurations and their ``2 + translations`` symmetric copies)."""
    steps_per_epoch = math.ceil(n_train * (2 + translations) / BATCH)
    return max(epochs, math.ceil(MIN_STEPS / steps_per_epoch))


def epochs_note(used: int, asked: int | None) -> str:
    """What a refusal adds about the training length: with a raised epoch count, more epochs
    only help beyond it. ``asked`` None: no count was given (the default was raised)."""
    if asked is None:
        raised = f": the fewest that make {MIN_STEPS} Adam steps on this training set" if used > DEFAULT_EPOCHS else ""
        return f" (each network trained {used} epochs{raised})"
    if used > asked:
        return (f" (each network trained {used} epochs, not the {asked} given: {used} is the fewest that make "
                f"{MIN_STEPS} Adam steps on this training set, so only more than {used} epochs train longer)")
    return f" (each network trained {used} epochs)"


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
    epochs = training_epochs(len(y), epochs, translations)
    net.fit(X_aug, y_aug, loss="cross_entropy", optimizer=Adam(1e-3, l2=1e-4, schedule=CosineDecay(period=epochs)),
            epochs=epochs, batch_size=BATCH, verbose=0, rng=rng)
    return net


def classify(samples, epochs: int | None = None, seed: int = 0, networks: int = 3, translations: int = 2,
             tc_label: float = T_C, bootstrap: int = 200) -> dict:
    """Supervised phase classification and the temperature where the two outputs cross.

    Parameters
    ----------
    samples : IsingSamples
        Configurations at several temperatures on both sides of ``tc_label``.
    epochs : int, optional
        Passes over the (enlarged) training set (default :data:`DEFAULT_EPOCHS`); raised where it
        gives fewer than :data:`MIN_STEPS` Adam steps (:func:`training_epochs`).
    seed : int
        Seeds the held-out split, the initial weights and the shuffling.
    networks : int
        Independently initialised networks whose held-out outputs are averaged (an ensemble:
        less seed-to-seed scatter in the crossing).
    translations : int
        Symmetry copies per configuration beyond the spin-flipped one (:func:`symmetric_copies`).
    tc_label : float
        The temperature that separates the two labels (default: the exact T_c). The crossing
        follows it: the result measures how far the networks' crossing lands from the threshold
        they were taught, not T_c.
    bootstrap : int
        Resamples for :func:`crossing_errors` (0: none, ``tc_bootstrap_err`` is NaN).

    Returns
    -------
    dict
        ``tc`` (the crossing), ``tc_label``, ``temperatures`` (n_T,), ``p_ordered`` (n_T,) the
        ensemble's mean output "ordered" per temperature, ``tc_members`` (the crossing of each
        network alone), ``tc_bootstrap_err``, ``tc_network_err`` and ``tc_err`` (their
        quadrature sum; :func:`crossing_errors` says what they include and what they leave
        out), ``test_accuracy`` of the ensemble and ``epochs`` (those each network trained).

    Raises
    ------
    ValueError
        Before any training, for temperatures that are not strictly increasing (naming the
        first pair out of order) or do not lie on both sides of ``tc_label``; after it, as
        :func:`crossing` where the ensemble did not separate the phases, with the number of
        epochs each network trained (more epochs help only beyond a raised count).
    """
    asked = None if epochs is None else check_count("epochs", epochs)
    epochs, networks = DEFAULT_EPOCHS if asked is None else asked, check_count("networks", networks)
    translations = check_count("translations", translations, minimum=0)
    bootstrap = check_count("bootstrap", bootstrap, minimum=0)
    T = check_increasing(samples.temperatures, "the dataset's temperatures")
    if not (T.min() < tc_label < T.max()):
        raise ValueError(f"the temperatures ({T.min():g}..{T.max():g}) must lie on both sides of T_c = {tc_label:g}")
    X, temps, test = split_samples(samples, seed)
    y = (temps >= tc_label).astype(np.int64)  # 0: ordered, 1: disordered
    rng = np.random.default_rng(seed)
    used = training_epochs(int((~test).sum()), epochs, translations)
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
    try:
        tc = crossing(T, p_ordered)
    except ValueError as exc:
        raise ValueError(f"{exc}{epochs_note(used, asked)}") from None
    errors = crossing_errors(T, temps[test], p_test, members, bootstrap, rng=np.random.default_rng([seed, 2017]))
    return {"tc": tc, "tc_label": float(tc_label), "temperatures": T, "p_ordered": p_ordered, "tc_members": members,
            **errors, "test_accuracy": float(((p_test < 0.5) == y[test]).mean()), "epochs": used}


def crossing_errors(T, test_temps, p_test, members, n_resamples: int, rng) -> dict:
    """The statistical errors of a crossing: bootstrap over held-out configurations, and the
    scatter of the networks.

    - ``tc_bootstrap_err``: the held-out configurations at each temperature are resampled with
      replacement ``n_resamples`` times and the crossing of the ensemble's mean outputs found
      again (the networks are not retrained: it is the noise of the finite test set);
    - ``tc_network_err``: the standard deviation of the single networks' crossings divided by
      √(networks), the noise of initial weights and shuffling in their average (NaN with one
      network, or fewer than two that crossed);
    - ``tc_err``: both in quadrature (the bootstrap alone where the other is NaN).

    What they leave out: the Monte Carlo noise of the training configurations (another data
    seed trains other networks), and the dependence of the crossing on the training budget —
    the number of configurations per temperature and of epochs moves it by more than these
    errors (at L = 8 it went from 2.30 to 2.29 between 200 and 2000 configurations per T).

    Parameters
    ----------
    T : ndarray, shape (n_T,)
    test_temps : ndarray, shape (m,)
        The temperature of each held-out configuration.
    p_test : ndarray, shape (m,)
        The ensemble's output "ordered" on each.
    members : sequence of float
        Each network's own crossing (NaN where it had none).
    n_resamples : int
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``tc_bootstrap_err``, ``tc_network_err``, ``tc_err``, ``bootstrap_failed`` (resamples
        whose outputs did not cross: these are left out of the spread).
    """
    rows = [np.flatnonzero(test_temps == t) for t in T]
    crossings, failed = [], 0
    if n_resamples:
        means = np.column_stack([p_test[idx[rng.integers(0, idx.size, (n_resamples, idx.size))]].mean(axis=1)
                                 for idx in rows])
        for curve in means:
            try:
                crossings.append(crossing(T, curve))
            except ValueError:
                failed += 1
    return error_summary(crossings, members) | {"bootstrap_failed": failed}


def error_summary(resampled, members) -> dict:
    """An estimate's error from its bootstrap ``resampled`` estimates (NaN: a resample without
    one) and the single networks' estimates ``members`` (NaN: a network without one): the
    bootstrap's standard deviation, the networks' standard deviation over √networks, and the
    two in quadrature (either alone where the other is undefined).

    Returns
    -------
    dict
        ``tc_bootstrap_err``, ``tc_network_err``, ``tc_err`` (NaN where undefined).
    """
    resampled = np.asarray(resampled, dtype=float)
    resampled = resampled[np.isfinite(resampled)]
    boot = float(np.std(resampled, ddof=1)) if resampled.size >= 2 else float("nan")
    members = np.asarray(members, dtype=float)
    finite = members[np.isfinite(members)]
    network = float(np.std(finite, ddof=1) / np.sqrt(members.size)) if finite.size >= 2 else float("nan")
    parts = [v for v in (boot, network) if np.isfinite(v)]
    total = float(np.sqrt(sum(v * v for v in parts))) if parts else float("nan")
    return {"tc_bootstrap_err": boot, "tc_network_err": network, "tc_err": total}


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
        If the curve never falls through ½, or is not clearly ordered at the cold end and
        disordered at the hot end: its mean over the coldest quarter of the temperatures must be at least 0.7 and over
        the hottest quarter at most 0.3 (:data:`ENDS`; a quarter is at least two points, at
        most half of them). A network that has not separated the phases has no meaningful
        crossing, and a single noisy point above 0.7 or below 0.3 does not show that it has.
    """
    T, p = np.asarray(T, dtype=float), np.asarray(p_ordered, dtype=float)
    down = np.flatnonzero((p[:-1] >= 0.5) & (p[1:] < 0.5))
    if down.size == 0:
        raise ValueError("the network's outputs never cross: it did not learn the two phases")
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


def default_temperatures(steps: int = 26, fine_step: float = 0.05):
    """``steps`` temperatures from 1.0 to 3.5 plus a finer grid from 1.9 to 2.7 around T_c (which
    the supervised labels use anyway), where the crossing is located."""
    coarse = np.linspace(1.0, 3.5, steps)
    fine = np.arange(1.9, 2.7 + 1e-9, fine_step)
    return np.unique(np.round(np.concatenate([coarse, fine]), 6))


__all__ = ["CROSSING_WINDOW", "DEFAULT_EPOCHS", "classify", "crossing", "crossing_errors", "default_temperatures", "error_summary",
           "extrapolate", "extrapolate_weighted",
           "paper_network", "split_samples", "symmetric_copies", "train_phase_network", "training_epochs"]
