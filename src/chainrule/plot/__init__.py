"""Matplotlib figures (matplotlib is imported only when a figure is drawn).

Each submodule lists its figures in ``__all__``; they are all available here, e.g.
``chainrule.plot.loss_curve(history)``. Every function returns a Figure.
"""

import importlib as _importlib
import pkgutil as _pkgutil

__all__ = []
for _info in _pkgutil.iter_modules(__path__):
    if _info.name.startswith("_"):
        continue
    _module = _importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
