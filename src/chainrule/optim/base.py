"""The optimizer base: learning-rate schedule, L1/L2 penalties and gradient clipping
happen here, once; subclasses only write ``_update`` (in place) and ``_init_state``."""

from __future__ import annotations

import math

import numpy as np

from ..backend import namespace
from ..registry import Registry
from ..validation import check_positive
from .schedules import get_schedule

OPTIMIZERS = Registry("optimizer")


class Optimizer:
    """Base optimizer.

    Parameters
    ----------
    lr : float
        Base learning rate α (> 0).
    l2 : float
        L2 penalty λ: adds ``λ W`` to the gradient of every regularised parameter
        (weights, not biases), the gradient of ``(λ/2) ||W||²``: the descent minimises the
        data loss plus that penalty.
    l1 : float
        L1 penalty: adds ``l1 · sign(W)``, the (sub)gradient of ``l1 ||W||₁``.

        Only the gradient includes the penalties: the loss ``fit`` reports (``History.loss``,
        ``val_loss``, what ``EarlyStopping`` and ``StopOnDivergence`` compare) is the data
        loss alone.
    clip_norm : float, optional
        Rescale all gradients together when their global L2 norm exceeds this. Clipping
        acts on the whole gradient, the l1/l2 penalty's included (the penalty is part of the
        objective descended), as in Keras; PyTorch's ``clip_grad_norm_`` before a ``weight_decay``
        step clips the data gradient alone.
    clip_value : float, optional
        Clip each gradient element to ``[-clip_value, clip_value]``.
    schedule : str or Schedule, optional
        Learning-rate schedule, evaluated at the start of every epoch. It runs over each
        ``fit`` call: a second ``fit`` starts it again from its first epoch, while the moments
        and the step count carry on (``reset`` forgets those too).

    Attributes
    ----------
    lr : float
        The learning rate in force now (after the schedule).
    iterations : int
        Steps taken on the current parameters (Adam's bias correction counts them); it
        restarts, with the moments, when the optimizer meets a different parameter list.
    last_grad_norm : float or None
        Global gradient norm (penalty included) before clipping at the last step (when
        clipping by norm).
    """

    name: str | None = None
    aliases: tuple[str, ...] = ()
    default_lr = 0.01
    elementwise = True  # _update treats every element alike, so it may run on flat storage

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        OPTIMIZERS.add_if_named(cls)

    def __init__(self, lr=None, *, l2=0.0, l1=0.0, clip_norm=None, clip_value=None, schedule=None):
        self.set_lr(lr)
        self.l2 = check_positive("l2", l2, allow_zero=True)
        self.l1 = check_positive("l1", l1, allow_zero=True)
        self.clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
        self.clip_value = None if clip_value is None else check_positive("clip_value", clip_value)
        self.schedule = get_schedule(schedule)
        self.iterations = 0
        self.epoch = 0
        self._last_grad_norm = None
        self._params = None
        self._states = None
        self._flat = self._flat_state = None

    def set_lr(self, lr=None) -> None:
        """Set the base learning rate α (None: the optimizer's default); the moments and the
        step count carry on, and a schedule scales the new rate from the next epoch."""
        self.base_lr = check_positive("lr", self.default_lr if lr is None else lr)
        self.lr = self.base_lr

    # -- the public step ---------------------------------------------------------------
    def step(self, params) -> None:
        """Update every Parameter's ``.value`` in place from its ``.grad``."""
        states = self._states if params is self._params else self._states_for(params)
        lr = float(self.lr)  # a NumPy scalar set by a callback would change the update's precision
        flat = self._flat
        if (flat is not None and not (self.l1 or self.l2) and self.clip_value is None
                and self.clip_norm is None and flat.intact(params)):
            # one update over the network's contiguous storage: same arithmetic per element
            self._update(flat.value, flat.grad, self._flat_state, lr)
            self.iterations += 1
            return
        grads = [p.grad for p in params]
        if self.l1 or self.l2:
            grads = self._penalised(grads, params)
        if self.clip_value is not None or self.clip_norm is not None:
            grads = self._clipped(grads)
        for p, g, state in zip(params, grads, states):
            self._update(p.value, g, state, lr)
        self.iterations += 1

    def plan(self, epochs: int) -> None:
        """Called by fit before the first epoch with the number of epochs it will run."""
        if self.schedule is not None:
            self.schedule.plan(epochs)

    def start_epoch(self, epoch: int, monitor: float | None = None) -> None:
        """Set the learning rate for ``epoch`` from the schedule (called by fit)."""
        self.epoch = epoch
        if self.schedule is not None:
            self.lr = float(self.schedule(epoch, self.base_lr, monitor))

    def reset(self) -> None:
        """Forget all state: moments, step count and the rate in force (back to the base
        rate). ``fit`` calls it after a divergence, whose moments hold the blow-up, and after
        a Ctrl-C, whose epoch cut short it undoes."""
        self.iterations, self.epoch, self.lr = 0, 0, self.base_lr
        self._last_grad_norm = None
        self._params = self._states = None
        self._flat = self._flat_state = None

    def __setstate__(self, state):
        # pickle stores the per-parameter states as arrays of their own: make them views of
        # the flat state again, so both update paths (with and without penalties) share it
        self.__dict__.update(state)
        if self._flat_state is not None and self._states is not None:
            views = {key: self._flat.split(array) for key, array in self._flat_state.items()}
            self._states = [{key: views[key][i] for key in views} for i in range(len(self._states))]

    # -- shared machinery ----------------------------------------------------------------
    def _states_for(self, params):
        """Optimizer state aligned with ``params``; rebuilt, with the step count, when the
        list changes (fresh moments with an old step count would mis-correct Adam's bias)."""
        same = self._params is not None and len(self._params) == len(params) and all(
            a is b for a, b in zip(self._params, params)
        )
        if not same:
            self.iterations = 0
            flat = getattr(params, "flat", None)
            if self.elementwise and flat is not None and flat.intact(params):
                # state in flat buffers too; the per-parameter states are views of them
                self._flat, self._flat_state = flat, self._init_state(flat.value)
                views = {key: flat.split(array) for key, array in self._flat_state.items()}
                self._states = [{key: views[key][i] for key in views} for i in range(len(params))]
            else:
                self._flat = self._flat_state = None
                self._states = [self._init_state(p.value) for p in params]
        self._params = params
        return self._states

    def _penalised(self, grads, params):
        out = []
        for g, p in zip(grads, params):
            if p.regularize:
                xp = namespace(g)
                if self.l2:
                    g = g + self.l2 * p.value
                if self.l1:
                    g = g + self.l1 * xp.sign(p.value)
            out.append(g)
        return out

    def _clipped(self, grads):
        if self.clip_norm is not None and self.clip_value is not None:
            self._last_grad_norm = _global_norm(grads)  # as documented: before any clipping
        if self.clip_value is not None:
            grads = [namespace(g).clip(g, -self.clip_value, self.clip_value) for g in grads]
        if self.clip_norm is not None:
            xp = namespace(grads[0])
            if xp is not np:  # on a device: no sync per step, the factor is a device scalar
                factor, norm = _device_clip_factor(xp, grads, self.clip_norm)
                if self.clip_value is None:
                    self._last_grad_norm = norm
                return [g * factor for g in grads]
            total = _global_norm(grads)
            if self.clip_value is None:
                self._last_grad_norm = total
            if total > self.clip_norm:
                factor = self.clip_norm / (total + 1e-12)
                grads = [g * factor for g in grads]
        return grads

    @property
    def last_grad_norm(self) -> float | None:
        value = self._last_grad_norm
        return None if value is None else float(value)  # a device scalar is read only when asked

    def _init_state(self, value) -> dict:
        return {}

    def _update(self, value, grad, state, lr) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        config = {"lr": self.base_lr}
        for key in ("l2", "l1"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        for key in ("clip_norm", "clip_value"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        if self.schedule is not None:
            config["schedule"] = self.schedule
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


#: Elements per block when an update is a NumPy expression with temporaries: they stay
#: this small (in cache) instead of as large as all the parameters.
BLOCK = 1 << 16


def blocks(*arrays):
    """Matching 1-D blocks of same-shaped arrays, ``BLOCK`` elements each, for updates whose
    expression makes temporaries (``value -= lr * grad``). The arrays themselves when they are
    small, not NumPy arrays, or not all contiguous (where a flat view would be a copy).

    Parameters
    ----------
    *arrays : ndarray, all of one shape

    Yields
    ------
    list of ndarray
        Views of the arrays, the same elements of each; writing into them writes the arrays.
    """
    first = arrays[0]
    if (first.size <= BLOCK or any(type(a) is not np.ndarray or not a.flags.c_contiguous for a in arrays)):
        yield list(arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, first.size, BLOCK):
        yield [f[start : start + BLOCK] for f in flat]


def get_optimizer(spec, **kwargs) -> Optimizer:
    """An Optimizer from a registry name (with constructor ``kwargs``) or an instance."""
    return OPTIMIZERS.create(spec, base=Optimizer, **kwargs)


def _global_norm(grads) -> float:
    """‖g‖ over every array of ``grads`` (NumPy) as a float; finite whenever the entries are,
    even where the sum of squares would overflow (then computed on the entries over their
    largest magnitude), so clipping rescales such a gradient instead of zeroing it."""
    with np.errstate(over="ignore"):
        total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if math.isfinite(total):
        return total
    largest = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    if not math.isfinite(largest) or largest == 0:
        return total
    with np.errstate(over="ignore"):
        return largest * math.sqrt(sum(float(((g / largest) ** 2).sum()) for g in grads))


def _device_clip_factor(xp, grads, clip_norm: float):
    """``(min(1, clip_norm / (‖g‖ + 1e-12)), ‖g‖)`` on a device, as device scalars (no sync),
    with ‖g‖ = scale · root (``_device_norm_parts``) never formed inside the factor: it may
    exceed float32's range where the clipped gradient does not."""
    scale, root = _device_norm_parts(xp, grads)
    return xp.minimum(1.0, (clip_norm / scale) / (root + 1e-12 / scale)), scale * root


def _device_norm_parts(xp, grads):
    """``(scale, root)`` with ‖g‖ = scale · root over every array of ``grads`` on a device, as
    device scalars (no sync): the entries are divided by their largest magnitude, so that
    squares that would overflow (float32: |g| past ~1e19) still give a finite root, and a
    norm past float32's range is never formed, so clipping rescales such a gradient instead
    of zeroing it, as ``_global_norm`` and ``_clipped`` do on the CPU."""
    dtype = grads[0].dtype
    grads = [g.ravel() for g in grads if g.size]
    if not grads:
        return xp.ones((), dtype=dtype), xp.zeros((), dtype=dtype)
    largest = xp.stack([xp.abs(g).max() for g in grads]).max()
    # an all-zero gradient has norm 0; an infinite entry gives an infinite root (clipping then
    # zeroes the step, as on the CPU) instead of inf/inf = NaN
    scale = xp.where(xp.isfinite(largest) & (largest > 0), largest, xp.ones_like(largest))
    return scale, xp.sqrt(sum(xp.vdot(g / scale, g / scale) for g in grads))
