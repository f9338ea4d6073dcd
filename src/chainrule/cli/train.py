"""``chainrule train``: train a network on a built-in dataset or the user's own table and report it."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._options import add_network_options, add_training_options, make_optimizer, non_negative_float
from ._output import json_text

DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


def validation_fraction(text: str) -> float:
    """--validation-size: at most half the training part, so most of it is still trained on."""
    import argparse

    value = non_negative_float(text)
    if value > 0.5:
        raise argparse.ArgumentTypeError(f"must be in [0, 0.5] (the rest of the training part is trained on), "
                                         f"got {text}")
    return value


def register(subparsers) -> None:
    from ..datasets import BUILTIN_DATASETS

    parser = subparsers.add_parser(
        "train",
        help="train a network and report train/test metrics",
        description="Train a feedforward network by backpropagation. With no arguments it trains a "
        "2-8-8-1 tanh network on seed 002's moons, shows a progress bar (plain lines when not on a "
        "terminal), prints train and test metrics and writes the loss curve, decision boundary, "
        "confusion matrix and network diagram as PNGs. With --data FILE --target "
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
    parser.add_argument("--drop", action="append", default=[], metavar="COL[,COL...]",
                        help="for --data: columns that are not features (a row ID, a free-text note); repeatable. "
                        "The model records its feature columns, so predict and evaluate ignore these too")
    parser.add_argument("--save", default=None, metavar="FILE",
                        help="write the trained model (with its scaling and class labels) to FILE")
    parser.add_argument("--test-size", type=float, default=0.3,
                        help="fraction held out for testing (default: 0.3), chosen by --seed, stratified unless "
                        "--no-stratify; seed 002's own split of moons is --no-stratify --seed 42")
    parser.add_argument("--no-stratify", action="store_true",
                        help="split classification rows at random instead of keeping each class's share in every "
                        "part; a class with a single row is then allowed (its row lands in one part only)")
    parser.add_argument("--validation-size", type=validation_fraction, default=None, metavar="FRACTION",
                        help="fraction of the training part held out for validation, in [0, 0.5]: not trained "
                        "on, reported on its own row and in the loss curve (default: 0; 0.2 with --early-stopping, "
                        "which then watches the validation loss; 0 makes it watch the training loss)")
    parser.add_argument("--standardize", choices=["auto", "yes", "no"], default="auto",
                        help="scale features to zero mean, unit variance using the training part "
                        "(default: auto, i.e. yes for --data and the scikit-learn tabular datasets)")
    parser.add_argument("--standardize-target", choices=["auto", "yes", "no"], default="auto",
                        help="for regression, train on the standardised target and report in its own units "
                        "(default: auto, i.e. when the features are standardised)")
    parser.add_argument("--plots", default="chainrule-plots", metavar="DIR",
                        help="directory for the PNGs: loss curve, decision boundary (2 features, "
                        "classification), fit (1 feature, regression) or parity plot (several features, "
                        "regression), confusion matrix (classification), network diagram "
                        "(default: ./chainrule-plots)")
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
    note: str | None = None
    warnings: list = field(default_factory=list)  # the table's TableWarnings, said before training


def standardisation(X, names, what: str, purpose: str = "to standardise",
                    advice: str = "rescale it, e.g. to other units"):
    """Column means and standard deviations, a std of 1 for a constant column.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, d)
    names : list of str, length d
        The columns' names, for the error.
    what : str
        What a column is, for the error ("feature column", "target column").
    purpose, advice : str
        What the values are too large for, and what to do, for the error.

    Returns
    -------
    mean, std : numpy.ndarray, shape (d,)

    Raises
    ------
    ValueError
        Naming the first column whose values are too large to standardise (the variance
        overflows past |x| ≈ 1e154).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = X.mean(axis=0), X.std(axis=0)
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        j = int(np.argmax(bad))
        raise ValueError(f"{what} {names[j]!r} holds values too large {purpose} (largest |value| "
                         f"{float(np.abs(X[:, j]).max()):.3g}: the variance overflows); {advice}")
    std[std == 0] = 1.0
    return mean, std


def load_problem(args) -> Problem:
    """The built-in dataset, or the user's table (checked: numeric, complete, enough rows)."""
    from ..datasets import load_builtin, load_table

    if args.data is not None:
        if not args.target:
            raise ValueError("--data needs --target COLUMN")
        # the table's warnings are said once every check has passed (warn_about_table)
        table = load_table(args.data, args.target, task=args.task, drop=args.drop, drop_option="--drop", warn=False)
        check_enough_rows(args.data, table.X.shape[0], args.test_size)
        return Problem(table.X, table.y, table.task, args.data, table.feature_names, table.classes, args.target,
                       table.note, table.warnings)
    if args.target:
        raise ValueError("--target needs --data FILE")
    if args.drop:
        raise ValueError("--drop needs --data FILE")
    if args.task != "auto":  # a built-in dataset's task is its own
        raise ValueError(f"--task {args.task} needs --data FILE")
    X, y, task = load_builtin(args.dataset, seed=args.seed)
    return Problem(X, y, task, args.dataset)


def rows_needed(size: float) -> int:
    """Rows a train/test split with this test fraction needs: 2 in the smaller part."""
    return max(4, int(np.ceil(2 / min(size, 1 - size))))


def check_enough_rows(source, n: int, test_size: float, option: str = "--test-size") -> None:
    """Enough rows for --test-size (or, of the training part, --validation-size); when there
    are not, the sizes that would do."""
    minimum = rows_needed(test_size)
    if n >= minimum:
        return
    whole = option == "--test-size"
    split, largest = ("a train/test split", 99) if whole else ("a training/validation split", 50)
    rows = f"{source} has {n} rows" if whole else f"{source}: the training part has {n} rows"
    usable = [s / 100 for s in range(1, largest + 1) if n >= rows_needed(s / 100)]
    if n < 4 or not usable:
        raise ValueError(f"{rows}; {split} needs at least 4" + ("" if whole else " (use a smaller --test-size)"))
    raise ValueError(f"{rows}; {split} with {option} {test_size:g} needs at least {minimum} (2 in the smaller "
                     f"part): use {option} {usable[0]:g} to {usable[-1]:g} for {n} rows")


def split(problem: Problem, X, y, size: float, seed: int, parts: str, option: str = "--test-size",
          stratified: bool = True):
    """Split of ``(X, y)`` into two parts, stratified for classification unless told
    otherwise, with the reason when it cannot be made; ``parts`` names them for the message
    ("train and test"), ``option`` is the size's option."""
    from sklearn.model_selection import train_test_split

    stratify = y if problem.task != "regression" and stratified else None
    if stratify is not None:
        check_classes_have_two_rows(problem, y, parts)
        check_parts_hold_every_class(problem, y, size, parts, option)
    try:
        return train_test_split(X, y, test_size=size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise ValueError(f"{problem.source}: cannot split {X.shape[0]} rows into {parts} "
                         f"({str(exc).splitlines()[0]})") from None


def check_classes_have_two_rows(problem: Problem, y, parts: str) -> None:
    """A stratified split puts every class on both sides: refuse classes of one row, naming a
    few (not all of them, which a continuous target forced to classification would be)."""
    counts = np.bincount(y, minlength=len(problem.classes or []))
    single = np.flatnonzero(counts == 1)
    if single.size == 0:
        return
    labels = problem.classes or list(range(len(counts)))
    examples = ", ".join(f"{labels[i]:.6g}" if isinstance(labels[i], float) else repr(labels[i]) for i in single[:3])
    examples += ", ..." if single.size > 3 else ""
    target = f"target {problem.target!r}" if problem.target else "the target"
    present = np.count_nonzero(counts)
    looks_continuous = len(counts) > 20 or (present > 5 and 2 * single.size >= present)  # half seen once
    hint = ("; is it a regression target (--task regression)?" if numeric_classes(problem) and looks_continuous
            else "; --no-stratify splits at random instead (such a row then lands in one part only)")
    raise ValueError(f"{problem.source}: cannot split {y.shape[0]} rows into {parts}: {target} has "
                     f"{present} distinct values (classes), {single.size} of them in a single row "
                     f"(e.g. {examples}); a stratified split needs at least 2 rows per class{hint}")


def check_parts_hold_every_class(problem: Problem, y, size: float, parts: str, option: str) -> None:
    """A stratified split puts every class in both parts: each part needs as many rows as
    there are classes (scikit-learn counts ``ceil(size * n)`` rows for the second part)."""
    n, k = y.shape[0], np.unique(y).size
    held = int(np.ceil(size * n))
    if held >= k and n - held >= k:
        return
    first, second = parts.split(" and ")
    short, rows = (second, held) if held < k else (first, n - held)
    largest = 50 if option == "--validation-size" else 99
    usable = [s / 100 for s in range(1, largest + 1)
              if int(np.ceil(s / 100 * n)) >= k and n - int(np.ceil(s / 100 * n)) >= k]
    advice = (f"use {option} {usable[0]:g} or more" if held < k else f"use {option} {usable[-1]:g} or less") \
        if usable else f"{n} rows are too few for {k} classes"
    raise ValueError(f"{problem.source}: cannot split {n} rows into {parts}: {option} {size:g} leaves {rows} rows "
                     f"for {short}, fewer than the {k} classes a stratified split puts in each part; {advice} "
                     "(or --no-stratify)")


def numeric_classes(problem: Problem) -> bool:
    """A table's classes that are numbers, which --task regression could regress instead."""
    return bool(problem.classes) and all(isinstance(c, (int, float)) and not isinstance(c, bool)
                                         for c in problem.classes)


def check_device(device: str) -> None:
    """--device cuda needs CuPy and a visible GPU: the backend's own check, before any data
    is read, as a one-line error."""
    from ..backend import array_module

    try:
        array_module(device)
    except RuntimeError as exc:
        raise ValueError(f"--device {device}: {exc}") from None


def run(args) -> int:
    from .. import EarlyStopping, StopOnDivergence, TrainingInterrupted, mlp
    from . import EXIT_INTERRUPTED
    from ..losses import get_loss
    from ._output import check_output_dir, check_output_file, refuse_overwriting
    from ._train_report import (check_plot_files, check_save_beside_plots, make_plots, metrics_of, print_report,
                                write_plots)

    if not 0 < args.test_size < 1:
        raise ValueError(f"--test-size must be in (0, 1), got {args.test_size}")
    check_device(args.device)
    if not args.no_plots:
        check_output_dir(args.plots, "--plots")
        check_plot_files(args.plots)
    if args.save:
        refuse_overwriting(args.save, "--save", {"the input table": args.data} if args.data else {})
        if not args.no_plots:
            check_save_beside_plots(args.save, args.plots)
        check_output_file(args.save, "--save")
    problem = load_problem(args)
    task = problem.task
    loss = get_loss(args.loss or DEFAULT_LOSS[task])
    check_loss_fits_task(loss, problem)
    X_train_raw, X_test_raw, y_train_raw, y_test_raw = split(problem, problem.X, problem.y, args.test_size,
                                                             args.seed, "train and test",
                                                             stratified=not args.no_stratify)
    validation_size = args.validation_size
    if validation_size is None:
        validation_size = 0.2 if args.early_stopping else 0.0
    X_val_raw = y_val_raw = None
    if validation_size:  # held out of the training part: trained on never, reported apart
        check_enough_rows(problem.source, X_train_raw.shape[0], validation_size, "--validation-size")
        X_train_raw, X_val_raw, y_train_raw, y_val_raw = split(problem, X_train_raw, y_train_raw, validation_size,
                                                               args.seed, "training and validation",
                                                               "--validation-size", not args.no_stratify)

    d = problem.X.shape[1]
    standardize = args.standardize == "yes" or (args.standardize == "auto" and (d > 2 or args.data is not None))
    mean, std = np.zeros(d), np.ones(d)
    names = problem.features or [f"feature {j + 1}" for j in range(d)]
    if standardize:
        standardisation(problem.X, names, "feature column")  # every row: a huge one may be a test row
        mean, std = standardisation(X_train_raw, names, "feature column")
    scale_target = task == "regression" and (args.standardize_target == "yes"
                                             or (args.standardize_target == "auto" and standardize))
    y_mean, y_std = 0.0, 1.0
    if scale_target:
        target = [problem.target or "target"]
        standardisation(np.reshape(problem.y, (-1, 1)), target, "target column")
        y_means, y_stds = standardisation(np.reshape(y_train_raw, (-1, 1)), target, "target column")
        y_mean, y_std = float(y_means[0]), float(y_stds[0])

    def prepared(X_raw, y_raw):
        """Features scaled and targets in the loss's encoding."""
        if task == "regression":
            y_raw = (y_raw - y_mean) / y_std
        elif loss.name == "hinge":
            y_raw = np.where(y_raw > 0, 1, -1)
        return (X_raw - mean) / std, y_raw

    parts = {"train": prepared(X_train_raw, y_train_raw), "test": prepared(X_test_raw, y_test_raw)}
    if X_val_raw is not None:
        parts["validation"] = prepared(X_val_raw, y_val_raw)
    warn_about_table(problem)
    y = problem.y
    n_out = int(np.max(y) + 1) if loss.name == "cross_entropy" else (1 if y.ndim == 1 else y.shape[1])
    net = mlp([d, *args.hidden, n_out], activation=args.activation, init=args.init,
              rng=args.seed, dtype=args.dtype, device=args.device, batch_norm=args.batch_norm,
              dropout=args.dropout, residual=args.residual)
    # a diverging run stops (exit 1, nothing written) instead of saving a model that learned nothing
    callbacks = [StopOnDivergence()] + ([EarlyStopping(patience=args.early_stopping)] if args.early_stopping else [])
    try:
        history = net.fit(*parts["train"], loss=loss, optimizer=make_optimizer(args), epochs=args.epochs,
                          batch_size=args.batch_size, validation_data=parts.get("validation"), callbacks=callbacks,
                          verbose=0 if (args.quiet or args.json) else 1, rng=args.seed)
        interrupted = None
    except TrainingInterrupted as interrupt:  # Ctrl-C: report, plot and save the epochs that ended
        if not interrupt.history.epochs:
            raise
        history, interrupted = interrupt.history, str(interrupt)
    features = problem.features or [f"x{i}" for i in range(d)]
    metadata = {"features": features, "target": problem.target, "task": task, "classes": problem.classes,
                "labels_as_hinge": loss.name == "hinge", "scaler_mean": mean.tolist(), "scaler_std": std.tolist(),
                "dataset": problem.source}
    if scale_target:
        metadata.update(target_mean=y_mean, target_std=y_std)
    figures = []
    if not args.no_plots:  # drawn first: a figure that fails leaves nothing written
        from ._modelfile import NetworkFile

        figures = make_plots(net, history, task, view=NetworkFile(net, metadata),
                             train=(X_train_raw, y_train_raw), test=(X_test_raw, y_test_raw),
                             named=args.data is not None, scaled_target=scale_target)
    names = [name for name in ("train", "validation", "test") if name in parts]
    results = {
        "dataset": problem.source,
        "task": task,
        "network": [d, *args.hidden, n_out],
        "activation": args.activation if args.hidden else None,
        "loss": loss.name,
        "epochs_run": history.epochs,
        "standardized": {"features": bool(standardize), "target": bool(scale_target)},
        "rows": {name: int(parts[name][0].shape[0]) for name in names},
        **{name: metrics_of(net, *parts[name], y_std) for name in names},
        # the returned weights' (early stopping's restored ones: the validation row's), and the last epoch's
        "final_val_loss": None,
        "last_epoch_val_loss": history.val_loss[-1] if history.val_loss else None,
        "restored_epoch": None if history.best_epoch is None else history.best_epoch + 1,
        "plots": [],
        "saved": args.save,
        "note": problem.note,
        "stop_reason": history.stop_reason,  # early stopping, or Ctrl-C
    }
    if "validation" in results:
        results["final_val_loss"] = results["validation"]["loss"]
    if figures:
        results["plots"] = write_plots(Path(args.plots), figures)
    if args.save:  # last: a run that stops on the way leaves no model behind
        net.save(args.save, **metadata)
    if args.json:
        print(json_text(results, indent=2))
    else:
        print_report(results, history)
    if interrupted:  # Ctrl-C again while reporting or saving stops at once (the save is atomic)
        print(f"chainrule: {interrupted}; the results above and the files written are of the network as "
              "training left it" + (" (early stopping's best weights)" if history.best_epoch is not None else ""),
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def warn_about_table(problem: Problem) -> None:
    """The table's warnings (comment lines skipped, a column that looks like a row ID), once
    the checks have passed, so that an error stays one line."""
    from ._output import print_warnings

    print_warnings(problem.warnings)


def check_loss_fits_task(loss, problem: Problem) -> None:
    """Refuse a loss that cannot express the targets (no silent relabelling), either way:
    a classification loss on a regression target, a regression loss on classes (as the
    estimators do), a two-class loss on more classes."""
    if problem.task == "regression":
        if loss.task != "regression":
            raise ValueError(f"loss {loss.name} is for classification but dataset {problem.source} is a regression "
                             "problem; use --loss mse, sse or huber")
        return
    n_classes = len(np.unique(problem.y))
    if loss.task == "regression":
        target = f"the target {problem.target!r}" if problem.target else f"dataset {problem.source}"
        advice = "bce or cross_entropy" if n_classes == 2 else "cross_entropy"
        raise ValueError(f"loss {loss.name} is a regression loss but {target} is categorical ({n_classes} classes): "
                         f"use --loss {advice}" + (" (or --task regression)" if numeric_classes(problem) else "")
                         + ("; seed 000's own network, a sigmoid output descending ½·SSE on 0/1 labels, is "
                            "examples/seed_000_lecture.py" if problem.source == "lecture" else ""))
    if loss.task == "binary" and n_classes > 2:
        raise ValueError(f"loss {loss.name} is for two classes but dataset {problem.source} has {n_classes}; "
                         "use --loss cross_entropy")
