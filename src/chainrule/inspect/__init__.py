"""Seeing backprop: the explain trace, gradient checks and gradient-flow diagnostics.

- ``explain(net, X, y, loss, lr)``: every number of one training step (``Trace``), rendered as
  text, Markdown with LaTeX, or JSON.
- ``gradcheck(net_or_layer, X, y, loss)``: analytic gradients against central differences
  in float64, per parameter and per layer input (``GradcheckReport``).
- ``GradientFlow``: a ``fit`` callback recording per-layer gradient statistics and warning
  about vanishing or exploding gradients.
- ``load_config``: the JSON network description of ``chainrule explain``/``gradcheck``.
"""

from .config import ExplainConfig, load_config, parse_config
from .explain import SCHEMA, LayerStep, Trace, explain
from .gradcheck import GradcheckEntry, GradcheckReport, gradcheck
from .gradient_flow import (
    EXPLODING_REMEDIES,
    VANISHING_REMEDIES,
    ExplodingGradientWarning,
    GradientFlow,
    GradientFlowWarning,
    VanishingGradientWarning,
)

__all__ = [
    "EXPLODING_REMEDIES", "SCHEMA", "VANISHING_REMEDIES", "ExplainConfig", "ExplodingGradientWarning",
    "GradcheckEntry", "GradcheckReport", "GradientFlow", "GradientFlowWarning", "LayerStep", "Trace",
    "VanishingGradientWarning", "explain", "gradcheck", "load_config", "parse_config",
]
