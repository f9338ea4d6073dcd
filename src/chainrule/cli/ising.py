"""``chainrule ising generate|classify``: Carrasquilla & Melko's phase classification on real
Monte Carlo configurations of the 2-D Ising model."""

from __future__ import annotations

import sys

import numpy as np

from .. import kernels_cpu
from ..ising_confusion import confusion
from ..ising_phases import (CROSSING_WINDOW, MIN_SAMPLES, MIN_STEPS, classify, default_temperatures,
                            extrapolate_weighted)
from ._options import non_negative_int, positive_int, random_seed
from ._output import check_memory, json_text


EPOCHS_HELP = (f"passes over the training set and its symmetry copies (default: 8); a number that makes fewer than "
               f"{MIN_STEPS} Adam steps per network is raised to the fewest that make {MIN_STEPS}, so on a small data "
               "set only a larger number trains longer")
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps")


def _temperature(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value) or value < 0.01:
        raise argparse.ArgumentTypeError(f"must be a finite temperature >= 0.01 (in units of J/k_B), got {text}")
    return value


def _plot_path(text: str):
    """The plot's path (with .png added when it has no suffix, as matplotlib does), checked
    before any work; None for 'none'."""
    from pathlib import Path

    from ._output import check_output_file

    if text.lower() == "none":
        return None
    path = Path(text)
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise ValueError(f"--plot {text}: unsupported image format {path.suffix!r}; use one of "
                         f"{', '.join('.' + f for f in PLOT_FORMATS)}")
    return check_output_file(path, "--plot")


def register(subparsers) -> None:
    parser = subparsers.add_parser("ising", help="2-D Ising model: generate configurations, classify phases",
                                   description="Monte Carlo configurations of the 2-D Ising model and a neural "
                                   "network that finds the critical temperature from them.")
    commands = parser.add_subparsers(dest="ising_command", metavar="STEP")
    gen = commands.add_parser("generate", help="sample configurations at a grid of temperatures")
    gen.add_argument("--L", type=positive_int, default=32, help="lattice side, even (default: 32)")
    gen.add_argument("--tmin", type=_temperature, default=1.0, help="lowest temperature (default: 1.0)")
    gen.add_argument("--tmax", type=_temperature, default=3.5, help="highest temperature (default: 3.5)")
    gen.add_argument("--steps", type=positive_int, default=26,
                     help="number of temperatures, at least 2; classify needs some on both sides of T_c and "
                     "confusion at least 7 (a warning says when they will not get them) (default: 26)")
    gen.add_argument("--samples", type=positive_int, default=500,
                     help=f"configurations per temperature, at least {MIN_SAMPLES} (default: 500)")
    gen.add_argument("--equilibration", type=non_negative_int, default=None,
                     help="Metropolis sweeps before sampling, at the temperatures sampled by Metropolis (those "
                     "within 0.2 of T_c use Wolff cluster updates with their own schedule) (default: from "
                     "measured autocorrelation times; runs estimated at more than 10^12 spin updates are refused)")
    gen.add_argument("--sweeps-between", type=positive_int, default=None,
                     help="Metropolis sweeps between samples, at the Metropolis temperatures as above "
                     "(default: 2 τ_int of |m| at each temperature)")
    gen.add_argument("--seed", type=random_seed, default=0,
                     help="random seed (0 to 2**32 - 1) for the Monte Carlo sampling (default: 0)")
    gen.add_argument("--out", required=True, metavar="FILE", help="output .npz file")
    gen.set_defaults(handler=run_generate)
    cls = commands.add_parser(
        "classify", help="train the L²-100-2 network on labels T >= T_c and locate where its outputs cross",
        description="Supervised: configurations are labelled ordered below the exact T_c and disordered above, "
        "and the networks' two outputs cross near that threshold because they were taught it. The crossing is a "
        "consistency check of how far it moves from the threshold, not a measurement of T_c; `ising confusion` "
        "finds T_c without being told it.")
    _add_experiment_options(cls, networks=3, networks_help="networks whose outputs are averaged",
                            plot="ising_classification.png", plotted="the output-vs-temperature plot")
    cls.set_defaults(handler=run_classify)
    tc = commands.add_parser(
        "tc", help="the supervised crossing at several sizes, extrapolated to L → ∞ (a consistency check)",
        description="At each lattice size: sample configurations by Monte Carlo, train the L²-100-2 networks on "
        "labels T >= the exact T_c and locate where their outputs cross; then fit T(L) = T_∞ + a/L, weighted by "
        "each size's error, and extrapolate to L → ∞. The networks are taught the exact T_c as their label "
        "threshold and the crossing follows that threshold (labels at 2.45 put it near 2.4), so the result says "
        "how far the crossing lands from the threshold, not what T_c is; `ising confusion` finds T_c without it. "
        "The errors include a bootstrap over held-out configurations and the networks' spread, not the Monte "
        "Carlo noise of the training data nor the dependence on samples and epochs. The defaults take about two "
        "minutes on two cores (a progress bar shows on a terminal; nothing is printed until the end otherwise).")
    tc.add_argument("--L", default="8,16,24,32", help="comma-separated even lattice sizes (default: 8,16,24,32)")
    tc.add_argument("--samples", type=positive_int, default=2000,
                    help="configurations per temperature (default: 2000)")
    tc.add_argument("--steps", type=positive_int, default=26,
                    help="temperatures from 1.0 to 3.5, plus every 0.05 from 1.9 to 2.7 (default: 26)")
    tc.add_argument("--networks", type=positive_int, default=3, help="networks averaged per size (default: 3)")
    tc.add_argument("--seed", type=random_seed, default=0,
                    help="random seed (0 to 2**32 - 1) for the samples and the networks (default: 0)")
    tc.add_argument("--json", action="store_true", help="print the estimates as JSON")
    tc.set_defaults(handler=run_tc)
    conf = commands.add_parser("confusion", help="learning by confusion: T_c without using its exact value")
    _add_experiment_options(conf, networks=2, networks_help="networks averaged per trial temperature",
                            plot="ising_confusion.png", plotted="the accuracy-vs-trial-temperature plot")
    conf.set_defaults(handler=run_confusion)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _add_experiment_options(parser, *, networks: int, networks_help: str, plot: str, plotted: str) -> None:
    """The data file and options shared by ``classify`` and ``confusion``."""
    parser.add_argument("data", help="file written by `chainrule ising generate`")
    parser.add_argument("--epochs", type=positive_int, default=8, help=EPOCHS_HELP)
    parser.add_argument("--networks", type=positive_int, default=networks, help=f"{networks_help} (default: {networks})")
    parser.add_argument("--seed", type=random_seed, default=0,
                        help="random seed (0 to 2**32 - 1) for the split and the networks (default: 0)")
    parser.add_argument("--plot", default=plot, metavar="FILE",
                        help=f"where to write {plotted} (default: {plot}; 'none' for no plot)")
    parser.add_argument("--json", action="store_true",
                        help='print {"tc": ..., "tc_err": ..., "tc_bootstrap_err": ..., "tc_network_err": ..., '
                        '"tc_exact": ..., "L": ...} (classify adds "tc_label")')


def run_generate(args) -> int:
    from ..datasets.ising import check_lattice, sample_ising
    from ..datasets.ising_io import save_ising_npz
    from ._output import check_output_file

    check_lattice(args.L)
    if not args.tmax > args.tmin:
        raise ValueError(f"need --tmin < --tmax, got tmin={args.tmin}, tmax={args.tmax}")
    check_output_file(args.out, "--out")
    if args.steps < 2:
        raise ValueError(f"--steps 1 samples --tmin = {args.tmin:g} only and would ignore --tmax = {args.tmax:g}; "
                         "give --steps 2 or more (classify needs temperatures on both sides of T_c)")
    if args.samples < MIN_SAMPLES:
        raise ValueError(f"--samples {args.samples}: classify and confusion need at least {MIN_SAMPLES} configurations "
                         "per temperature (a quarter of them is held out to test the networks, the rest trains them)")
    check_memory(args.steps * args.samples * args.L * args.L, f"{args.steps} temperatures × {args.samples} "
                  f"configurations of {args.L}×{args.L} spins")
    temperatures = np.linspace(args.tmin, args.tmax, args.steps)
    _check_work(args, temperatures)
    for warning in _generate_warnings(temperatures):
        print(f"warning: {warning}", file=sys.stderr)
    with _progress() as progress:
        task = progress.add_task("Monte Carlo sweeps", total=1)
        samples = sample_ising(args.L, temperatures, args.samples,
                               equilibration=None if args.equilibration is None else {"metropolis": args.equilibration},
                               sweeps_between=None if args.sweeps_between is None else {"metropolis": args.sweeps_between},
                               rng=args.seed,
                               progress=lambda done, total: progress.update(task, completed=done, total=total))
    save_ising_npz(args.out, samples)
    print(f"wrote {args.out}: L={samples.L}, {args.steps} temperatures × {args.samples} configurations")
    return 0


def _check_work(args, temperatures) -> None:
    """Refuse, before any Monte Carlo, a run estimated to take more than
    :data:`~chainrule.datasets.ising_sampler.MAX_SPIN_UPDATES` spin updates, naming the options."""
    from ..datasets.ising_sampler import MAX_SPIN_UPDATES, spin_updates
    from ..datasets.ising_schedule import choose_methods, default_schedule

    methods = choose_methods(temperatures, "auto")
    equilibration, between = default_schedule(args.L, temperatures, methods)
    metropolis = methods == "metropolis"
    # floats: an absurd --equilibration must not overflow the int64 schedule
    equilibration = equilibration.astype(float)
    between = between.astype(float)
    if args.equilibration is not None:
        equilibration[metropolis] = float(args.equilibration)
    if args.sweeps_between is not None:
        between[metropolis] = float(args.sweeps_between)
    chains = min(args.samples, 64)
    work = spin_updates(args.L, args.samples, chains, methods, equilibration, between)
    if work > MAX_SPIN_UPDATES:
        given = " and ".join(f"{name} {value}" for name, value in (("--equilibration", args.equilibration),
                                                                   ("--sweeps-between", args.sweeps_between))
                             if value is not None) or "these settings"
        raise ValueError(f"{given}: about {work:.2g} spin updates ({len(temperatures)} temperatures × {chains} chains "
                         f"× {args.L}² spins × (equilibration + {-(-args.samples // chains)} sample rounds × sweeps "
                         f"between)), more than the {MAX_SPIN_UPDATES:.0e} this runs (about "
                         f"{MAX_SPIN_UPDATES / 3.5e8 / 60:.0f} minutes at ~350 M updates/s)")


def _generate_warnings(temperatures) -> list:
    """What ``classify`` or ``confusion`` would refuse in the file about to be written; generate
    still writes it (the observables are useful on their own), but says so before the work."""
    from ..datasets.ising import T_C

    warnings = []
    if not temperatures[0] < T_C < temperatures[-1]:
        warnings.append(f"the temperatures {temperatures[0]:g}..{temperatures[-1]:g} do not straddle T_c = {T_C:.4f}: "
                        "`ising classify` will refuse this file and `ising confusion` has no transition to find")
    if temperatures.size < 7:
        warnings.append(f"{temperatures.size} temperatures: `ising confusion` needs at least 7")
    return warnings


def _progress():
    """A transient progress bar on standard error, only when that is a terminal (no stray
    output in pipes, logs or tests)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    return Progress(transient=True, console=console, disable=not console.is_terminal)


def _save_plot(fig, path) -> None:
    """Write the figure atomically, or only close it for ``--plot none``."""
    from ..plot._backend import pyplot
    from ._output import save_figure

    if path is not None:
        save_figure(fig, path)
    else:
        pyplot().close(fig)


def run_classify(args) -> int:
    from ..datasets.ising import T_C
    from ..datasets.ising_io import load_ising_npz
    from ..plot._backend import pyplot

    plot_path = _plot_path(args.plot)
    samples = load_ising_npz(args.data)
    result = classify(samples, epochs=args.epochs, seed=args.seed, networks=args.networks)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.plot(result["temperatures"], result["p_ordered"], "o-", label="output: ordered")
    ax.plot(result["temperatures"], 1 - result["p_ordered"], "s-", label="output: disordered")
    ax.axvline(result["tc_label"], color="k", linestyle="--",
               label=f"label threshold = exact T_c = {result['tc_label']:.4f} (taught)")
    lo, hi = CROSSING_WINDOW  # the estimate is where a line through the outputs in this band reaches 0.5
    ax.axvline(result["tc"], color="tab:red", linestyle=":",
               label=f"crossing T = {result['tc']:.4f} ± {result['tc_err']:.4f} (line through outputs in {lo:g}–{hi:g})")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("mean network output (held-out configurations)")
    ax.set_title(f"Phase classification, L = {samples.L}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)  # below: never on the data
    fig.tight_layout()
    _save_plot(fig, plot_path)
    if args.json:
        print(json_text({"tc": result["tc"], **_errors(result), "tc_label": result["tc_label"], "tc_exact": T_C,
                         "L": samples.L}))
    else:
        label = result["tc_label"]
        print(f"L = {samples.L}: outputs cross at T = {result['tc']:.4f} ± {result['tc_err']:.4f} (a line through "
              f"the outputs in {CROSSING_WINDOW[0]:g}–{CROSSING_WINDOW[1]:g}); {_error_note(result, args.networks)}")
        print(f"  the networks were taught labels T >= {label:.6f} (the exact T_c): the crossing lies "
              f"{result['tc'] - label:+.4f} from that threshold — a consistency check, not a measurement of T_c "
              "(`ising confusion` finds T_c without being told it)")
        print(f"  test accuracy {result['test_accuracy']:.3f}; {_epochs_trained(result['epochs'], args.epochs)}"
              + (f"; plot: {plot_path}" if plot_path else ""))
    sys.stdout.flush()
    return 0


def _errors(result) -> dict:
    """The error entries of a classify or confusion result, for --json (NaN: not estimated)."""
    return {key: result[key] for key in ("tc_err", "tc_bootstrap_err", "tc_network_err")}


def _error_note(result, networks: int) -> str:
    """What the ± of a classify or confusion estimate holds, and what it leaves out."""
    boot, net = result["tc_bootstrap_err"], result["tc_network_err"]
    spread = (f"the spread of the {networks} networks' own results / √{networks}, {net:.4f}" if np.isfinite(net)
              else "no network spread (one network, or fewer than two gave a result)")
    failed = f"; {result['bootstrap_failed']} resamples gave no result" if result.get("bootstrap_failed") else ""
    return (f"± = bootstrap over the held-out configurations, {boot:.4f}, and {spread}{failed}; it leaves out the "
            "Monte Carlo noise of the training data and the dependence on samples and epochs (rerun on data "
            "generated with other --seed values to see them)")


def _epochs_trained(used: int, asked: int) -> str:
    """The epochs each network trained, and why where that is more than --epochs."""
    if used > asked:
        return f"{used} epochs per network (--epochs {asked} raised to make {MIN_STEPS} Adam steps)"
    return f"{used} epochs per network"


def run_confusion(args) -> int:
    from ..datasets.ising import T_C
    from ..datasets.ising_io import load_ising_npz
    from ..plot._backend import pyplot

    plot_path = _plot_path(args.plot)
    samples = load_ising_npz(args.data)
    result = confusion(samples, epochs=args.epochs, seed=args.seed, networks=args.networks)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    ax.plot(result["trials"], result["accuracy"], "o-", label="test accuracy with labels T < T'")
    ax.plot(result["trials"], result["baseline"], ":", color="0.5", label="always predicting the larger side")
    if result["tent"] is not None:  # the fit behind the apex, so the reader sees where it comes from
        ax.plot(*result["tent"], "-", color="tab:red", linewidth=1.5, alpha=0.8,
                label=f"tent fitted to the inner peak ({len(result['peak'])} trials)")
    ax.axvline(result["tc"], color="tab:red", linestyle=":", label=f"inner peak (apex of the fit) T' = {result['tc']:.3f}")
    ax.axvline(T_C, color="k", linestyle="--", label=f"exact T_c = {T_C:.4f} (not used)")
    ax.set_xlabel("trial critical temperature T'")
    ax.set_ylabel("accuracy on held-out configurations")
    ax.set_title(f"Learning by confusion, L = {samples.L}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)  # below: never on the data
    fig.tight_layout()
    _save_plot(fig, plot_path)
    if args.json:
        print(json_text({"tc": result["tc"], **_errors(result), "tc_exact": T_C, "L": samples.L}))
    else:
        print(f"L = {samples.L}: confusion estimate T_c = {result['tc']:.4f} ± {result['tc_err']:.4f} "
              f"(the exact {T_C:.6f} was not used; {100 * (result['tc'] - T_C) / T_C:+.2f}% from it); "
              f"{_error_note(result, args.networks)}")
        print(f"  {_epochs_trained(result['epochs'], args.epochs)}" + (f"; plot: {plot_path}" if plot_path else ""))
    return 0


def run_tc(args) -> int:
    from ..datasets.ising import T_C, check_lattice, sample_ising

    try:
        sizes = [check_lattice(int(part)) for part in args.L.split(",")]
    except ValueError as exc:
        raise ValueError(f"--L must be comma-separated even sizes like 8,16,24,32 ({exc})") from None
    if len(set(sizes)) < 2:
        raise ValueError("--L needs at least two different sizes to extrapolate")
    if args.samples < MIN_SAMPLES:  # split_samples' own check, before the first size's Monte Carlo run
        raise ValueError(f"--samples {args.samples}: at least {MIN_SAMPLES} configurations per temperature are "
                         "needed (a quarter of them is held out to test the networks, the rest trains them)")
    kernels_cpu.check_setting()
    temperatures = default_temperatures(args.steps)
    check_memory(len(temperatures) * args.samples * max(sizes) ** 2 * 5,  # int8 spins + float32 copies
                  f"{len(temperatures)} temperatures × {args.samples} configurations of {max(sizes)}² spins")
    estimates, errors, parts = [], [], []
    with _progress() as progress:
        task = progress.add_task("sizes", total=len(sizes))
        for L in sizes:
            samples = sample_ising(L, temperatures, args.samples, rng=args.seed + L)
            try:
                result = classify(samples, seed=args.seed, networks=args.networks)
            except ValueError as exc:
                raise ValueError(f"L = {L}: {exc}") from None
            if not np.isfinite(result["tc_err"]) or result["tc_err"] <= 0:
                raise ValueError(f"L = {L}: the crossing has no error estimate (its bootstrap resamples did not "
                                 "cross); more --samples help")
            estimates.append(result["tc"])
            errors.append(result["tc_err"])
            parts.append((result["tc_bootstrap_err"], result["tc_network_err"]))
            progress.advance(task)
    fit = extrapolate_weighted(sizes, estimates, errors)
    result = {"L": sizes, "tc_L": estimates, "tc_L_err": errors, "tc_L_bootstrap_err": [p[0] for p in parts],
              "tc_L_network_err": [p[1] for p in parts],
              "tc_extrapolated": fit["tc"], "tc_extrapolated_err": fit["tc_err"], "chi2": fit["chi2"],
              "dof": fit["dof"], "err_scaled_by_chi2": fit["scaled"], "a": fit["a"], "a_err": fit["a_err"],
              "samples": args.samples, "tc_label": T_C, "tc_exact": T_C}
    if args.json:
        print(json_text(result))
        return 0
    print(f"supervised crossings, labels T >= {T_C:.6f} (the exact T_c, taught to the networks), "
          f"{args.samples} configurations per T, {args.networks} networks:")
    for L, tc, err, (boot, net) in zip(sizes, estimates, errors, parts):
        net_text = f"networks {net:.4f}" if np.isfinite(net) else "no network spread"
        print(f"  L = {L:>3}: T(L) = {tc:.4f} ± {err:.4f} (bootstrap {boot:.4f}, {net_text}); "
              f"{tc - T_C:+.4f} from the threshold")
    chi = (f"χ²/dof = {fit['chi2']:.2f}/{fit['dof']}" + ("; error scaled by sqrt(χ²/dof)" if fit["scaled"] else "")
           if fit["dof"] > 0 else "two sizes: no χ² check")
    print(f"weighted fit T(L) = T_∞ + a/L: T_∞ = {fit['tc']:.4f} ± {fit['tc_err']:.4f} ({chi}), "
          f"a = {fit['a']:+.3f} ± {fit['a_err']:.3f}; T_∞ − threshold = {fit['tc'] - T_C:+.4f}")
    print("  a consistency check, not a measurement of T_c: the crossing follows the label threshold it was taught "
          "(README: labels at another threshold move it there); `ising confusion` finds T_c without it")
    print("  the errors leave out the Monte Carlo noise of the training data and the dependence of T(L) on the "
          "number of samples and epochs, which can exceed them (README)")
    return 0
