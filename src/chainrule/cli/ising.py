"""``chainrule ising generate|classify``: Carrasquilla & Melko's phase classification on real
Monte Carlo configurations of the 2-D Ising model."""

from __future__ import annotations

import json
import sys

import numpy as np

from ._options import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser("ising", help="2-D Ising model: generate configurations, classify phases",
                                   description="Monte Carlo configurations of the 2-D Ising model and a neural "
                                   "network that finds the critical temperature from them.")
    commands = parser.add_subparsers(dest="ising_command", metavar="STEP")
    gen = commands.add_parser("generate", help="sample configurations at a grid of temperatures")
    gen.add_argument("--L", type=positive_int, default=32, help="lattice side, even (default: 32)")
    gen.add_argument("--tmin", type=float, default=1.0, help="lowest temperature (default: 1.0)")
    gen.add_argument("--tmax", type=float, default=3.5, help="highest temperature (default: 3.5)")
    gen.add_argument("--steps", type=positive_int, default=26, help="number of temperatures (default: 26)")
    gen.add_argument("--samples", type=positive_int, default=500, help="configurations per temperature (default: 500)")
    gen.add_argument("--equilibration", type=positive_int, default=None,
                     help="Metropolis sweeps before sampling (default: from measured autocorrelation times)")
    gen.add_argument("--sweeps-between", type=positive_int, default=None,
                     help="Metropolis sweeps between samples (default: 2 τ_int of |m| at each temperature)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True, metavar="FILE", help="output .npz file")
    gen.set_defaults(handler=run_generate)
    cls = commands.add_parser("classify", help="train the L²-100-2 network and locate T_c")
    cls.add_argument("data", help="file written by `chainrule ising generate`")
    cls.add_argument("--epochs", type=positive_int, default=15)
    cls.add_argument("--seed", type=int, default=0)
    cls.add_argument("--plot", default="ising_classification.png", metavar="FILE",
                     help="where to write the output-vs-temperature plot (default: ising_classification.png)")
    cls.add_argument("--json", action="store_true", help='print {"tc": ..., "tc_exact": ..., "L": ...}')
    cls.set_defaults(handler=run_classify)
    tc = commands.add_parser("tc", help="the whole pipeline at several sizes, extrapolated to L → ∞")
    tc.add_argument("--L", default="8,16,24,32", help="comma-separated even lattice sizes (default: 8,16,24,32)")
    tc.add_argument("--samples", type=positive_int, default=300, help="configurations per temperature (default: 300)")
    tc.add_argument("--steps", type=positive_int, default=26, help="temperatures from 1.0 to 3.5 (default: 26)")
    tc.add_argument("--seed", type=int, default=0)
    tc.add_argument("--json", action="store_true", help="print the estimates as JSON")
    tc.set_defaults(handler=run_tc)
    conf = commands.add_parser("confusion", help="learning by confusion: T_c without using its exact value")
    conf.add_argument("data", help="file written by `chainrule ising generate`")
    conf.add_argument("--epochs", type=positive_int, default=8)
    conf.add_argument("--seed", type=int, default=0)
    conf.add_argument("--plot", default="ising_confusion.png", metavar="FILE")
    conf.add_argument("--json", action="store_true")
    conf.set_defaults(handler=run_confusion)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def run_generate(args) -> int:
    from rich.progress import Progress

    from ..datasets.ising import sample_ising
    from ..datasets.ising_io import save_ising_npz

    if not (args.tmin > 0 and args.tmax > args.tmin):
        raise ValueError(f"need 0 < --tmin < --tmax, got tmin={args.tmin}, tmax={args.tmax}")
    temperatures = np.linspace(args.tmin, args.tmax, args.steps)
    with Progress(transient=True) as progress:
        task = progress.add_task("Monte Carlo sweeps", total=1)
        samples = sample_ising(args.L, temperatures, args.samples,
                               equilibration=None if args.equilibration is None else {"metropolis": args.equilibration},
                               sweeps_between=None if args.sweeps_between is None else {"metropolis": args.sweeps_between},
                               rng=args.seed,
                               progress=lambda done, total: progress.update(task, completed=done, total=total))
    save_ising_npz(args.out, samples)
    print(f"wrote {args.out}: L={samples.L}, {args.steps} temperatures × {args.samples} configurations")
    return 0


def _split(samples, seed):
    """Flattened configurations, their temperatures, and a held-out quarter per temperature."""
    T = samples.temperatures
    n_T, n, L, _ = samples.configs.shape
    X = samples.configs.reshape(n_T * n, L * L).astype(np.float32)
    temps = np.repeat(T, n)
    rng = np.random.default_rng(seed)
    test = np.zeros(n_T * n, dtype=bool)
    for i in range(n_T):
        test[i * n + rng.permutation(n)[: max(1, n // 4)]] = True
    return X, temps, test, rng


def _symmetric(X, y):
    """Training set doubled by the Z2 symmetry: flipping every spin does not change the phase."""
    return np.concatenate([X, -X]), np.concatenate([y, y])


def _paper_network(n_inputs, rng):
    from .. import Dense, Sequential, Sigmoid

    return Sequential([Dense(n_inputs, 100, rng=rng), Sigmoid(), Dense(100, 2, rng=rng)], dtype="float32")


def classify(samples, epochs: int = 15, seed: int = 0):
    """Train the paper's network (L² inputs, 100 sigmoid units, 2-way softmax) on configurations
    labelled ordered (T < T_c) / disordered, and find where its two outputs cross.

    Returns
    -------
    dict with ``tc`` (the crossing), ``temperatures`` and ``p_ordered`` (mean test output per T).
    """
    from ..datasets.ising import T_C
    from ..optim import Adam

    T = samples.temperatures
    X, temps, test, rng = _split(samples, seed)
    y = (temps >= T_C).astype(np.int64)  # 0: ordered, 1: disordered
    net = _paper_network(X.shape[1], rng)
    net.fit(*_symmetric(X[~test], y[~test]), loss="cross_entropy", optimizer=Adam(1e-3, l2=1e-4), epochs=epochs,
            batch_size=64, verbose=0, rng=rng)
    p_ordered = net.predict(X[test])[:, 0]
    mean = np.array([p_ordered[temps[test] == t].mean() for t in T])
    return {"tc": crossing(T, mean), "temperatures": T, "p_ordered": mean,
            "test_accuracy": float((net.predict_classes(X[test]) == y[test]).mean())}


def crossing(T, p_ordered) -> float:
    """Temperature where P(ordered) falls through ½ (linear interpolation)."""
    above = np.flatnonzero((p_ordered[:-1] >= 0.5) & (p_ordered[1:] < 0.5))
    if above.size == 0:
        raise ValueError("the network's outputs never cross: it did not learn the two phases")
    i = above[0]
    return float(T[i] + (p_ordered[i] - 0.5) * (T[i + 1] - T[i]) / (p_ordered[i] - p_ordered[i + 1]))


def run_classify(args) -> int:
    from ..datasets.ising import T_C
    from ..datasets.ising_io import load_ising_npz
    from ..plot._backend import pyplot

    samples = load_ising_npz(args.data)
    result = classify(samples, epochs=args.epochs, seed=args.seed)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(result["temperatures"], result["p_ordered"], "o-", label="output: ordered")
    ax.plot(result["temperatures"], 1 - result["p_ordered"], "s-", label="output: disordered")
    ax.axvline(T_C, color="k", linestyle="--", label=f"exact T_c = {T_C:.4f}")
    ax.axvline(result["tc"], color="tab:red", linestyle=":", label=f"crossing T = {result['tc']:.4f}")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("mean network output (held-out configurations)")
    ax.set_title(f"Phase classification, L = {samples.L}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)
    if args.json:
        print(json.dumps({"tc": result["tc"], "tc_exact": T_C, "L": samples.L}))
    else:
        error = 100 * (result["tc"] - T_C) / T_C
        print(f"L = {samples.L}: outputs cross at T = {result['tc']:.4f} (exact T_c = {T_C:.6f}, {error:+.2f}%); "
              f"test accuracy {result['test_accuracy']:.3f}; plot: {args.plot}")
    sys.stdout.flush()
    return 0


def confusion(samples, epochs: int = 8, seed: int = 0):
    """Learning by confusion (van Nieuwenburg, Liu & Huber 2017): for each trial T' between grid
    points, label configurations by T < T' and train; the test accuracy as a function of T' is
    W-shaped (trivially 1 at both ends) and its inner maximum is the estimate of T_c. The exact
    T_c is used nowhere."""
    from ..optim import Adam

    T = samples.temperatures
    X, temps, test, _ = _split(samples, seed)
    trials = (T[:-1] + T[1:]) / 2
    accuracy = []
    for trial in trials:
        rng = np.random.default_rng(seed)
        y = (temps >= trial).astype(np.int64)
        net = _paper_network(X.shape[1], rng)
        net.fit(*_symmetric(X[~test], y[~test]), loss="cross_entropy", optimizer=Adam(1e-3), epochs=epochs,
                batch_size=64, verbose=0, rng=rng)
        accuracy.append(float((net.predict_classes(X[test]) == y[test]).mean()))
    accuracy = np.array(accuracy)
    inner = slice(2, len(trials) - 2)  # the outer ends are trivially accurate (one class only)
    best = int(np.argmax(accuracy[inner])) + 2
    return {"tc": float(trials[best]), "trials": trials, "accuracy": accuracy}


def run_confusion(args) -> int:
    from ..datasets.ising import T_C
    from ..datasets.ising_io import load_ising_npz
    from ..plot._backend import pyplot

    samples = load_ising_npz(args.data)
    result = confusion(samples, epochs=args.epochs, seed=args.seed)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(result["trials"], result["accuracy"], "o-", label="test accuracy with labels T < T'")
    ax.axvline(result["tc"], color="tab:red", linestyle=":", label=f"inner maximum T' = {result['tc']:.3f}")
    ax.axvline(T_C, color="k", linestyle="--", label=f"exact T_c = {T_C:.4f} (not used)")
    ax.set_xlabel("trial critical temperature T'")
    ax.set_ylabel("accuracy on held-out configurations")
    ax.set_title(f"Learning by confusion, L = {samples.L}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    plt.close(fig)
    if args.json:
        print(json.dumps({"tc": result["tc"], "tc_exact": T_C, "L": samples.L}))
    else:
        print(f"L = {samples.L}: confusion estimate T_c = {result['tc']:.4f} "
              f"({100 * (result['tc'] - T_C) / T_C:+.2f}% from the exact {T_C:.6f}); plot: {args.plot}")
    return 0


def run_tc(args) -> int:
    from rich.progress import Progress

    from ..datasets.ising import T_C, check_lattice, sample_ising

    try:
        sizes = [check_lattice(int(part)) for part in args.L.split(",")]
    except ValueError as exc:
        raise ValueError(f"--L must be comma-separated even sizes like 8,16,24,32 ({exc})") from None
    if len(sizes) < 2:
        raise ValueError("--L needs at least two sizes to extrapolate")
    temperatures = np.linspace(1.0, 3.5, args.steps)
    estimates = []
    with Progress(transient=True) as progress:
        task = progress.add_task("sizes", total=len(sizes))
        for L in sizes:
            samples = sample_ising(L, temperatures, args.samples, rng=args.seed + L)
            estimates.append(classify(samples, seed=args.seed)["tc"])
            progress.advance(task)
    inverse = 1.0 / np.array(sizes, dtype=float)
    slope, intercept = np.polyfit(inverse, estimates, 1)  # T_c(L) = T_c + a / L  (ν = 1)
    result = {"L": sizes, "tc_L": estimates, "tc_extrapolated": float(intercept), "a": float(slope), "tc_exact": T_C}
    if args.json:
        print(json.dumps(result))
    else:
        for L, tc in zip(sizes, estimates):
            print(f"L = {L:>3}: T_c(L) = {tc:.4f}")
        print(f"extrapolated T_c(L → ∞) = {intercept:.4f} ({100 * (intercept - T_C) / T_C:+.2f}% from {T_C:.6f})")
    return 0
