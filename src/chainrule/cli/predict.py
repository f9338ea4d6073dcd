"""``chainrule predict MODEL FILE``: predictions (and class probabilities) as CSV."""

from __future__ import annotations

import sys

from ._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on a CSV/Parquet table",
        description="Apply a model file (from `chainrule train --data ... --save`, or a chainrule estimator's "
        "save) to the feature columns of DATA and write one row per input: the prediction and, for "
        "classifiers, the probability of every class (p_<class>), or the margin for hinge-loss models.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("data", help="table with the model's feature columns (CSV, or Parquet)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="write the output here (CSV, or JSON with --json), compressed when FILE ends in .gz, .bz2, .xz or .zip "
                        "(default, and '-': standard output)")
    parser.add_argument("--json", action="store_true", help="write JSON records instead of CSV")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from ._modelfile import open_model, read_table_for
    from ._output import check_output_file, refuse_overwriting, write_text_atomic

    if args.out == "-":  # the usual spelling of standard output (./- is a file of that name)
        args.out = None
    if args.out is not None:
        check_output_file(args.out, "--out", hint="; for standard output use --out - (or no --out)")
        compression = check_predictions_name(args.out, args.json)
        refuse_overwriting(args.out, "--out", {"the model file": args.model, "the input table": args.data})
    model = open_model(args.model)
    X, _ = read_table_for(model, args.model, args.data)
    frame = model.predictions_frame(X)
    if args.json:
        text = json_text(frame.to_dict(orient="records")) + "\n"
    else:
        text = frame.to_csv(index=False)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(args.out, text, compression=compression)
    return 0


#: Endings of table formats predict does not write (CSV or JSON only).
OTHER_FORMATS = (".parquet", ".pq", ".feather", ".arrow", ".orc", ".avro", ".xlsx", ".xlsm", ".xls", ".ods",
                 ".h5", ".hdf5", ".hdf", ".pkl", ".pickle", ".npy", ".npz", ".zst", ".tar", ".tgz", ".7z")


def check_predictions_name(out, as_json: bool) -> str | None:
    """The compression --out's name asks for (``.gz``, ``.bz2``, ``.xz``, ``.zip``), after
    refusing a name of another format (``.parquet``, ``.xlsx``, ...) or of the other text
    format (``.json`` without --json, ``.csv`` with it): such a file was written as CSV
    under that name, which nothing could then read as what it says it is."""
    from ._output import COMPRESSIONS, compression_of

    compression = compression_of(out)
    name = str(out).lower()
    if compression:
        name = name[: name.rindex(".")]
    kinds = f"{'JSON' if as_json else 'CSV'}, compressed when the name ends in " + ", ".join(COMPRESSIONS)
    other = next((ending for ending in OTHER_FORMATS if name.endswith(ending)), None)
    if other:
        raise ValueError(f"--out {out}: predict does not write {other} files; it writes {kinds}")
    if name.endswith(".json") and not as_json:
        raise ValueError(f"--out {out}: add --json to write JSON (predict writes CSV by default)")
    if name.endswith(".csv") and as_json:
        raise ValueError(f"--out {out}: --json writes JSON; name the file .json, or drop --json for CSV")
    return compression
