"""What ``chainrule train`` shows and writes: metrics, the rich report, the PNGs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ._output import check_output_file, same_file, save_figure

#: Every file ``write_plots`` may write into the --plots directory.
PLOT_FILES = ("loss_curve.png", "decision_boundary.png", "fit.png", "parity.png", "confusion_matrix.png",
              "network.png")


def check_plot_files(plots) -> None:
    """Refuse, before any work, a figure path in --plots that exists as something other than
    a regular file (a FIFO, a device, a directory, also through a link): found only when that
    figure was written, it stopped the run after the model and the earlier figures."""
    for name in PLOT_FILES:
        path = Path(plots) / name
        if os.path.lexists(path):
            check_output_file(path, "--plots")


def check_save_beside_plots(save, plots) -> None:
    """Refuse a --save path that is the --plots directory or one of the figures written
    there (which would replace the model, or the model them), before any work."""
    if same_file(save, plots):
        raise ValueError(f"--save {save} is the --plots directory; give another file name")
    for name in PLOT_FILES:
        if same_file(save, Path(plots) / name):
            raise ValueError(f"--save {save} is {name}, a figure --plots {plots} writes; give another file name "
                             "(or --no-plots)")


def metrics_of(net, X, y, target_std: float = 1.0) -> dict:
    """The network's loss and accuracy / R² on prepared arrays; for regression also the RMSE
    in the target's own units (``target_std`` undoes target standardisation)."""
    out = net.evaluate(X, y)
    if "r2" in out:
        error = net.predict(X) - np.asarray(y, dtype=float).reshape(len(y), -1)
        out["rmse"] = float(np.sqrt(np.mean(error**2)) * target_std)
    return out


class _RawUnits:
    """The parts of ``Sequential`` the plots use, taking raw feature values and answering in
    the target's units (through a ``TableModel``)."""

    def __init__(self, view):
        self.view = view
        self.loss = view.network.loss
        self.n_outputs = view.network.n_outputs
        self.n_inputs = view.network.n_inputs

    def predict(self, X):
        return self.view.output(np.asarray(X, dtype=float))

    def predict_classes(self, X):
        return self.view.label_indices(np.asarray(X, dtype=float))


def write_plots(directory: Path, figures) -> list[str]:
    """Save ``make_plots``'s figures into ``directory`` (atomically, each); return the paths.
    A figure of an earlier run that this one does not write (a decision boundary beside a new
    fit) is left alone, with a warning that it is not from this run."""
    from ._output import print_warnings

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in figures:
        path = directory / name
        save_figure(figure, path)
        written.append(str(path))
    names = {name for name, _ in figures}
    print_warnings(f"{directory / name} is from an earlier run: this one did not write it"
                   for name in PLOT_FILES if name not in names and (directory / name).exists())
    return written


def make_plots(net, history, task, view, train, test, named: bool = False,
               scaled_target: bool = False) -> list:
    """The loss curve, the decision boundary (2-feature classification) or the fit
    (1-feature regression), a parity plot (regression on several features), the test-set
    confusion matrix (classification) and the network diagram, as ``[(file name, figure)]``:
    drawn before anything is written, so that a figure that cannot be drawn leaves no model
    file or half the plots behind.

    Parameters
    ----------
    view : TableModel
        The trained network with its scaling, so that the figures are in the data's units.
    train, test : (X, y)
        Raw features and targets (class indices for classification).
    named : bool
        Label axes and classes with the table's column names and class labels.
    scaled_target : bool
        The network was trained on the standardised target, so its loss is in those units.
    """
    from .. import plot

    (X, y), (X_test, y_test) = train, test
    raw = _RawUnits(view)
    classes = view.classes or []
    curve = plot.loss_curve(history)
    if scaled_target:
        curve.axes[0].set_ylabel(f"loss ({net.loss.name}, standardised target)")
    figures = [("loss_curve.png", curve)]
    if X.shape[1] == 2 and task != "regression":
        names = [f"{view.target} = {c}" for c in classes] if named else None  # every class, by index
        figure = plot.decision_boundary(raw, X, y, title="Decision boundary (training set)", class_names=names)
        if named:
            _name_axes(figure.axes[0], view.features[0], view.features[1])
        figures.append(("decision_boundary.png", figure))
    elif X.shape[1] == 1 and task == "regression":
        figure = plot.regression_fit(raw, X, y, title="Network fit (training set)")
        if named:
            _name_axes(figure.axes[0], view.features[0], view.target)
        figures.append(("fit.png", figure))
    elif task == "regression":
        quantity = _axis_name(view.target or "y")
        figures.append(("parity.png", plot.parity(y_test, raw.predict(X_test)[:, 0], title="Test set: predicted against true",
                                                  quantity=quantity)))
    if task != "regression":
        labels = classes if named else None
        truth, predicted = y_test, raw.predict_classes(X_test)
        if named:
            truth, predicted = [classes[i] for i in y_test], [classes[i] for i in predicted]
        figures.append(("confusion_matrix.png", plot.confusion_matrix(truth, predicted, labels=labels,
                                                                      title="Test set")))
    inputs, outputs = _unit_names(net, task, view, classes) if named else (None, None)
    figures.append(("network.png", plot.network_diagram(net, title="Trained network", input_names=inputs,
                                                       output_names=outputs)))
    for _, figure in figures:
        figure.canvas.draw()  # text and layout errors surface here, before any file is written
    return figures


def _unit_names(net, task, view, classes):
    """The table's names for the network's input and output units (None where unknown)."""
    inputs = list(view.features) if view.features and len(view.features) == net.n_inputs else None
    outputs = None
    if task == "regression":
        outputs = [view.target] if view.target and net.n_outputs == 1 else None
    elif net.n_outputs == len(classes):
        outputs = [f"{view.target} = {c}" if view.target else str(c) for c in _short_classes(classes, view.target)]
    elif net.n_outputs == 1 and len(classes) == 2:
        outputs = [f"{view.target} = {classes[1]}" if view.target else str(classes[1])]
    return inputs, outputs


def _short_classes(classes, target):
    """Class labels shortened (kept distinct) to fit beside "target = " in the network
    diagram's name width, so that the label, not the target's name, loses characters."""
    from ..plot._labels import short_labels
    from ..plot.models import UNIT_NAME_CHARS

    prefix = len(f"{target} = ") if target else 0
    short, numbered = short_labels(classes, max(UNIT_NAME_CHARS - prefix, 16))
    return classes if numbered else short  # numbered: the diagram numbers the whole names, with a key


#: Longest column name an axis label shows whole (a longer one keeps its head and tail).
AXIS_NAME_LIMIT = 48


def _axis_name(name) -> str:
    """A column name as an axis label: shortened in the middle, shown literally."""
    from ..plot._labels import middle_ellipsis, plain

    return plain(middle_ellipsis(str(name), AXIS_NAME_LIMIT))


def _name_axes(ax, xlabel, ylabel) -> None:
    ax.set_xlabel(_axis_name(xlabel))
    ax.set_ylabel(_axis_name(ylabel))


def print_report(results: dict, history) -> None:
    """The rich summary: network, loss, epochs, a train/test metrics table, files written."""
    from rich.markup import escape
    from rich.table import Table

    from ._output import report_console

    console = report_console()
    metric = next(k for k in results["train"] if k not in ("loss", "rmse"))
    scaled = results["standardized"]
    notes = [name for name in ("features", "target") if scaled.get(name)]
    console.print(f"[bold]{escape(str(results['dataset']))}[/]: network {'-'.join(map(str, results['network']))} "
                  f"({results['activation'] or 'no hidden layer'}), loss {results['loss']}, "
                  f"{results['epochs_run']} epochs"
                  + (f"; standardised {' and '.join(notes)}" if notes else ""), soft_wrap=True)
    if results.get("note"):
        console.print(f"note: {results['note']}", markup=False, highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("split")
    table.add_column("rows", justify="right")
    loss_title = f"loss ({results['loss']}{', standardised target' if scaled.get('target') else ''})"
    table.add_column(loss_title, justify="right")
    table.add_column(metric, justify="right")
    has_rmse = "rmse" in results["train"]
    if has_rmse:
        table.add_column("rmse", justify="right")
    for split in results["rows"]:  # train, validation (when held out), test
        row = [split, str(results["rows"][split]), loss_text(results[split]['loss']), f"{results[split][metric]:.4f}"]
        if has_rmse:
            row.append(f"{results[split]['rmse']:.6g}")
        table.add_row(*row)
    console.print(table)
    if history.stop_reason:
        console.print(history.stop_reason, markup=False, soft_wrap=True)
    restored = results.get("restored_epoch")
    # chosen by the training loss, the weights an epoch started from: other than the last
    # epoch's even when that epoch is the best
    started = getattr(history, "restored_from", None) == "start"
    if restored is not None and (restored < results["epochs_run"] or started):
        if results.get("final_val_loss") is not None:
            which = (f"after epoch {restored} (lowest validation loss, {loss_text(results['final_val_loss'])}; the "
                     f"last epoch's was {loss_text(results['last_epoch_val_loss'])})")
        else:
            which = f"epoch {restored} started from (lowest training loss)"
        console.print(f"restored the weights {which}: the table reports them", markup=False, soft_wrap=True)
    for path in results["plots"] + ([results["saved"]] if results.get("saved") else []):
        console.print(f"wrote {path}", markup=False, soft_wrap=True)
    sys.stdout.flush()


def loss_text(value: float) -> str:
    """A loss for the report: six decimals, or, below 1e-3 (where six decimals show three
    significant digits or fewer), four in scientific notation (4.65e-11 is not 0.000000)."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.6f}"

