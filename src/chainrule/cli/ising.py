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
    gen.add_argument("--equilibration", type=positive_int, default=1000, help="sweeps before sampling (default: 1000)")
    gen.add_argument("--sweeps-between", type=positive_int, default=10, help="sweeps between samples (default: 10)")
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
        samples = sample_ising(args.L, temperatures, args.samples, equilibration=args.equilibration,
                               sweeps_between=args.sweeps_between, rng=args.seed,
                               progress=lambda done, total: progress.update(task, completed=done, total=total))
    save_ising_npz(args.out, samples)
    print(f"wrote {args.out}: L={samples.L}, {args.steps} temperatures × {args.samples} configurations")
    return 0


def classify(samples, epochs: int = 15, seed: int = 0):
    """Train the paper's network (L² inputs, 100 sigmoid units, 2-way softmax) on configurations
    labelled ordered (T < T_c) / disordered, and find where its two outputs cross.

    Returns
    -------
    dict with ``tc`` (the crossing), ``temperatures`` and ``p_ordered`` (mean test output per T).
    """
    from .. import Dense, Sequential, Sigmoid
    from ..datasets.ising import T_C
    from ..optim import Adam

    T = samples.temperatures
    n_T, n, L, _ = samples.configs.shape
    X = samples.configs.reshape(n_T * n, L * L).astype(np.float32)
    temps = np.repeat(T, n)
    y = (temps >= T_C).astype(np.int64)  # 0: ordered, 1: disordered
    rng = np.random.default_rng(seed)
    test = np.zeros(n_T * n, dtype=bool)
    for i in range(n_T):  # hold out a quarter of the configurations at every temperature
        test[i * n + rng.permutation(n)[: max(1, n // 4)]] = True
    net = Sequential([Dense(L * L, 100, rng=rng), Sigmoid(), Dense(100, 2, rng=rng)], dtype="float32")
    net.fit(X[~test], y[~test], loss="cross_entropy", optimizer=Adam(1e-3, l2=1e-4), epochs=epochs,
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
