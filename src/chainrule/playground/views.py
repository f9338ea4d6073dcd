"""What the page draws, computed from a session: the state snapshot streamed to the page.

Heatmaps are evaluated on a grid over the input plane (a line for 1-D data) with the
network in inference mode, quantised to bytes and sent base64-encoded, which keeps a
snapshot of a 6×8 network near 40 kB so the page can redraw several times a second.
"""

from __future__ import annotations

import base64

import numpy as np

from .datasets import FEATURE_LABELS, feature_matrix
from .model import dense_layers, hidden_activations, output_scores

OUTPUT_GRID = 60  # cells per side of the output heatmap
NEURON_STRIDE = 3  # neuron heatmaps use every 3rd grid point: 20 × 20
CURVE_POINTS = 200  # samples of a 1-D output curve
NEURON_CURVE_STRIDE = 4
MAX_CHART_POINTS = 400


def grid_points(extent, dims: int) -> np.ndarray:
    """Grid coordinates, shape (G*G, 2) row-major from the top-left corner (largest y first),
    or (CURVE_POINTS, 1) for 1-D data."""
    x0, x1, y0, y1 = extent
    if dims == 1:
        return np.linspace(x0, x1, CURVE_POINTS).reshape(-1, 1)
    xs = np.linspace(x0, x1, OUTPUT_GRID)
    ys = np.linspace(y1, y0, OUTPUT_GRID)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def state(session) -> dict:
    """The full snapshot of a session (call with its lock held, or accept a torn read)."""
    config, data = session.config, session.data
    epoch, train_loss, test_loss, train_metric, test_metric = session.history[-1]
    return {
        "id": session.id,
        "version": session.version,
        "data_version": session.data_version,
        "status": session.status,
        "message": session.message,
        "epoch": epoch,
        "weights_version": session.weights_version,
        "config": config.to_dict(),
        "task": data.task,
        "classes": data.classes,
        "dims": data.dims,
        "extent": list(data.extent),
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "metric": session.metric_name,
        "last": {"train_loss": train_loss, "test_loss": test_loss, "train_metric": train_metric, "test_metric": test_metric},
        "history": _decimate(session.history),
        "network": network(session),
        "maps": maps(session),
    }


def network(session) -> dict:
    """Feature labels and every layer's weights (``W`` as (n_out, n_in), the lecture's layout)."""
    layers = []
    names = list(session.config.act) + ["linear"]  # the page's names ("linear" is chainrule's "identity")
    for (dense, _), name in zip(dense_layers(session.net), names):
        layers.append({
            "W": _round(dense.W.value),
            "b": _round(dense.b.value) if dense.b is not None else None,
            "act": name,
        })
    return {"features": list(session.config.features),
            "labels": [FEATURE_LABELS[f] for f in session.config.features], "layers": layers}


def maps(session) -> dict:
    """Output heatmap (or curve) and one small map per hidden neuron."""
    data, net = session.data, session.net
    points = grid_points(data.extent, data.dims)
    features = feature_matrix(points, session.config.features)
    with np.errstate(all="ignore"):
        scores = output_scores(net, session.config.loss, data.task, features)
        hidden = hidden_activations(net, features)
    if data.dims == 1:
        output = {"kind": "curve", "values": _round(np.nan_to_num(scores["value"], nan=0.0, posinf=1e6, neginf=-1e6))}
        neurons = [[_curve(a[::NEURON_CURVE_STRIDE, j]) for j in range(a.shape[1])] for a in hidden]
        return {"output": output, "neurons": neurons, "size": CURVE_POINTS, "neuron_size": len(range(0, CURVE_POINTS, NEURON_CURVE_STRIDE))}
    if data.task == "binary":
        output = {"kind": "score", "data": _bytes(scores["score"])}
    elif data.task == "multiclass":
        output = {"kind": "classes", "label": _b64(scores["label"].astype(np.uint8)), "data": _bytes(scores["confidence"] * 2 - 1)}
    else:
        lo, hi = _target_range(session)
        output = {"kind": "value", "data": _bytes((scores["value"] - lo) / (hi - lo) * 2 - 1), "lo": lo, "hi": hi}
    G = OUTPUT_GRID
    neurons = []
    for a in hidden:
        a = a.reshape(G, G, -1)[::NEURON_STRIDE, ::NEURON_STRIDE]
        neurons.append([_normalised_map(a[:, :, j]) for j in range(a.shape[2])])
    return {"output": output, "neurons": neurons, "size": G, "neuron_size": a.shape[0] if hidden else G // NEURON_STRIDE}


def _target_range(session):
    y = np.concatenate([session.data.y_train, session.data.y_test])
    lo, hi = float(y.min()), float(y.max())
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


def _normalised_map(a) -> dict:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=1e6, neginf=-1e6)
    scale = float(np.abs(a).max())
    return {"data": _bytes(a / scale if scale > 0 else a), "scale": round(scale, 4)}


def _curve(a) -> dict:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=1e6, neginf=-1e6)
    scale = float(np.abs(a).max())
    return {"values": _round(a / scale if scale > 0 else a), "scale": round(scale, 4)}


def _bytes(values) -> str:
    """Values in [-1, 1] (clipped; NaN as 0) as base64 bytes 0..255."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    return _b64(np.round((np.clip(v, -1, 1) + 1) * 127.5).astype(np.uint8))


def _b64(array) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _round(array, digits: int = 4):
    a = np.nan_to_num(np.asarray(array, dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    return np.round(a, digits).tolist()


def _decimate(history) -> list:
    if len(history) <= MAX_CHART_POINTS:
        return [list(row) for row in history]
    idx = np.unique(np.linspace(0, len(history) - 1, MAX_CHART_POINTS).round().astype(int))
    return [list(history[i]) for i in idx]
