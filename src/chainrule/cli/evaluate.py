"""``chainrule evaluate MODEL FILE``: the model's loss and metric on a labelled table."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a saved model on a labelled CSV/Parquet table",
        description="Compute a saved model's loss and accuracy (classifiers) or R² (regressors) on FILE, "
        "which must hold the model's feature columns and its target column.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("data", help="table with the model's feature and target columns")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import numpy as np

    from ._modelfile import load_model_and_table

    net, meta, table, X = load_model_and_table(args.model, args.data, need_target=True)
    y = np.where(table.y > 0, 1, -1) if meta.get("labels_as_hinge") else table.y
    metrics = {"rows": int(X.shape[0]), **net.evaluate(X, y)}
    if args.json:
        print(json.dumps(metrics))
        return 0
    from rich.console import Console
    from rich.table import Table

    view = Table(title=f"{args.model} on {args.data}")
    view.add_column("metric")
    view.add_column("value", justify="right")
    for key, value in metrics.items():
        view.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    Console().print(view)
    return 0
