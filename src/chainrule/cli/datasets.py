"""``chainrule datasets``: the built-in datasets."""

from __future__ import annotations

from ._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list the built-in datasets",
                                   description="List the datasets `chainrule train --dataset NAME` knows, "
                                   "with their task, size and origin.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def rows() -> list[dict]:
    """One record per built-in dataset: name, task, samples, features, description."""
    from ..datasets import BUILTIN_DATASETS

    out = []
    for dataset in BUILTIN_DATASETS.values():
        X, _ = dataset.load(0)
        out.append({"name": dataset.name, "task": dataset.task, "samples": int(X.shape[0]),
                    "features": int(X.shape[1]), "description": dataset.description})
    return out


def run(args) -> int:
    records = rows()
    if args.json:
        print(json_text(records, indent=2))
        return 0
    from rich.table import Table
    from rich.text import Text

    from ._output import report_console

    table = Table(title="built-in datasets (chainrule train --dataset NAME)")
    for column in ("name", "task", "samples", "features", "description"):
        table.add_column(column, justify="right" if column in ("samples", "features") else "left")
    for row in records:
        cells = (row["name"], row["task"], str(row["samples"]), str(row["features"]), row["description"])
        table.add_row(*map(Text, cells))  # Text: "[-π, π]" is data, not rich markup
    report_console().print(table)
    return 0
