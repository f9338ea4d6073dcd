"""``chainrule explain``: every number of one backpropagation step on a network given in JSON."""

from __future__ import annotations

import sys

FORMATS = ("text", "markdown", "json")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show every number of one training step (forward, loss, backward, update)",
        description="Run one gradient-descent step on the network described in a JSON file and show "
        "z[l], a[l], the loss, dL/da[l], dL/dz[l], dL/dW[l], dL/db[l] and the updated weights, with "
        "the equation used at each line. The file gives x, y, the layers as "
        '{"W": [[...]], "b": [...], "activation": "sigmoid"} (z = W x + b), the loss and the '
        "learning rate; see examples/exercise_1_hand_calculation.json.",
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="the JSON description")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (terminal report), markdown (with LaTeX) or json (default: text)")
    parser.add_argument("--output", metavar="FILE", default=None, help="write to FILE instead of standard output")
    parser.add_argument("--width", type=_width, default=None,
                        help="width of the text report, at least 40 (default: the terminal's, or 110 in a "
                             "pipe or file); Markdown and JSON are not wrapped")
    parser.set_defaults(handler=run)


def _width(text: str) -> int:
    from ._options import positive_int

    width = positive_int(text)
    if width < 40:
        import argparse

        raise argparse.ArgumentTypeError(f"must be at least 40 columns, got {width}")
    return width


def run(args) -> int:
    from ..inspect import explain, load_config
    from ._output import check_output_file, refuse_overwriting, write_text_atomic

    if args.output is not None:
        check_output_file(args.output, "--output")
        refuse_overwriting(args.output, "--output", {"the config": args.config})
    config = load_config(args.config)
    trace = explain(config.network(), config.x, config.y, loss=config.loss, lr=config.lr)
    trace.description = config.description  # shown first in every format
    if args.format == "json":
        text = trace.to_json() + "\n"
    elif args.format == "markdown":
        text = trace.to_markdown()
    elif args.output is None and sys.stdout.isatty():
        from rich.console import Console

        Console(width=args.width).print(trace)
        return 0
    else:
        text = trace.to_text(width=args.width or 110)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text_atomic(args.output, text)
    return 0
