"""``chainrule gradcheck``: analytic gradients against central differences, per tensor."""

from __future__ import annotations

import json
import sys

import numpy as np

from ._options import int_list, positive_float, positive_int, random_seed


def register(subparsers) -> None:
    from ..layers import ACTIVATIONS
    from ..losses import LOSSES

    parser = subparsers.add_parser(
        "gradcheck",
        help="check every gradient of a network against central differences",
        description="Compare the gradient that backpropagation computes for every weight, bias and "
        "layer input with central differences in float64. The network comes from options "
        "(--sizes 2,4,1 --activation sigmoid, random data) or from a JSON file in the format of "
        "`chainrule explain`. Exit status 0 when every check passes, 1 when one fails.",
    )
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="JSON network and data (x, y, layers, loss), as for `chainrule explain`")
    parser.add_argument("--sizes", type=_sizes, default=None, metavar="SIZES",
                        help="layer widths including input and output (default: 2,4,1)")
    parser.add_argument("--activation", choices=ACTIVATIONS.names(), default=None, metavar="NAME",
                        help=f"hidden activation: {', '.join(ACTIVATIONS.names())} (default: sigmoid)")
    parser.add_argument("--output-activation", choices=ACTIVATIONS.names(), default=None, metavar="NAME",
                        help="activation after the last layer (default: none)")
    parser.add_argument("--loss", choices=LOSSES.names(), default=None, metavar="NAME",
                        help=f"loss: {', '.join(LOSSES.names())} (default: mse)")
    parser.add_argument("--samples", type=positive_int, default=None, help="random examples (default: 4)")
    parser.add_argument("--seed", type=random_seed, default=None, help="seed of weights and data (default: 0)")
    parser.add_argument("--eps", type=_step, default=1e-6,
                        help=f"finite-difference step, {EPS_RANGE[0]:g} to {EPS_RANGE[1]:g} (default: 1e-6)")
    parser.add_argument("--tol", type=_tolerance, default=1e-7,
                        help=f"pass threshold on |a - n| / max(1, |a|, |n|), {TOL_RANGE[0]:g} to below "
                             f"{TOL_RANGE[1]:g} (default: 1e-7)")
    parser.add_argument("--no-inputs", action="store_true", help="check parameters only, not layer inputs")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


#: Options that build the random network; --config replaces them all.
_RANDOM_NETWORK_OPTIONS = [("--sizes", "sizes"), ("--activation", "activation"),
                           ("--output-activation", "output_activation"), ("--loss", "loss"),
                           ("--samples", "samples"), ("--seed", "seed")]


#: The steps --eps takes: below, rounding swamps the difference (float64 keeps 16 digits); above,
#: the difference no longer approximates a derivative.
EPS_RANGE = (1e-12, 1e-1)

#: The most arithmetic operations a random network's check may take (an hour or more on a CPU).
MAX_WORK = 1e13


def _step(text: str) -> float:
    value = positive_float(text)
    if not EPS_RANGE[0] <= value <= EPS_RANGE[1]:
        import argparse

        raise argparse.ArgumentTypeError(f"must be between {EPS_RANGE[0]:g} and {EPS_RANGE[1]:g}, got {text}")
    return value


#: The thresholds --tol takes: below, float64 rounding alone fails correct gradients; from 0.1 up,
#: gradients wrong by 10% or more pass.
TOL_RANGE = (1e-12, 0.1)


def _tolerance(text: str) -> float:
    value = positive_float(text)
    if not TOL_RANGE[0] <= value < TOL_RANGE[1]:
        import argparse

        raise argparse.ArgumentTypeError(f"must be from {TOL_RANGE[0]:g} to below {TOL_RANGE[1]:g} (at {value:g} "
                                         f"{'correct gradients fail on rounding' if value < TOL_RANGE[0] else 'wrong gradients pass'}"
                                         f"), got {text}")
    return value


def _sizes(text: str) -> list[int]:
    sizes = int_list(text)
    if len(sizes) < 2:
        import argparse

        raise argparse.ArgumentTypeError(f"need at least an input and an output size, got {text!r}")
    return sizes


def run(args) -> int:
    from ..inspect import gradcheck

    net, X, y, loss, source = build(args)
    report = gradcheck(net, X, y, loss=loss, eps=args.eps, tol=args.tol, inputs=not args.no_inputs)
    if args.json:
        print(json.dumps({"network": source, **report.to_dict()}, indent=2, allow_nan=False, default=str))
    else:
        print(f"gradient check of {source}; {report.n_samples} example(s); objective {report.objective}")
        print(report.table())
        for note in report.notes:
            print(f"note: {note}")
        print(report.summary())
    sys.stdout.flush()
    return 0 if report.passed else 1


def build(args):
    """``(net, X, y, loss, description)`` from --config or from the options."""
    if args.config is not None:
        from ..inspect import load_config

        conflicting = [option for option, dest in _RANDOM_NETWORK_OPTIONS if getattr(args, dest) is not None]
        if conflicting:
            from . import UsageError

            verb = "describes" if len(conflicting) == 1 else "describe"
            raise UsageError(f"chainrule gradcheck: {', '.join(conflicting)} {verb} a random network, but --config "
                             "brings its own network, data and loss: use one or the other")
        config = load_config(args.config)
        return config.network(), config.x, config.y, config.loss, args.config
    defaults = {"sizes": [2, 4, 1], "activation": "sigmoid", "loss": "mse", "samples": 4, "seed": 0}
    for dest, value in defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, value)
    from .. import mlp
    from ..losses import get_loss

    loss = get_loss(args.loss)
    rng = np.random.default_rng(args.seed)
    if loss.name == "cross_entropy" and args.sizes[-1] < 2:
        raise ValueError(f"loss cross_entropy needs at least 2 outputs, got --sizes ending in {args.sizes[-1]}")
    for name in (args.output_activation,):
        if name in ("sigmoid", "softmax") and loss.name in ("bce", "cross_entropy"):
            raise ValueError(f"loss {loss.name} takes logits and applies the {name} itself; drop --output-activation")
    check_size(args.sizes, args.samples, not args.no_inputs)
    net = mlp(args.sizes, activation=args.activation, output_activation=args.output_activation,
              rng=args.seed, dtype="float64")
    n, k = args.samples, args.sizes[-1]
    X = rng.normal(size=(n, args.sizes[0]))
    if loss.name == "bce":
        y = rng.integers(0, 2, size=(n, k)).astype(float)
    elif loss.name == "cross_entropy":
        y = rng.integers(0, k, size=n)
    elif loss.name == "hinge":
        y = rng.choice([-1.0, 1.0], size=(n, k))
    else:
        y = rng.normal(size=(n, k))
    shape = "-".join(map(str, args.sizes))
    return net, X, y, loss, f"{shape} network ({args.activation} hidden, {loss.name} loss, seed {args.seed})"


def check_size(sizes: list[int], samples: int, inputs: bool) -> None:
    """Refuse, before any work, a random network and data the check could not hold in memory
    or finish: two forward passes over every example for each weight, bias (and layer input).

    Raises
    ------
    ValueError
        Naming the options and the memory or multiply-adds needed.
    """
    from ._output import check_memory

    given = f"--sizes {','.join(map(str, sizes))} with --samples {samples}"
    weights = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    # a few float64 copies of each: values, gradients, the analytic and the numeric ones
    check_memory(6 * 8 * (weights + samples * sum(sizes)), given, "ask for a smaller network or fewer --samples")
    checked = weights + (samples * (sizes[0] + 2 * sum(sizes[1:-1])) if inputs else 0)
    # a forward pass: the products, and about ten elementwise operations per unit (activations, loss)
    work = 2 * checked * samples * (sum(a * b for a, b in zip(sizes, sizes[1:])) + 10 * sum(sizes))
    if work > MAX_WORK:
        raise ValueError(f"{given}: the check runs the network twice for each of {checked:,} weights, biases"
                         f"{' and layer inputs' if inputs else ''}, about {work:.0e} arithmetic operations, more than "
                         f"the {MAX_WORK:.0e} it takes on (an hour or more); ask for a smaller network or fewer "
                         f"--samples{' (or --no-inputs)' if inputs else ''}")
