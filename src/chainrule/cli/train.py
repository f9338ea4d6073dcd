"""``chainrule train``: train a network on a built-in dataset or the user's own table and report it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._options import add_network_options, add_training_options, make_optimizer

DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


def register(subparsers) -> None:
    from ..datasets import BUILTIN_DATASETS

    parser = subparsers.add_parser(
        "train",
        help="train a network and report train/test metrics",
        description="Train a feedforward network by backpropagation. With no arguments it trains a "
        "2-8-8-1 tanh network on seed 002's moons, shows a progress bar, prints train and test "
        "metrics and writes the loss curve and decision boundary as PNGs. With --data FILE --target "
        "COLUMN it trains on your own table (numeric feature columns; a categorical target means "
        "classification) and --save writes a model file for `chainrule predict` and `chainrule evaluate`.",
    )
    parser.add_argument("--dataset", default="moons", choices=list(BUILTIN_DATASETS), metavar="NAME",
                        help=f"built-in dataset: {', '.join(BUILTIN_DATASETS)} (default: moons)")
    parser.add_argument("--data", default=None, metavar="FILE",
                        help="train on your own table instead (CSV, or Parquet with pyarrow): numeric feature "
                        "columns and a --target column")
    parser.add_argument("--target", default=None, metavar="COLUMN", help="the target column of --data")
    parser.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                        help="for --data: auto treats a non-numeric target, or an integer one with at most 20 "
                        "values, as classification (default: auto)")
    parser.add_argument("--save", default=None, metavar="FILE",
                        help="write the trained model (with its scaling and class labels) to FILE")
    parser.add_argument("--test-size", type=float, default=0.3, help="fraction held out for testing (default: 0.3)")
    parser.add_argument("--validation-size", type=float, default=0.0,
                        help="fraction of the training part used for validation (default: 0; 0.2 with --early-stopping)")
    parser.add_argument("--standardize", choices=["auto", "yes", "no"], default="auto",
                        help="scale features to zero mean, unit variance using the training part "
                        "(default: auto, i.e. yes for --data and the scikit-learn tabular datasets)")
    parser.add_argument("--standardize-target", choices=["auto", "yes", "no"], default="auto",
                        help="for regression, train on the standardised target and report in its own units "
                        "(default: auto, i.e. when the features are standardised)")
    parser.add_argument("--plots", default="chainrule-plots", metavar="DIR",
                        help="directory for the PNGs: loss curve, decision boundary (2 features) or fit "
                        "(1 feature), confusion matrix, network diagram (default: ./chainrule-plots)")
    parser.add_argument("--no-plots", action="store_true", help="write no PNGs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_network_options(parser)
    add_training_options(parser)
    parser.set_defaults(handler=run)


@dataclass
class Problem:
    """The data to train on and what is known about it."""

    X: np.ndarray
    y: np.ndarray
    task: str
    source: str
    features: list | None = None
    classes: list | None = None
    target: str | None = None


def load_problem(args) -> Problem:
    """The built-in dataset, or the user's table (checked: numeric, complete, enough rows)."""
    from ..datasets import load_builtin, load_table

    if args.data is not None:
        if not args.target:
            raise ValueError("--data needs --target COLUMN")
        table = load_table(args.data, args.target, task=args.task)
        minimum = max(4, int(np.ceil(2 / min(args.test_size, 1 - args.test_size))))
        if table.X.shape[0] < minimum:
            raise ValueError(f"{args.data} has {table.X.shape[0]} rows; a train/test split needs at least {minimum}")
        return Problem(table.X, table.y, table.task, args.data, table.feature_names, table.classes, args.target)
    if args.target:
        raise ValueError("--target needs --data FILE")
    X, y, task = load_builtin(args.dataset, seed=args.seed)
    return Problem(X, y, task, args.dataset)


def split(problem: Problem, test_size: float, seed: int):
    """Stratified (classification) train/test split, with the reason when it cannot be made."""
    from sklearn.model_selection import train_test_split

    stratify = problem.y if problem.task != "regression" else None
    try:
        return train_test_split(problem.X, problem.y, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise ValueError(f"{problem.source}: cannot split {problem.X.shape[0]} rows into train and test "
                         f"({str(exc).splitlines()[0]})") from None


def run(args) -> int:
    from .. import EarlyStopping, mlp
    from ..losses import get_loss
    from ._output import check_output_dir, check_output_file
    from ._train_report import metrics_of, print_report, write_plots

    if not 0 < args.test_size < 1:
        raise ValueError(f"--test-size must be in (0, 1), got {args.test_size}")
    if not 0 <= args.validation_size < 1:
        raise ValueError(f"--validation-size must be in [0, 1), got {args.validation_size}")
    if args.save:
        check_output_file(args.save, "--save")
    if not args.no_plots:
        check_output_dir(args.plots, "--plots")
    problem = load_problem(args)
    task, y = problem.task, problem.y
    loss = get_loss(args.loss or DEFAULT_LOSS[task])
    check_loss_fits_task(loss, task, y, problem.source)
    X_train_raw, X_test_raw, y_train_raw, y_test_raw = split(problem, args.test_size, args.seed)

    d = problem.X.shape[1]
    standardize = args.standardize == "yes" or (args.standardize == "auto" and (d > 2 or args.data is not None))
    mean, std = np.zeros(d), np.ones(d)
    if standardize:
        mean, std = X_train_raw.mean(axis=0), X_train_raw.std(axis=0)
        std[std == 0] = 1.0
    X_train, X_test = (X_train_raw - mean) / std, (X_test_raw - mean) / std
    scale_target = task == "regression" and (args.standardize_target == "yes"
                                             or (args.standardize_target == "auto" and standardize))
    y_mean, y_std = 0.0, 1.0
    if scale_target:
        y_mean, y_std = float(np.mean(y_train_raw)), float(np.std(y_train_raw)) or 1.0
    y_train, y_test = y_train_raw, y_test_raw
    if task == "regression":
        y_train, y_test = (y_train_raw - y_mean) / y_std, (y_test_raw - y_mean) / y_std
    elif loss.name == "hinge":
        y_train, y_test = np.where(y_train_raw > 0, 1, -1), np.where(y_test_raw > 0, 1, -1)

    n_out = int(np.max(y) + 1) if loss.name == "cross_entropy" else (1 if y.ndim == 1 else y.shape[1])
    net = mlp([d, *args.hidden, n_out], activation=args.activation, init=args.init,
              rng=args.seed, dtype=args.dtype, device=args.device, batch_norm=args.batch_norm,
              dropout=args.dropout, residual=args.residual)
    callbacks = []
    validation_split = args.validation_size
    if args.early_stopping:
        callbacks.append(EarlyStopping(patience=args.early_stopping))
        validation_split = validation_split or 0.2
    history = net.fit(X_train, y_train, loss=loss, optimizer=make_optimizer(args), epochs=args.epochs,
                      batch_size=args.batch_size, validation_split=validation_split, callbacks=callbacks,
                      verbose=0 if (args.quiet or args.json) else 1, rng=args.seed)
    features = problem.features or [f"x{i}" for i in range(d)]
    metadata = {"features": features, "target": problem.target, "task": task, "classes": problem.classes,
                "labels_as_hinge": loss.name == "hinge", "scaler_mean": mean.tolist(), "scaler_std": std.tolist(),
                "dataset": problem.source}
    if scale_target:
        metadata.update(target_mean=y_mean, target_std=y_std)
    if args.save:
        net.save(args.save, **metadata)
    results = {
        "dataset": problem.source,
        "task": task,
        "network": [d, *args.hidden, n_out],
        "activation": args.activation,
        "loss": loss.name,
        "epochs_run": history.epochs,
        "standardized": {"features": bool(standardize), "target": bool(scale_target)},
        "rows": {"train": int(X_train.shape[0]), "test": int(X_test.shape[0])},
        "train": metrics_of(net, X_train, y_train, y_std),
        "test": metrics_of(net, X_test, y_test, y_std),
        "final_val_loss": history.val_loss[-1] if history.val_loss else None,
        "plots": [],
        "saved": args.save,
    }
    if not args.no_plots:
        from ._modelfile import NetworkFile

        view = NetworkFile(net, metadata)
        results["plots"] = write_plots(net, history, task, Path(args.plots), view=view,
                                       train=(X_train_raw, y_train_raw), test=(X_test_raw, y_test_raw),
                                       named=args.data is not None)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results, history)
    return 0


def check_loss_fits_task(loss, task, y, dataset) -> None:
    """Refuse a loss that cannot express the dataset's targets (no silent relabelling)."""
    n_classes = len(np.unique(y)) if task != "regression" else 0
    if loss.task == "binary" and n_classes > 2:
        raise ValueError(f"loss {loss.name} is for two classes but dataset {dataset} has {n_classes}; "
                         "use --loss cross_entropy")
    if loss.task != "regression" and task == "regression":
        raise ValueError(f"loss {loss.name} is for classification but dataset {dataset} is a regression "
                         "problem; use --loss mse, sse or huber")
