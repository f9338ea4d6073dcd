"""``chainrule predict MODEL FILE``: predictions (and class probabilities) as CSV."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on a CSV/Parquet table",
        description="Apply a model file (from `chainrule train --data ... --save`, or a chainrule estimator's "
        "save) to the feature columns of FILE and write one row per input: the prediction and, for "
        "classifiers, the probability of every class (p_<class>), or the margin for hinge-loss models.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("data", help="table with the model's feature columns (CSV, or Parquet)")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the CSV here (default: standard output)")
    parser.add_argument("--json", action="store_true", help="write JSON records instead of CSV")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from ._modelfile import open_model, read_table_for
    from ._output import check_output_file, refuse_overwriting, write_text_atomic

    if args.out is not None:
        check_output_file(args.out, "--out")
        refuse_overwriting(args.out, "--out", {"the model file": args.model, "the input table": args.data})
    model = open_model(args.model)
    X, _ = read_table_for(model, args.model, args.data)
    frame = model.predictions_frame(X)
    if args.json:
        text = json.dumps(frame.to_dict(orient="records")) + "\n"
    else:
        text = frame.to_csv(index=False)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(args.out, text)
    return 0
