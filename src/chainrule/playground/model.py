"""From a playground ``Config`` to chainrule objects: the network, its targets, its optimizer,
and the heatmap values of its output.

Nothing here trains: this is the translation between the page's settings and the library's
public API (``chainrule.mlp``, the loss and optimizer registries).
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..losses import get_loss
from ..network import mlp
from ..optim import get_optimizer


def output_size(loss: str, task: str, classes: int) -> int:
    """Network outputs: one per class for cross-entropy (and MSE on several classes), else one."""
    if loss == "cross_entropy" or (loss == "mse" and task == "multiclass"):
        return max(classes, 2)
    return 1


def targets(loss: str, task: str, classes: int, y: np.ndarray) -> np.ndarray:
    """Labels in the form the loss expects: 0/1 (BCE, MSE), ±1 (hinge), class indices
    (cross-entropy), one-hot rows (MSE on several classes), real values (regression)."""
    if task == "regression":
        return y.astype(np.float64)
    if loss == "hinge":
        return np.where(y > 0, 1.0, -1.0)
    if loss == "cross_entropy":
        return y.astype(np.int64)
    if loss == "mse" and task == "multiclass":
        return np.eye(classes)[y.astype(np.int64)]
    return y.astype(np.float64)


def build_network(config, n_inputs: int, n_outputs: int):
    """``n_inputs -> config.layers -> n_outputs`` with the chosen activations, linear output
    (the logit losses apply their own sigmoid/softmax), initial weights from ``config.seed``,
    and ``Dropout(config.dropout)`` after every hidden activation when it is above 0."""
    net = mlp([n_inputs, *config.layers, n_outputs], activation=list(config.act), rng=config.seed)
    net.loss = get_loss(config.loss)  # so predict() applies the loss's link from epoch 0
    return with_dropout(net, config.dropout, config.seed + 2)


def with_dropout(net, p: float, seed: int):
    """The same layers (same Parameter objects, so optimizer state carries over) with the
    Dropout layers replaced: one with probability ``p`` after each hidden activation, or none."""
    from ..layers import Activation, Dense, Dropout
    from ..network import Sequential

    layers = [layer for layer in net.layers if not isinstance(layer, Dropout)]
    rng = np.random.default_rng(seed)
    out = []
    for i, layer in enumerate(layers):
        out.append(layer)
        hidden = isinstance(layer, Activation) and any(isinstance(later, Dense) for later in layers[i + 1 :])
        if p > 0 and hidden:
            out.append(Dropout(p, rng=rng))
    new = Sequential(out, dtype=net.dtype, device=net.device)
    new.loss = net.loss
    return new


def build_optimizer(config):
    """The optimizer with the learning rate and the L1/L2 penalty of ``config``."""
    penalty = {} if config.reg == "none" or config.rate == 0 else {config.reg: config.rate}
    return get_optimizer(config.opt, lr=config.lr, **penalty)


def output_scores(net, loss: str, task: str, features: np.ndarray) -> dict:
    """What the output heatmap shows at each row of ``features``.

    Returns
    -------
    dict
        ``{"score": s}`` for two classes, s in [-1, 1], positive meaning class 1;
        ``{"label": k, "confidence": c}`` for several classes; ``{"value": v}`` for regression.
    """
    out = net.forward(net.to_device(features), training=False)
    out = to_numpy(out)
    if task == "regression":
        return {"value": out[:, 0]}
    if task == "binary":
        if loss == "bce":
            p = net.loss.link(out)[:, 0]
            return {"score": 2 * p - 1}
        if loss == "cross_entropy":
            p = net.loss.link(out)[:, 1]
            return {"score": 2 * p - 1}
        if loss == "hinge":
            return {"score": np.clip(out[:, 0], -1, 1)}
        return {"score": np.clip(2 * out[:, 0] - 1, -1, 1)}
    # the class drawn is the one the network predicts (``decide``: the largest raw output);
    # the confidence is its softmax probability, or its MSE output clipped to [0, 1]
    label = decide(loss, out)
    probs = net.loss.link(out) if loss == "cross_entropy" else np.clip(out, 0, 1)
    return {"label": label, "confidence": probs[np.arange(len(label)), label]}


def decide(loss: str, out: np.ndarray) -> np.ndarray:
    """Class labels 0..K-1 from raw outputs: the sign of the logit (BCE) or of the score
    (hinge), 0.5 on an MSE output, the largest output when there are several."""
    if out.shape[1] > 1:
        return out.argmax(axis=1)
    threshold = 0.5 if loss == "mse" else 0.0
    return (out[:, 0] > threshold).astype(np.int64)


def evaluate(net, loss: str, task: str, features: np.ndarray, target: np.ndarray, labels: np.ndarray):
    """(loss, metric) on one split in inference mode: accuracy for classification (whatever
    the loss), R² for regression."""
    from ..metrics import accuracy_score, r2_score

    out = to_numpy(net.forward(net.to_device(features), training=False))
    value = net.loss.forward(out, target)
    if task == "regression":
        return value, r2_score(labels, out[:, 0])
    return value, accuracy_score(labels, decide(loss, out))


def hidden_activations(net, features: np.ndarray) -> list[np.ndarray]:
    """The output of every hidden layer's activation, shape (n, width), in layer order."""
    from ..layers import Activation

    x = net.to_device(features)
    outputs = []
    for layer in net.layers:
        x = layer.forward(x, training=False)
        if isinstance(layer, Activation):
            outputs.append(to_numpy(x))
    return outputs


def dense_layers(net):
    """The Dense layers of ``net`` with the activation that follows each (None for the output)."""
    from ..layers import Activation, Dense

    pairs = []
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            nxt = net.layers[i + 1] if i + 1 < len(net.layers) else None
            pairs.append((layer, nxt if isinstance(nxt, Activation) else None))
    return pairs
