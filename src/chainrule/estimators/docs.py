"""The numpydoc text of the estimators' shared parameters and attributes, written once and
put into each public class's docstring (scikit-learn's HTML repr and ``help()`` read a
class's own ``Parameters`` section)."""

from __future__ import annotations

import textwrap


def parameters(loss_default: str) -> str:
    """The ``Parameters`` section, with ``loss_default`` (what ``loss=None`` means for the
    estimator) wrapped into it."""
    return PARAMETERS.format(loss_default=textwrap.fill(loss_default, width=84, subsequent_indent="    "))

PARAMETERS = """\
Parameters
----------
hidden_layer_sizes : int or tuple of int, default=(32,)
    Widths of the hidden layers; ``()`` gives a one-layer (linear) model.
activation : str, default="relu"
    Hidden activation, a ``chainrule.ACTIVATIONS`` name.
init : str or None, default=None
    Weight initialiser, a ``chainrule.INITIALIZERS`` name. None: He uniform for the hidden
    layers of "relu" and "leaky_relu", Glorot uniform for the other hidden activations and
    for the output layer.
loss : str or None, default=None
    A ``chainrule.LOSSES`` name. None picks the natural loss:
    {loss_default}
optimizer : str, default="adam"
    A ``chainrule.OPTIMIZERS`` name ("sgd", "momentum", "rmsprop", "adam", "adamw", ...).
learning_rate : float, default=1e-3
    The optimizer's step size α (> 0).
batch_size : int or None, default=32
    Mini-batch size; None trains on the full batch.
epochs : int, default=200
    Passes over the data per ``fit`` (``partial_fit`` makes one).
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the data, stop after more than ``patience`` epochs
    in a row without a lower validation loss, and keep the best epoch's weights. The
    held-out part is ``ceil(validation_fraction · n_samples)`` rows (at least 2), stratified
    by class for a single-label classifier where every class has 2 or more rows (as
    scikit-learn's MLP); sample weights are split with their rows and weight the training
    loss and the validation loss and score alike. The split is drawn once per
    network (from ``random_state``) and kept: warm fits on the same data hold out the same
    rows. ``fit`` only: ``partial_fit`` refuses it (one epoch on one batch has nothing to
    hold out), as scikit-learn's MLP does.
validation_fraction : float, default=0.1
    The fraction held out with early stopping: in [0, 1) whether or not early stopping is
    on (checked at every fit, as scikit-learn does), and above 0 with it.
patience : int, default=10
    With early stopping, the epochs in a row without a lower validation loss tolerated:
    training stops at the ``patience + 1``-th (scikit-learn's ``n_iter_no_change``).
l2 : float, default=0
    L2 penalty λ on the weights (not the biases): the loss minimised gains ``λ/2 ‖W‖²``
    and ``loss_curve_`` includes it. With ``optimizer="adamw"`` it is AdamW's decoupled
    weight decay instead (each step multiplies the weights by ``1 − learning_rate · λ``;
    0 means no decay, and ``learning_rate · λ`` must be below 1): that is no term of the
    loss, so ``loss_curve_`` is then the data loss alone. Unlike scikit-learn's ``alpha``,
    λ is not divided by the number of samples.
batch_norm : bool, default=False
    A BatchNorm layer after every hidden Dense layer (``chainrule.mlp``).
dropout : float, default=0
    Dropout rate after every hidden activation, in [0, 1).
residual : bool, default=False
    Skip connections around the hidden layers after the first (``chainrule.mlp``).
random_state : None, int or NumPy random generator, default=None
    Seeds initialisation, shuffling and the validation split.
dtype : {{"float64", "float32"}} or None, default=None
    None: the device's default, float64 on the CPU (exact lecture numbers) and float32 on a
    GPU (speed); ``get_params`` keeps None. Predictions come in the wider of this dtype and
    the input's float dtype.
device : {{"cpu", "cuda"}}, default="cpu"
    Where the network is built and trained (CuPy for "cuda"). An estimator loaded from a
    model file has the device its network was loaded on (``chainrule.load(path,
    device=...)``, the CPU by default).
verbose : int, default=0
    0 silent, 1 a progress bar (plain lines when the output is not a terminal or
    Jupyter), 2 a line every few epochs.
warm_start : bool, default=False
    ``fit`` continues the previous network (its weights, optimizer state, random generator
    and early stopping's validation split; a fit that diverged reset the optimizer) instead
    of starting a new one. Divergence is then measured against the first epoch's loss of
    the network's first fit, not of the continuation. Training parameters changed in
    between apply to the next fit (and to ``partial_fit``): ``epochs``, ``batch_size``,
    ``l2``, ``early_stopping``, ``patience``, ``validation_fraction``, ``verbose``,
    ``learning_rate`` (the optimizer keeps its moments and step count) and ``optimizer``
    (another optimizer starts with fresh state). The parameters that define the network
    (``hidden_layer_sizes``, ``activation``, ``init``, ``loss``, ``batch_norm``,
    ``dropout``, ``residual``, ``dtype``, ``device``) cannot change: continuing a network
    built with others raises ValueError naming them (set ``warm_start=False`` to start a
    new network); ``dtype=None`` and the dtype it means on the network's device are the
    same dtype (no change). ``random_state`` seeds new networks only.
"""

ATTRIBUTES = """\
network_ : chainrule.Sequential
    The trained network.
loss_curve_ : list of float
    The training loss per epoch, over every ``fit``/``partial_fit`` since the network was
    made: the data loss (as the engine measures it, during the epoch's updates) plus the
    L2 penalty ``l2/2 ‖W‖²`` of the weights the epoch started from (none for ``l2=0`` or
    AdamW). A fit that raised ``DivergenceError`` adds the epochs whose loss was accepted:
    the network holds the weights the last of them started from.
validation_scores_ : list of float
    Validation accuracy (classifier; subset accuracy for multilabel) or R² (regressor) per
    epoch. Empty until a fit uses early stopping; from then on aligned with ``loss_curve_``
    (one entry per epoch), with NaN for the epochs trained without a validation part
    (earlier warm fits or ``partial_fit`` calls without early stopping).
best_validation_score_ : float or None
    The validation score of the epoch whose weights the latest fit kept (early stopping
    restores the epoch with the lowest validation loss, which need not have the highest
    score). None when the latest ``fit`` or ``partial_fit`` had no validation part, or
    diverged.
n_iter_ : int
    Epochs run (``len(loss_curve_)``), those of a fit that diverged included up to the
    weights it kept.
n_features_in_ : int
    Number of features seen in ``fit``.
feature_names_in_ : ndarray of str, shape (n_features_in_,)
    Only when ``X`` had string column names (a pandas DataFrame).
"""

INPUT = """\
Sparse ``X`` (SciPy sparse matrices and arrays) is accepted by ``fit``, ``partial_fit``,
the predictions and ``score``, and made dense before the network sees it: that takes
``n_samples × n_features`` floats of memory (8 bytes each in float64, 4 in float32), so a
very wide one-hot encoding is better reduced first. NaN or infinity, sparse or dense, is
refused before any work."""


def indent(text: str, spaces: int = 4) -> str:
    """``text`` with every non-blank line indented by ``spaces`` (for docstrings made of parts)."""
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines()) + "\n"
