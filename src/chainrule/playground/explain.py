"""The "step through backprop" panel: one training step on one chosen point, every number.

``explain_point`` rebuilds the session's network without dropout (same weights; training is
untouched) and returns :func:`chainrule.inspect.explain`'s trace of one gradient-descent step on
that point — ``Trace.to_dict()`` in the ``chainrule.explain/1`` schema of ``docs/inspect.md``:
forward values ``Z[l]``, ``A[l]``, the loss, the backward deltas ``dA[l]``, ``dZ[l]``, the
gradients ``dW[l]``, ``db[l]`` and the updated weights, each with its equation — plus the chosen
point and a note on what the page's training does differently. The panel therefore shows exactly
what the library's inspection API computes, which is what its layers compute in training.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..inspect import explain
from .datasets import FEATURE_LABELS
from .model import build_network


def explain_point(session, split: str, index) -> dict:
    """The trace of one gradient-descent step of ``session``'s network on one point.

    Parameters
    ----------
    session : Session
    split : {"train", "test"}
    index : int
        Row of that split (0-based).

    Returns
    -------
    dict
        ``Trace.to_dict()`` (schema ``chainrule.explain/1``) with three more keys: ``point``
        (split, index, coordinates, feature values, label, target row), ``note``, and ``at``
        (``epoch`` and ``weights_version`` of the network the step was computed on).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    with session.lock:
        data, config = session.data, session.config
        X = data.X_train if split == "train" else data.X_test
        F = session.F_train if split == "train" else session.F_test
        T = session.t_train if split == "train" else session.t_test
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < X.shape[0]:
            raise ValueError(f"point index must be 0..{X.shape[0] - 1} for the {split} set; got {index!r}")
        net = build_network(replace(config, dropout=0.0), session.net.n_inputs, session.net.n_outputs)
        net.set_weights(session.net.get_weights())
        x, t = F[index : index + 1], T[index : index + 1]
        label = data.y_train[index] if split == "train" else data.y_test[index]
        l1 = config.rate if config.reg == "l1" else 0.0
        l2 = config.rate if config.reg == "l2" else 0.0
        at = {"epoch": session.epoch, "weights_version": session.weights_version}
    with np.errstate(all="ignore"):
        trace = explain(net, x, t, loss=config.loss, lr=config.lr, l1=l1, l2=l2, inplace=True).to_dict()
    trace["point"] = {
        "split": split, "index": index, "coords": np.asarray(X[index], dtype=float).tolist(),
        "features": {FEATURE_LABELS[f]: float(v) for f, v in zip(config.features, x[0])},
        "label": float(label) if data.task == "regression" else int(label),
        "label_kind": "target" if data.task == "regression" else "class",
    }
    note = ""
    if config.opt != "sgd":
        note = (f"The page trains with {config.opt}; this panel shows the plain gradient-descent step "
                f"with the same gradients and α = {config.lr:g} ({config.opt} would rescale it).")
    if config.dropout:
        note += (f" Dropout (p = {config.dropout:g}) is left out of this trace: training multiplies each hidden "
                 "activation by a random mask of 0 and 1/(1 − p), which changes from step to step.")
    trace["note"] = note.strip()
    trace["at"] = at  # the network it was computed on: the page marks the trace stale once that changes
    return trace
