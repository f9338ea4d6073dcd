"""``chainrule train``: train a network on a built-in dataset and report it."""

from __future__ import annotations

import json
import sys
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
        "metrics and writes the loss curve and decision boundary as PNGs.",
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
                        "(default: auto, i.e. yes for the scikit-learn tabular datasets)")
    parser.add_argument("--plots", default="chainrule-plots", metavar="DIR",
                        help="directory for the PNGs (default: ./chainrule-plots)")
    parser.add_argument("--no-plots", action="store_true", help="write no PNGs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    add_network_options(parser)
    add_training_options(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from sklearn.model_selection import train_test_split

    from .. import EarlyStopping, mlp
    from ..datasets import load_builtin, load_table
    from ..losses import get_loss

    if not 0 < args.test_size < 1:
        raise ValueError(f"--test-size must be in (0, 1), got {args.test_size}")
    if not 0 <= args.validation_size < 1:
        raise ValueError(f"--validation-size must be in [0, 1), got {args.validation_size}")
    source, features, classes = args.dataset, None, None
    if args.data is not None:
        if not args.target:
            raise ValueError("--data needs --target COLUMN")
        table = load_table(args.data, args.target, task=args.task)
        X, y, task, source, features, classes = table.X, table.y, table.task, args.data, table.feature_names, table.classes
        minimum = max(4, int(np.ceil(2 / min(args.test_size, 1 - args.test_size))))
        if X.shape[0] < minimum:
            raise ValueError(f"{args.data} has {X.shape[0]} rows; a train/test split needs at least {minimum}")
    elif args.target:
        raise ValueError("--target needs --data FILE")
    else:
        X, y, task = load_builtin(args.dataset, seed=args.seed)
    loss = get_loss(args.loss or DEFAULT_LOSS[task])
    check_loss_fits_task(loss, task, y, source)
    stratify = y if task != "regression" else None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size,
                                                        random_state=args.seed, stratify=stratify)
    standardize = args.standardize == "yes" or (args.standardize == "auto" and (X.shape[1] > 2 or args.data))
    mean, std = np.zeros(X.shape[1]), np.ones(X.shape[1])
    if standardize:
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    if loss.name == "hinge":
        y_train, y_test = np.where(y_train > 0, 1, -1), np.where(y_test > 0, 1, -1)
    n_out = int(np.max(y) + 1) if loss.name == "cross_entropy" else (1 if y.ndim == 1 else y.shape[1])
    net = mlp([X.shape[1], *args.hidden, n_out], activation=args.activation, init=args.init,
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
    if args.save:
        net.save(args.save, features=features or [f"x{i}" for i in range(X.shape[1])], target=args.target,
                 task=task, classes=classes, labels_as_hinge=loss.name == "hinge",
                 scaler_mean=mean.tolist(), scaler_std=std.tolist())
    results = {
        "dataset": source,
        "task": task,
        "network": [X.shape[1], *args.hidden, n_out],
        "activation": args.activation,
        "loss": loss.name,
        "epochs_run": history.epochs,
        "train": net.evaluate(X_train, y_train),
        "test": net.evaluate(X_test, y_test),
        "plots": [],
        "saved": args.save,
    }
    if not args.no_plots:
        results["plots"] = write_plots(net, history, X_train, y_train, task, Path(args.plots), X_test, y_test)
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


def write_plots(net, history, X, y, task, directory: Path, X_test=None, y_test=None) -> list[str]:
    """Write the loss curve, the network diagram, the decision boundary (2-D
    classification) or the fit (1-D regression), and the test-set confusion matrix
    (classification); return the paths."""
    from .. import plot

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    figures = [("loss_curve.png", plot.loss_curve(history))]
    if X.shape[1] == 2 and task != "regression":
        figures.append(("decision_boundary.png", plot.decision_boundary(net, X, y, title="Decision boundary (training set)")))
    elif X.shape[1] == 1 and task == "regression":
        figures.append(("fit.png", plot.regression_fit(net, X, y, title="Network fit (training set)")))
    if task != "regression" and X_test is not None:
        figures.append(("confusion_matrix.png", plot.confusion_matrix(y_test, net.predict_classes(X_test),
                                                                      title="Test set")))
    figures.append(("network.png", plot.network_diagram(net, title="Trained network")))
    for name, figure in figures:
        path = directory / name
        save_figure(figure, path)
        written.append(str(path))
    return written


def save_figure(figure, path: Path) -> None:
    """Save atomically (temporary file, then rename) and close the figure."""
    import os

    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    os.replace(tmp, path)
    plt.close(figure)


def print_report(results: dict, history) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    metric = next(k for k in results["train"] if k != "loss")
    console.print(f"[bold]{results['dataset']}[/]: network {'-'.join(map(str, results['network']))} "
                  f"({results['activation']}), loss {results['loss']}, {results['epochs_run']} epochs")
    table = Table()
    table.add_column("split")
    table.add_column(f"loss ({results['loss']})", justify="right")
    table.add_column(metric, justify="right")
    for split in ("train", "test"):
        table.add_row(split, f"{results[split]['loss']:.6f}", f"{results[split][metric]:.4f}")
    console.print(table)
    if history.stop_reason:
        console.print(history.stop_reason)
    for path in results["plots"] + ([results["saved"]] if results.get("saved") else []):
        console.print(f"wrote {path}")
    sys.stdout.flush()
