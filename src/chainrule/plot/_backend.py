"""Lazy pyplot with a headless backend when there is no display."""

from __future__ import annotations

import os


def pyplot():
    """matplotlib.pyplot, switched to Agg when no display is available."""
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
