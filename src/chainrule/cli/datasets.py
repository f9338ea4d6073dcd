"""``chainrule datasets``: the built-in datasets."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list the built-in datasets",
                                   description="List the datasets `chainrule train --dataset NAME` knows.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from ..datasets import BUILTIN_DATASETS

    rows = [{"name": d.name, "task": d.task, "description": d.description} for d in BUILTIN_DATASETS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="built-in datasets")
    for column in ("name", "task", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["task"], row["description"])
    Console().print(table)
    return 0
