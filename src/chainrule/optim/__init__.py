"""Optimizers and learning-rate schedules."""

from .adaptive import Adam, AdamW, RMSprop
from .base import OPTIMIZERS, Optimizer, get_optimizer
from .schedules import (
    SCHEDULES,
    CosineDecay,
    ExponentialDecay,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
    get_schedule,
)
from .sgd import SGD, Momentum

__all__ = [
    "OPTIMIZERS", "SCHEDULES", "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "Momentum",
    "Optimizer", "RMSprop", "ReduceOnPlateau", "SGD", "Schedule", "StepDecay", "get_optimizer",
    "get_schedule",
]
