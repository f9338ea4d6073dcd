"""``chainrule show MODEL``: what a model file holds, read without running any of it."""

from __future__ import annotations

#: Metadata keys ``chainrule train`` writes, shown in their own lines; any other key a user
#: gave ``save(**metadata)`` is listed by name.
TRAIN_KEYS = ("features", "target", "task", "classes", "labels_as_hinge", "scaler_mean", "scaler_std",
              "target_mean", "target_std", "dataset")
SHOWN_NAMES = 12  # feature names and classes listed before "and N more"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show", help="show what a model file holds: layers, training, features, classes",
        description="Load a model file (written by `chainrule train --save`, `net.save` or an estimator's "
        "save) as `chainrule.load` does, checksum and architecture checked, no code run, and show its layers "
        "with their output sizes and parameter counts, the dtype and loss, how it was trained, the features, "
        "target and classes it expects, and the chainrule version that wrote it.",
    )
    parser.add_argument("model", help="model file written by chainrule")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def describe(path) -> dict:
    """The record ``show`` prints: every field of the file that says what the model is.

    Raises
    ------
    ModelFileError, OSError
        As ``chainrule predict`` would for the same file (one line, naming it).
    """
    from ..io import read_header
    from ._modelfile import EstimatorFile, NetworkFile, open_model

    model = open_model(path)  # the whole file checked and built: what predict would use
    document = read_header(path)
    net = model.network
    layers = [{"layer": repr(layer), "outputs": int(size), "parameters": int(count)}
              for layer, size, count in net.layer_rows()]
    metadata = dict(document.get("metadata") or {})
    table_file = isinstance(model, NetworkFile)  # only chainrule train's files are scaled by their metadata
    out = {
        "path": str(path),
        "format_version": document["format_version"],
        "chainrule_version": document.get("chainrule_version"),
        "dtype": net.dtype.name,
        "loss": None if net.loss is None else net.loss.name,
        "inputs": int(net.n_inputs),
        "outputs": int(net.n_outputs),
        "layers": layers,
        "parameters": int(sum(p.size for p in net.parameters())),
        # a bare network never trained has no task: predict gives its outputs as they are
        "task": model.task if net.loss is not None or "task" in metadata else None,
        "features": model.features,
        "target": model.target,
        "classes": model.classes,
        "standardised": {"features": table_file and _scaled(model.mean, model.std),
                         "target": table_file and _scaled(model.target_mean, model.target_std)},
        "dataset": metadata.get("dataset") if table_file and isinstance(metadata.get("dataset"), str) else None,
        "training": document.get("training"),  # the last fit's summary
        "estimator": None,
        # chainrule train's keys are read for its files; an estimator's file uses only "target"
        "other_metadata": sorted(key for key in metadata if key not in (TRAIN_KEYS if table_file else ("target",))),
    }
    if isinstance(model, EstimatorFile):
        estimator = model.estimator
        out["estimator"] = {"class": type(estimator).__name__,
                            "params": (document.get("estimator") or {}).get("params"),
                            "n_iter_": int(estimator.n_iter_),
                            "last_loss": float(estimator.loss_curve_[-1]) if estimator.loss_curve_ else None}
    return out


def run(args) -> int:
    from ._output import json_text, report_console

    record = describe(args.model)
    if args.json:
        print(json_text(record, indent=2))
        return 0
    console = report_console()
    for line in lines(record):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def lines(record: dict) -> list[str]:
    """``describe``'s record as the lines ``show`` prints."""
    out = [f"{record['path']}: chainrule model file (format {record['format_version']}, written by chainrule "
           f"{record['chainrule_version']}); checksum and architecture verified",
           f"network: {_count(record['inputs'], 'input')} -> {_count(record['outputs'], 'output')}, "
           f"{_count(record['parameters'], 'parameter')}, "
           f"{record['dtype']}, loss {record['loss'] or 'none (never trained)'}"]
    width = max(len(row["layer"]) for row in record["layers"]) + 2
    out.append(f"  {'layer':<{width}}{'outputs':>9}{'parameters':>12}")
    out += [f"  {row['layer']:<{width}}{row['outputs']:>9}{row['parameters']:>12}" for row in record["layers"]]
    estimator = record["estimator"]
    if estimator is None:
        out.append(_training_line(record["training"]))
    else:  # its curves span every fit and partial_fit; the file's training record is the last call's
        params = ", ".join(f"{key}={value!r}" for key, value in sorted((estimator["params"] or {}).items()))
        out.append(f"estimator: {estimator['class']}({params})")
        trained = f"training: {_count(estimator['n_iter_'], 'epoch')} in all"
        if estimator["last_loss"] is not None:
            trained += f"; last loss_curve_ value {estimator['last_loss']:.6g}"
        out.append(trained)
    kind = "label columns" if record["task"] == "multilabel" else "classes"
    out.append(f"task: {record['task'] or 'none recorded (predictions are the outputs as they are)'}"
               + (f", {kind}: {_listed(record['classes'])}" if record["classes"] and record["task"] else ""))
    features = record["features"]
    out.append(f"features ({record['inputs']}): " + (_listed(features) if features else "by position (no names stored)")
               + (", standardised with the stored means and deviations" if record["standardised"]["features"] else ""))
    if record["target"] is not None or record["standardised"]["target"]:
        out.append(f"target: {record['target'] or '(unnamed)'}"
                   + (", standardised (predictions are in its own units)" if record["standardised"]["target"] else ""))
    if record["dataset"] is not None:
        out.append(f"trained on: {record['dataset']}")
    if record["other_metadata"]:
        out.append(f"other metadata: {_listed(record['other_metadata'])}")
    return out


def _training_line(training: dict | None) -> str:
    if not training or not training.get("epochs"):
        return "training: none recorded"
    parts = [_count(training["epochs"], "epoch")]
    if training.get("final_loss") is not None:
        parts.append(f"last training loss {training['final_loss']:.6g}")
    if training.get("final_metric") is not None and training.get("metric"):
        parts.append(f"{training['metric']} {training['final_metric']:.4f}")
    if training.get("final_val_loss") is not None:
        parts.append(f"last validation loss {training['final_val_loss']:.6g}")
    if training.get("restored_epoch") is not None:  # a validation loss is recorded only for an epoch's end
        parts.append(f"early stopping kept the weights epoch {training['restored_epoch']} "
                     + ("ended with" if training.get("restored_val_loss") is not None else "started from"))
    if training.get("stop_reason"):
        parts.append(training["stop_reason"])
    return "training: " + "; ".join(parts)


def _scaled(mean, std) -> bool:
    """Whether a stored scaling changes anything (``chainrule train`` without standardisation
    stores means 0 and deviations 1)."""
    import numpy as np

    return bool(np.any(np.asarray(mean) != 0) or np.any(np.asarray(std) != 1))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _listed(values) -> str:
    shown = ", ".join(str(v) for v in values[:SHOWN_NAMES])
    return shown + (f", and {len(values) - SHOWN_NAMES} more" if len(values) > SHOWN_NAMES else "")
