"""Where a warning raised deep inside chainrule should point: at the user's code."""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def caller_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the function calling this one that
    points the warning at the first frame outside chainrule (the user's ``fit`` call, or a
    library's such as scikit-learn's ``Pipeline``), however deep the call chain inside the
    package is."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
        frame, level = frame.f_back, level + 1
    return level
