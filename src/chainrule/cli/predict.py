"""``chainrule predict MODEL FILE``: predictions (and class probabilities) as CSV."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on a CSV/Parquet table",
        description="Apply a model saved by `chainrule train --save` to the feature columns of FILE and "
        "write one row per input: the prediction, and for classifiers the probability of every class.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("data", help="table with the model's feature columns (CSV, or Parquet)")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the CSV here (default: standard output)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of CSV")
    parser.set_defaults(handler=run)


def predictions_frame(net, meta, X):
    """A DataFrame with ``prediction`` and, for classifiers, ``p_<class>`` columns."""
    import pandas as pd

    output = net.predict(X)
    classes = meta.get("classes")
    if meta.get("task") in ("binary", "multiclass") and classes:
        proba = np.column_stack([1 - output[:, 0], output[:, 0]]) if output.shape[1] == 1 else output
        if meta.get("labels_as_hinge"):  # hinge outputs are margins, not probabilities
            frame = pd.DataFrame({"prediction": [classes[int(v > 0)] for v in output[:, 0]], "margin": output[:, 0]})
            return frame
        frame = pd.DataFrame({"prediction": [classes[i] for i in proba.argmax(axis=1)]})
        for i, label in enumerate(classes):
            frame[f"p_{label}"] = proba[:, i]
        return frame
    if output.shape[1] == 1:
        return pd.DataFrame({"prediction": output[:, 0]})
    return pd.DataFrame({f"prediction_{i}": output[:, i] for i in range(output.shape[1])})


def run(args) -> int:
    from ._modelfile import load_model_and_table

    net, meta, _, X = load_model_and_table(args.model, args.data, need_target=False)
    frame = predictions_frame(net, meta, X)
    text = json.dumps(frame.to_dict(orient="records")) if args.json else frame.to_csv(index=False)
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return 0
