"""The "step through backprop" panel: one training step on one chosen point, every number.

``explain_point`` copies the session's network (the copy is what gets stepped, so training is
untouched) and returns the trace as JSON-ready data: forward values ``z[l]``, ``a[l]``, the
loss, the backward deltas ``dA[l]``, ``dZ[l]``, the gradients ``dW[l]``, ``db[l]`` and the
updated weights, with the formula used at each line.

The numbers come from ``trace_step``, which drives the engine's own layers one at a time
(``Dense.forward``, the activation's ``forward``, ``Loss.forward``/``backward``, each layer's
``backward``, ``SGD.step``), so they are exactly what training computes. ``trace_step`` is the
one seam to the inspection package: when ``chainrule.inspect.explain`` exists, it can produce
the trace instead, its ``to_dict()`` reshaped into the layout below.
"""

from __future__ import annotations

import numpy as np

from ..losses import get_loss
from ..optim import SGD
from .datasets import FEATURE_LABELS
from .model import build_network, dense_layers

FORMULAS = {
    "z": "z[l] = W[l] a[l-1] + b[l]",
    "a": "a[l] = g(z[l])",
    "dZ": "dZ[l] = dA[l] ⊙ g'(z[l])",
    "dA_prev": "dA[l-1] = W[l]ᵀ dZ[l]",
    "dW": "dW[l] = dZ[l] a[l-1]ᵀ",
    "db": "db[l] = dZ[l]",
    "update": "W[l] ← W[l] − α dW[l],  b[l] ← b[l] − α db[l]",
}


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
        ``{"point", "loss", "lr", "layers": [...], "formulas", "update_rule", "note", "source"}``.
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
        net = build_network(config, session.net.n_inputs, session.net.n_outputs)
        net.set_weights(session.net.get_weights())
        x, t = F[index : index + 1], T[index : index + 1]
        label = data.y_train[index] if split == "train" else data.y_test[index]
        l1 = config.rate if config.reg == "l1" else 0.0
        l2 = config.rate if config.reg == "l2" else 0.0
    with np.errstate(all="ignore"):
        trace = trace_step(net, x, t, config.loss, config.lr, l1=l1, l2=l2)
    trace["point"] = {
        "split": split, "index": index, "coords": _list(X[index]),
        "features": {FEATURE_LABELS[f]: float(v) for f, v in zip(config.features, x[0])},
        "label": float(label) if data.task == "regression" else int(label),
        "label_kind": "target" if data.task == "regression" else "class", "target": _list(np.atleast_1d(t[0])),
    }
    trace["formulas"] = FORMULAS
    note = ""
    if config.opt != "sgd":
        note = (f"The page trains with {config.opt}; this panel shows the plain gradient-descent step "
                f"with the same gradients and α = {config.lr:g} ({config.opt} would rescale it).")
    if config.dropout:
        note += (f" Dropout (p = {config.dropout:g}) is left out of this trace: training multiplies each hidden "
                 "activation by a random mask of 0 and 1/(1 − p), which changes from step to step.")
    trace["note"] = note.strip()
    return trace


def trace_step(net, x, t, loss, lr: float, l1: float = 0.0, l2: float = 0.0) -> dict:
    """One forward pass, loss, backward pass and SGD update of ``net`` on ``(x, t)``, with every
    intermediate value. ``net`` is modified (it takes the step).

    Parameters
    ----------
    net : Sequential
        Dense layers, each optionally followed by an activation.
    x : ndarray, shape (1, n_inputs)
    t : ndarray
        The target row, in the loss's format.
    loss : str
    lr, l1, l2 : float
        The step's learning rate and penalties.
    """
    loss_obj = get_loss(loss)
    pairs = dense_layers(net)
    layers = []
    a = net.to_device(x)
    for l, (dense, act) in enumerate(pairs, start=1):
        entry = {"l": l, "n_in": dense.n_in, "n_out": dense.n_out, "activation": act.name if act is not None else "linear",
                 "g": act.formula if act is not None else "z", "g_prime": act.derivative_formula if act is not None else "1",
                 "a_prev": _list(a[0]), "W": _list(dense.W.value), "b": _list(dense.b.value)}
        z = dense.forward(a, training=True)
        a = act.forward(z, training=True) if act is not None else z
        entry.update(z=_list(z[0]), a=_list(a[0]))
        layers.append(entry)
    value = loss_obj.forward(a, t)
    dA = loss_obj.backward()
    for entry, (dense, act) in zip(reversed(layers), reversed(pairs)):
        dZ = act.backward(dA) if act is not None else dA
        entry.update(dA=_list(dA[0]), dZ=_list(dZ[0]))
        dA = dense.backward(dZ)
        entry.update(dA_prev=_list(dA[0]), dW=_list(dense.W.grad), db=_list(dense.b.grad))
    SGD(lr=lr, l1=l1, l2=l2).step(net.parameters())
    for entry, (dense, _) in zip(layers, pairs):
        entry.update(W_new=_list(dense.W.value), b_new=_list(dense.b.value))
    rule = FORMULAS["update"]
    if l2:
        rule = f"W[l] ← W[l] − α (dW[l] + λ W[l])  with λ = {l2:g} (L2);  b[l] ← b[l] − α db[l]"
    elif l1:
        rule = f"W[l] ← W[l] − α (dW[l] + λ sign(W[l]))  with λ = {l1:g} (L1);  b[l] ← b[l] − α db[l]"
    return {
        "source": "chainrule.playground.explain.trace_step (engine layers stepped one by one)",
        "loss": {"name": loss_obj.name, "value": float(value), "formula": loss_obj.formula,
                 "convention": loss_obj.convention, "output": _list(a[0])},
        "lr": float(lr), "update_rule": rule, "layers": layers,
    }


def _list(array):
    return np.round(np.nan_to_num(np.asarray(array, dtype=np.float64), nan=0.0), 8).tolist()
