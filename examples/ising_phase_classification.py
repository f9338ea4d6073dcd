"""Machine learning phases of matter (Carrasquilla & Melko, Nature Physics 13, 431 (2017)) on
real Monte Carlo configurations of the 2-D Ising model — the physical version of seed 002's
"Classifying Phases of Matter", whose spins were drawn at random.

Samples L×L configurations at 51 temperatures from 1.0 to 3.5 (Metropolis, plus Wolff clusters
near T_c), trains the paper's network (L² inputs, 100 sigmoid units, 2-way softmax) on
configurations labelled ordered/disordered at the exact T_c, and locates where its two outputs
cross (a consistency check: the crossing follows the threshold it was taught); then finds T_c by
"learning by confusion", without using the exact value.

Run: ``python examples/ising_phase_classification.py [OUT_DIR] [--L 16] [--samples 400] [--steps 51]``
(about a minute and a half at L = 16 on two cores; the README's figure is ``--L 32 --samples 300``).
"""

import argparse
from pathlib import Path

import numpy as np

from chainrule.ising_confusion import confusion
from chainrule.ising_phases import classify
from chainrule.datasets.ising import T_C, sample_ising


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=".")
    parser.add_argument("--L", type=int, default=16)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--steps", type=int, default=51)
    args = parser.parse_args(argv)
    samples = sample_ising(args.L, np.linspace(1.0, 3.5, args.steps), args.samples, rng=0)
    supervised = classify(samples)
    unsupervised = confusion(samples)
    print(f"L = {args.L}: exact T_c = {T_C:.5f}; ± = bootstrap over held-out configurations and the networks' "
          "spread (not the data seed or the training budget)")
    print(f"  supervised crossing      T = {supervised['tc']:.4f} ± {supervised['tc_err']:.4f} "
          f"({supervised['tc'] - T_C:+.4f} from the label threshold, the exact T_c it was taught: a consistency "
          "check, not a measurement)")
    print(f"  learning by confusion    T_c = {unsupervised['tc']:.4f} ± {unsupervised['tc_err']:.4f} "
          f"({100 * (unsupervised['tc'] / T_C - 1):+.2f}% from the exact value, which it does not use)")
    from chainrule.plot._backend import pyplot

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    left.plot(samples.temperatures, supervised["p_ordered"], "o-", label="output: ordered")
    left.plot(samples.temperatures, 1 - supervised["p_ordered"], "s-", label="output: disordered")
    left.axvline(T_C, color="k", linestyle="--", label=f"label threshold = exact T_c = {T_C:.3f}")
    left.set_xlabel("temperature T")
    left.set_ylabel("mean network output")
    left.set_title(f"Supervised (taught T_c): outputs cross at T = {supervised['tc']:.3f} ± {supervised['tc_err']:.3f}",
                   fontsize=10)
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)  # below the axes
    right.plot(unsupervised["trials"], unsupervised["accuracy"], "o-", color="tab:green", label="test accuracy")
    right.plot(unsupervised["trials"], unsupervised["baseline"], ":", color="0.5",
               label="always predicting the larger side")
    right.axvline(unsupervised["tc"], color="tab:red", linestyle=":",
                  label=f"inner peak T' = {unsupervised['tc']:.3f} ± {unsupervised['tc_err']:.3f}")
    right.axvline(T_C, color="k", linestyle="--", label="exact T_c (not used)")
    right.set_xlabel("trial critical temperature T'")
    right.set_ylabel("test accuracy")
    right.set_title("Learning by confusion: W-shaped accuracy")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"2-D Ising model, L = {args.L}: real Monte Carlo configurations")
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "ising_phases.png", dpi=100)
    plt.close(fig)
    return supervised, unsupervised


if __name__ == "__main__":
    main()
