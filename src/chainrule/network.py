"""``Sequential``: a chain of layers with forward, backward, parameters, predict and fit."""

from __future__ import annotations

import numpy as np

from . import backend
from .layers import Dense, Layer, get_activation
from .layers.base import FlatStorage, ParameterList
from .validation import check_fraction


class Sequential:
    """A feedforward network: layers applied in order.

    Parameters
    ----------
    layers : list of Layer
        E.g. ``[Dense(2, 4), Sigmoid(), Dense(4, 1)]``. Consecutive sizes are checked.
    dtype : {"float64", "float32"}, optional
        Parameter and data dtype; default float64 on the CPU, float32 on a GPU.
    device : {"cpu", "cuda"}
        Where the arrays live (CuPy for "cuda").

    Attributes
    ----------
    loss : Loss or None
        The loss of the last ``fit``; ``predict`` applies its link (sigmoid/softmax).
    history : History or None
        The record of the last ``fit``.
    """

    def __init__(self, layers, dtype=None, device: str = "cpu"):
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a chainrule Layer, got {type(layer).__name__}")
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        self.layers = layers
        self.device = backend.resolve_device(device)
        self.dtype = backend.resolve_dtype(dtype, self.device)
        self.xp = backend.array_module(self.device)
        self.n_inputs, self.n_outputs = _chain_sizes(layers)
        for layer in layers:
            layer.cast(self.xp, self.dtype)
        # one contiguous buffer for all values and one for all gradients (views per Parameter)
        self._flat = FlatStorage.pack(self._parameter_list(), self.xp, self.dtype)
        self.loss = None
        self.history = None

    # -- the algorithm -----------------------------------------------------------------------
    def forward(self, X, training: bool = True):
        """A[L] from A[0] = X, shape (n, n_inputs) -> (n, n_outputs); caches for backward
        when ``training``. ``X`` is cast to the network's dtype (and moved to its device)."""
        return self.forward_prepared(self._as_network_array(X), training)

    def forward_prepared(self, X, training: bool = True):
        """``forward`` for ``X`` already in the network's dtype on its device (``fit``'s
        batches): no per-call check."""
        for layer in self.layers:
            X = layer.forward(X, training=training)
        return X

    def backward(self, dy, input_grad: bool = True):
        """Propagate dL/dA[L] back through every layer; each writes its parameters'
        ``.grad``. Returns dL/dX (None when ``input_grad`` is False, which saves the
        first Dense layer's product during training). ``dy`` is cast as ``forward``'s X."""
        return self.backward_prepared(self._as_network_array(dy), input_grad)

    def backward_prepared(self, dy, input_grad: bool = True):
        """``backward`` for ``dy`` already in the network's dtype on its device (a loss's
        gradient during ``fit``)."""
        layers = self.layers
        for layer in layers[:0:-1]:
            dy = layer.backward(dy)
        first = layers[0]
        if not input_grad and isinstance(first, Dense):
            return first.backward(dy, need_input_grad=False)
        return first.backward(dy)

    def parameters(self):
        """All Parameters, in layer order (``W[1], b[1], W[2], b[2], ...``), as a list
        whose ``flat`` attribute is their shared storage (see ``FlatStorage``)."""
        return ParameterList(self._parameter_list(), self._flat)

    def _parameter_list(self):
        return [p for layer in self.layers for p in layer.parameters()]

    __call__ = forward

    # -- using a network -----------------------------------------------------------------------
    def fit(self, X, y, **kwargs):
        """Train by backpropagation.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,) or (n_samples, n_outputs)
            Targets in the loss's format (0/1 for BCE, class indices or one-hot for
            cross-entropy, ±1 for hinge, real values for regression losses).
        loss : str or Loss
            E.g. "mse", "sse", "bce", "cross_entropy", "hinge", "huber".
        optimizer : str or Optimizer
            E.g. "sgd", "momentum", "adam" (default rates) or ``SGD(lr=0.1)``.
        epochs : int
            Passes over the data (>= 1).
        batch_size : int or None
            None: full-batch gradient descent; 1: SGD; k: mini-batches of k. With BatchNorm
            (whose batch variance needs two samples) a last batch of one sample joins the
            batch before it, and a batch_size of 1 is refused.
        shuffle : bool
            Reshuffle every epoch (mini-batches only).
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Data the validation loss and metric are measured on after every epoch, weighted
            by ``sample_weight_val`` when given.
        validation_split : float
            Fraction of the data held out for validation: ``ceil(validation_split ·
            n_samples)`` rows, randomly chosen with ``rng`` (scikit-learn's count). With
            ``sample_weight`` the held-out rows keep their weights, which weight the
            validation loss and metric as the training ones weight the training loss.
        callbacks : sequence of Callback
        verbose : {0, 1, 2}
            0 silent; 1 a progress bar on a terminal or in Jupyter, elsewhere (a file, a
            pipe) a plain line every epochs/20 epochs; 2 a plain line every epochs/20 epochs.
        rng : None, int or numpy.random.Generator
            Shuffling and validation split.
        sample_weight : array-like, shape (n_samples,), optional
            Non-negative weight of each sample: each batch's loss is ``Σ w·l / Σ w`` over its
            samples (``Σ w·l`` for a sum-reduced loss), the epoch's loss and metric are
            weighted the same way, and a batch whose weights are all 0 is skipped (no step).
            For a mean-reduced loss, which one common factor does not change, the weights are
            divided by their largest value (in float64) before they take the network's
            dtype. Refused when the training samples' weights are all 0, or validation
            samples' weights, and when a positive weight would become 0 in the dtype.
        metric : {"auto", "accuracy", "subset_accuracy", "r2", None}
            Recorded per epoch in the History.
        stop_on_divergence : bool
            Add a ``StopOnDivergence()`` callback (a loss 1000 times the first epoch's and
            worse than knowing nothing, or a classification loss far above an uninformed
            network's, stops training with a ``DivergenceError``, the last good weights
            kept) unless ``callbacks`` holds one already. False runs without it: only a non-finite loss or weight stops training
            (a run that shows a blow-up on purpose).

        Returns
        -------
        History
            The losses recorded are the data loss: an optimizer's ``l1``/``l2`` penalty is
            part of the gradient but not of ``loss``, ``val_loss`` or what callbacks see.

        Raises
        ------
        ValueError, TypeError
            Bad input, before any work starts; the network (``loss``, ``history``, weights)
            is then left as it was.
        DivergenceError
            The training or validation loss became non-finite, a weight became non-finite,
            or ``StopOnDivergence`` found a blow-up. The network (weights and BatchNorm
            statistics) is back at its last good state; see the error's ``epoch``,
            ``reason``, ``exact`` and ``history`` (the accepted epochs).
        TrainingInterrupted
            Ctrl-C (a notebook's interrupt) once training began, as this subclass of
            ``KeyboardInterrupt``: the network is put back at the end of the last epoch that
            ended (an epoch cut short is undone; ``EarlyStopping`` still restores its best) and
            the error's ``history`` (also ``net.history``) holds those epochs, its
            ``stop_reason`` saying so; the optimizer is reset (its state held the undone
            steps), and another ``fit`` goes on from there.
        """
        from .train import fit

        return fit(self, X, y, **kwargs)

    def predict(self, X, batch_size: int = 65536, link: bool = True) -> np.ndarray:
        """Network outputs through the loss's link: probabilities for BCE (n, k) and
        cross-entropy (n, classes), raw outputs otherwise.

        Parameters
        ----------
        X : array-like, shape (n, n_inputs)
            On the host, or already on this network's GPU (then it stays there).
        batch_size : int
            Rows per forward pass.
        link : bool
            False: the raw outputs A[L] (the logits, for BCE and cross-entropy).

        Returns
        -------
        numpy.ndarray, shape (n, n_outputs)
        """
        if not isinstance(link, (bool, np.bool_)):
            raise TypeError(f"link must be True or False, got {link!r}")
        link = self.loss.link if self.loss is not None and link else (lambda out: out)
        parts = []
        for out in self._output_batches(X, batch_size):
            with np.errstate(over="ignore", under="ignore"):  # e.g. exp of a very negative logit
                parts.append(backend.to_numpy(link(out)))
        return np.concatenate(parts, axis=0)

    def predict_classes(self, X, batch_size: int = 65536) -> np.ndarray:
        """Class decisions: threshold 0.5 (one output) or argmax; ±1 for hinge with one
        output, the largest margin's class with several (one-vs-rest); 0/1 per output for
        multi-label BCE.

        Parameters
        ----------
        X : array-like, shape (n, n_inputs)
            On the host, or already on this network's GPU (then it stays there).
        batch_size : int
            Rows per forward pass.

        Returns
        -------
        numpy.ndarray, shape (n,), or (n, k) for BCE with k > 1 outputs
        """
        return np.concatenate([self._decide(out) for out in self._output_batches(X, batch_size)])

    def _decide(self, out) -> np.ndarray:
        if self.loss is not None and self.loss.task != "regression":
            return backend.to_numpy(self.loss.decide(out))
        out = backend.to_numpy(out)
        return (out[:, 0] > 0.5).astype(np.int64) if out.shape[1] == 1 else out.argmax(axis=1)

    def _output_batches(self, X, batch_size: int):
        """Inference-mode outputs for checked ``X``, ``batch_size`` rows at a time."""
        X = self._check_input(X)
        for i in range(0, X.shape[0], batch_size):
            yield self._outputs(X[i : i + batch_size])

    def evaluate(self, X, y, loss=None) -> dict:
        """Loss and metric on (X, y) in inference mode, e.g. ``{"loss": .., "accuracy": ..}``."""
        from .losses import get_loss
        from .metrics import make_metric
        from .train import evaluate_arrays
        from .train_data import prepare_data

        loss = get_loss(loss if loss is not None else (self.loss or "mse"))
        X, y, _ = prepare_data(self, X, y, loss)
        X, y = self.to_device(X), self.to_device(y)
        metric = make_metric("auto", loss, y)
        value, metric_value = evaluate_arrays(self, loss, X, y, metric)
        return {"loss": value, metric.name: metric_value}

    def save(self, path, **metadata):
        """Write the model file (safetensors weights + JSON architecture; never pickle) and
        return its ``pathlib.Path``, as an estimator's ``save`` does. See ``chainrule.io``."""
        from .io import save_model

        return save_model(self, path, **metadata)

    def __getstate__(self):
        # the array module is a Python module: rebuilt from the device name (for joblib/copy)
        state = dict(self.__dict__)
        state.pop("xp", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.xp = backend.array_module(self.device)

    # -- weights and devices ----------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies, as NumPy arrays, of every parameter value in ``parameters()`` order, then of
        every buffer (BatchNorm's running mean and variance) layer by layer: all that decides
        the outputs, so ``other.set_weights(net.get_weights())`` makes ``other`` predict as
        ``net`` does (as Keras's ``get_weights`` includes the moving statistics)."""
        return ([backend.to_numpy(p.value).copy() for p in self.parameters()]
                + [backend.to_numpy(buffer).copy() for _, _, buffer in self._buffer_slots()])

    def set_weights(self, weights) -> None:
        """Assign parameter values and buffers: the list ``get_weights`` gives (same order,
        count and shapes). The count, every shape and every dtype (numbers) are checked
        before any array is assigned."""
        params, slots = self.parameters(), self._buffer_slots()
        weights = [w if hasattr(w, "shape") else np.asarray(w, dtype=self.dtype) for w in weights]
        if len(weights) != len(params) + len(slots):
            parts = f" ({len(params)} parameters and {len(slots)} BatchNorm running statistics)" if slots else ""
            raise ValueError(f"expected {len(params) + len(slots)} arrays{parts}, got {len(weights)}")
        position = {id(p): i for i, layer in enumerate(self.layers, start=1) for p in layer.parameters()}
        where = {id(layer): i for i, layer in enumerate(self.layers, start=1)}
        targets = ([(f"layer {position.get(id(p), '?')} {p.name}", p.value) for p in params]
                   + [(f"layer {where[id(layer)]} {name}", buffer) for layer, name, buffer in slots])
        for i, ((name, target), w) in enumerate(zip(targets, weights)):
            if tuple(w.shape) != tuple(target.shape):
                raise ValueError(f"array {i} ({name}): shape {tuple(w.shape)} does not match {tuple(target.shape)}")
            if np.dtype(w.dtype).kind not in "fiub":
                raise TypeError(f"array {i} ({name}) must hold numbers, got dtype {w.dtype}")
        for i, ((layer, buffer_name, _), w) in enumerate(zip(slots, weights[len(params):]), start=len(params)):
            try:
                layer.check_buffer(buffer_name, w)
            except ValueError as exc:
                raise ValueError(f"array {i} ({targets[i][0]}): {exc}") from None
        for p, w in zip(params, weights):
            p.assign(w)  # moved and cast there
        for (layer, name, _), w in zip(slots, weights[len(params):]):
            layer.assign_buffer(name, w)

    def _buffer_slots(self) -> list[tuple]:
        """(layer, name, array) of every buffer, layer by layer (a block's under its path)."""
        return [(layer, name, buffer) for layer in self.layers for name, buffer in layer.buffers().items()]

    def to_device(self, array):
        """An array on this network's device in its dtype (integers kept as integers)."""
        dtype = None if np.issubdtype(array.dtype, np.integer) else self.dtype
        return self.xp.asarray(array, dtype=dtype)

    def _as_network_array(self, array):
        """``array`` as this network computes: its dtype on its device (float64 input to a
        float32 network would otherwise run the whole pass in float64)."""
        if getattr(array, "dtype", None) == self.dtype and isinstance(array, self.xp.ndarray):
            return array
        return self.xp.asarray(array, dtype=self.dtype)

    def _outputs(self, X):
        """``forward`` in inference mode on checked input; finite inputs can still overflow
        (|x| near 1e308), which is reported as an error instead of returning inf or NaN."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.forward(self.to_device(X), training=False)
        if not bool(self.xp.isfinite(out).all()):
            raise ValueError(f"the network's outputs are not finite for these inputs (largest |X| = "
                             f"{float(abs(X).max()) if X.size else 0:.3g}): scale the features, or check "
                             "that the weights are finite")
        return out

    def _check_input(self, X):
        """``X`` checked for this network, in its dtype: left on the GPU (and checked there)
        when it is already there, else a NumPy array."""
        if self.device != backend.CPU and hasattr(X, "__cuda_array_interface__"):
            from .train_data import device_features

            X = device_features("X", X, self)
        else:
            from .validation import as_float_array

            X = as_float_array("X", X, self.dtype, ndim=(2,))
        if self.n_inputs is not None and X.shape[1] != self.n_inputs:
            raise ValueError(f"X has {X.shape[1]} features but the network takes {self.n_inputs}")
        return X

    def layer_rows(self) -> list[tuple]:
        """``(layer, output size or None, parameter count)`` for every layer, in order."""
        rows, size = [], self.n_inputs
        for layer in self.layers:
            size = layer.output_size(size) if size is not None else None
            rows.append((layer, size, sum(p.size for p in layer.parameters())))
        return rows

    def summary(self) -> str:
        """A table of layers, output sizes and parameter counts."""
        lines = [f"{'layer':<40}{'outputs':>10}{'parameters':>12}"]
        for layer, size, count in self.layer_rows():
            lines.append(f"{layer!r:<40}{'?' if size is None else size:>10}{count:>12}")
        total = sum(p.size for p in self.parameters())
        lines.append(f"{'total':<40}{'':>10}{total:>12}")
        return "\n".join(lines)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], dtype={self.dtype.name!r}, device={self.device!r})"


def _chain_sizes(layers):
    """Check that consecutive layers fit together; return (n_inputs, n_outputs).

    The input width is the first sized layer's ``n_in`` (shape-preserving layers such as
    activations and dropout may come before it); None when no layer fixes it.
    """
    n_inputs = next((layer.n_in for layer in layers if getattr(layer, "n_in", None) is not None), None)
    size = n_inputs
    if size is None:
        return None, None
    for i, layer in enumerate(layers):
        try:
            size = layer.output_size(size)
        except ValueError as exc:
            raise ValueError(f"layer {i} ({type(layer).__name__}) does not fit the layer before it: {exc}") from None
    return n_inputs, size


def mlp(
    sizes,
    activation="relu",
    output_activation=None,
    init=None,
    bias: bool = True,
    rng=None,
    dtype=None,
    device: str = "cpu",
    batch_norm: bool = False,
    dropout: float = 0.0,
    residual: bool = False,
) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths including input and output, e.g. ``[2, 8, 8, 1]``.
    activation : str, Activation class name, or list of str
        Hidden activation(s): one name for all hidden layers, or one per hidden layer.
    output_activation : str, optional
        Appended after the last Dense (None: raw outputs, as the logit losses want).
    init : str or callable, optional
        Weight initialiser; default He for ReLU-family hidden layers, Glorot otherwise.
    rng : None, int or Generator
        Source of the initial weights (and of the dropout masks).
    bias : bool
        Give the Dense layers biases. A hidden Dense layer followed by a ``BatchNorm`` has
        none either way: BatchNorm subtracts the batch mean, so such a bias does nothing
        (its gradient is 0) and BatchNorm's β takes its place.
    batch_norm : bool
        Put a ``BatchNorm`` between each hidden Dense layer (built without a bias) and its
        activation.
    dropout : float
        Add ``Dropout(dropout)`` after each hidden activation (0: none).
    residual : bool
        Wrap every hidden layer after the first in a ``Residual`` block (a skip connection,
        projected when the width changes).
    """
    from .initializers import as_generator
    from .layers import BatchNorm, Dropout, Residual

    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
    n_hidden = len(sizes) - 2
    activations = list(activation) if isinstance(activation, (list, tuple)) else [activation] * n_hidden
    if len(activations) != n_hidden:
        raise ValueError(f"{len(activations)} activations given for {n_hidden} hidden layers")
    dropout = check_fraction("dropout", dropout)
    rng = as_generator(rng)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i == n_hidden:
            layers.append(Dense(n_in, n_out, bias=bias, init=init or "glorot_uniform", rng=rng))
            break
        act = get_activation(activations[i])
        layer_init = init or ("he_uniform" if act.name in ("relu", "leaky_relu") else "glorot_uniform")
        # BatchNorm subtracts the batch mean: a bias before it has a gradient of exactly 0 (in
        # exact arithmetic), which Adam would turn into full-size steps on rounding noise
        dense = Dense(n_in, n_out, bias=bias and not batch_norm, init=layer_init, rng=rng)
        hidden = [dense, *([BatchNorm(n_out)] if batch_norm else []), act]
        layers += [Residual(hidden, rng=rng)] if residual and i > 0 else hidden
        if dropout:
            layers.append(Dropout(dropout, rng=rng))
    if output_activation is not None:
        layers.append(get_activation(output_activation))
    return Sequential(layers, dtype=dtype, device=device)
