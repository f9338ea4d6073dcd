"""Learning-rate schedules, evaluated once per epoch by the optimizer base."""

from __future__ import annotations

import math

from ..registry import Registry
from ..validation import check_fraction, check_positive

SCHEDULES = Registry("learning-rate schedule")


class Schedule:
    """Maps (epoch, base learning rate, monitored value) to the learning rate of the next epoch."""

    name: str | None = None
    aliases: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        SCHEDULES.add_if_named(cls)

    def __call__(self, epoch: int, base_lr: float, monitor: float | None = None) -> float:
        raise NotImplementedError

    def plan(self, epochs: int) -> None:
        """Told by ``fit`` how many epochs it will run (before the first one); most
        schedules do not need it."""

    def get_config(self) -> dict:
        return dict(vars(self))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """lr = base · γ^⌊epoch / step_size⌋."""

    name, aliases = "step", ("step_decay",)

    def __init__(self, step_size: int = 10, gamma: float = 0.1):
        self.step_size = check_positive("step_size", step_size, integer=True)
        self.gamma = check_fraction("gamma", gamma, lower_open=True, upper_open=False)  # a decay: at most 1

    def __call__(self, epoch, base_lr, monitor=None):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """lr = base · γ^epoch."""

    name, aliases = "exponential", ("exp",)

    def __init__(self, gamma: float = 0.99):
        self.gamma = check_fraction("gamma", gamma, lower_open=True, upper_open=False)  # a decay: at most 1

    def __call__(self, epoch, base_lr, monitor=None):
        return base_lr * self.gamma**epoch


class CosineDecay(Schedule):
    """lr = min_lr + ½ (base - min_lr)(1 + cos(π · min(epoch, T) / T)).

    Parameters
    ----------
    period : int, optional
        T, in epochs. By default the number of epochs of the ``fit`` call, so the decay
        spans training whatever ``epochs`` is: epoch 0 uses the base rate and the last
        epoch (T - 1) one step above ``min_lr`` (as PyTorch's ``CosineAnnealingLR`` with
        ``T_max=epochs``).
    min_lr : float
        The rate reached at epoch T and kept after it.
    """

    name, aliases = "cosine", ("cosine_annealing",)

    def __init__(self, period: int | None = None, min_lr: float = 0.0):
        self.period = None if period is None else check_positive("period", period, integer=True)
        self.min_lr = check_positive("min_lr", min_lr, allow_zero=True)
        self._planned = None

    def plan(self, epochs):
        self._planned = epochs

    def __call__(self, epoch, base_lr, monitor=None):
        period = self.period or self._planned
        if period is None:
            raise ValueError("CosineDecay() without a period runs inside fit (which sets it to the number of "
                             "epochs); give period=... to call it directly")
        t = min(epoch, period) / period
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * t))

    def get_config(self):
        return {"period": self.period, "min_lr": self.min_lr}


class ReduceOnPlateau(Schedule):
    """Multiply the rate by ``factor`` when the monitored loss has not improved by
    more than ``threshold`` (relative) for more than ``patience`` epochs in a row (as PyTorch's
    ``ReduceLROnPlateau``): never below ``min_lr``, never above the base rate, and a cut of less
    than ``EPS`` is skipped."""

    name, aliases = "plateau", ("reduce_on_plateau",)
    EPS = 1e-8  # PyTorch's eps

    def __init__(self, factor: float = 0.1, patience: int = 10, min_lr: float = 0.0, threshold: float = 1e-4):
        self.factor = check_fraction("factor", factor, lower_open=True)
        self.patience = check_positive("patience", patience, integer=True, allow_zero=True)
        self.min_lr = check_positive("min_lr", min_lr, allow_zero=True)
        self.threshold = check_fraction("threshold", threshold)
        self.reset()

    def reset(self):
        self._best = math.inf
        self._bad_epochs = 0
        self._scale = 1.0

    def __call__(self, epoch, base_lr, monitor=None):
        if epoch == 0:
            self.reset()
        current = min(base_lr, max(base_lr * self._scale, self.min_lr))
        if monitor is not None and math.isfinite(monitor):
            if monitor < self._best * (1.0 - self.threshold):
                self._best, self._bad_epochs = monitor, 0
            else:
                self._bad_epochs += 1
                if self._bad_epochs > self.patience:
                    self._bad_epochs = 0
                    reduced = max(current * self.factor, self.min_lr)
                    if current - reduced > self.EPS:
                        self._scale, current = reduced / base_lr, reduced
        return current

    def get_config(self):
        return {k: getattr(self, k) for k in ("factor", "patience", "min_lr", "threshold")}


def get_schedule(spec) -> Schedule | None:
    """A Schedule from None, a registry name or an instance."""
    if spec is None:
        return None
    return SCHEDULES.create(spec, base=Schedule)
