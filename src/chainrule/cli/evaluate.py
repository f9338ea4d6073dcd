"""``chainrule evaluate MODEL FILE``: a saved model's metrics on a labelled table."""

from __future__ import annotations

import numpy as np


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a saved model on a labelled CSV/Parquet table",
        description="Compute a saved model's metrics on DATA, which must hold the model's feature columns and "
        "its target column: loss, accuracy and the confusion matrix for classifiers; R², MSE, RMSE and MAE "
        "(in the target's own units) for regressors.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("data", help="table with the model's feature and target columns")
    parser.add_argument("--target", default=None, metavar="COLUMN",
                        help="the target column (default: the one recorded in the model file)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from ._modelfile import open_model, read_table_for
    from ._output import json_text
    from .train import standardisation

    model = open_model(args.model)
    if model.task == "multilabel":
        raise ValueError(f"{args.model} is a multilabel classifier ({len(model.classes)} label columns): evaluate "
                         "reads one target column; use chainrule predict, or the estimator's score in Python")
    target = args.target or model.target
    if not target:
        raise ValueError(f"{args.model} does not record its target column; name it with --target COLUMN")
    if model.features and target in model.features:
        given = f"--target {target} is" if args.target else f"the target recorded in {args.model}, {target!r}, is"
        raise ValueError(f"{given} one of the model's feature columns; name the column it predicts")
    X, y = read_table_for(model, args.model, args.data, target=target)
    if model.task == "regression":  # R² and the MSE square the target: refused where that overflows
        standardisation(np.reshape(y, (-1, 1)), [target], "target column", purpose="for R² and the MSE",
                        advice="check the column")
    metrics = model.metrics(X, y)
    if args.json:
        print(json_text(metrics))
        return 0
    from pathlib import Path

    print_metrics(metrics, f"{Path(args.model).name} on {Path(args.data).name}, target {target}")
    return 0


#: The widest confusion matrix table printed when standard output is not a terminal.
LOG_TABLE_WIDTH = 200


def print_metrics(metrics: dict, title: str) -> None:
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    from ._output import report_console

    console = report_console()
    # titles on lines of their own: a table's title is wrapped to the table's (narrow) width
    console.print(title, markup=False, highlight=False, soft_wrap=True)
    view = Table()
    view.add_column("metric")
    view.add_column("value", justify="right")
    for key, value in metrics.items():
        if key in ("confusion_matrix", "loss_name"):
            continue
        name = f"loss ({metrics['loss_name']})" if key == "loss" and metrics.get("loss_name") else key
        if value is None and key == "r2":
            value = "undefined (R² needs 2 rows)"
        view.add_row(Text(name), Text(f"{value:.6g}" if isinstance(value, float) else str(value)))
    console.print(view)
    confusion = metrics.get("confusion_matrix")
    terminal = console.is_terminal or console.is_jupyter
    limit = console.width if terminal else LOG_TABLE_WIDTH
    if not confusion:
        return
    matrix = Table()
    matrix.add_column("true \\ predicted")
    for label in confusion["labels"]:
        matrix.add_column(Text(str(label)), justify="right")
    for label, row in zip(confusion["labels"], confusion["counts"]):
        matrix.add_row(Text(str(label)), *map(str, row))  # Text: a label like "[a]" is not markup
    if Measurement.get(console, console.options, matrix).maximum > limit:
        where = f"the {limit}-column terminal" if terminal else f"{limit} columns"
        console.print(f"confusion matrix of {len(confusion['labels'])} classes not shown: wider than {where} "
                      "(--json has every count)", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("confusion matrix (rows: true class, columns: predicted)", soft_wrap=True)
        console.print(matrix)
