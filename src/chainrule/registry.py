"""Name registries built from the classes themselves.

A class joins a registry by declaring ``name`` (and optionally ``aliases``); the command
line, the model files and the Python API all resolve names through the same registry,
so a name and a class never drift apart.
"""

from __future__ import annotations

import reprlib

_shown = reprlib.Repr()  # a name of any length is echoed in one readable line
_shown.maxstring = 80


class Registry:
    """Maps lower-case names to classes of one kind (activations, losses, optimizers...).

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages ("loss", "optimizer", ...).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type] = {}
        self._canonical: dict[str, type] = {}

    def add(self, cls: type) -> type:
        """Register ``cls`` under ``cls.name`` and its ``aliases``."""
        names = (cls.name, *getattr(cls, "aliases", ()))
        for name in names:
            key = name.lower()
            if key in self._classes and self._classes[key] is not cls:
                raise ValueError(f"{self.kind} name {name!r} is already taken by {self._classes[key].__name__}")
            self._classes[key] = cls
        self._canonical[cls.name.lower()] = cls
        return cls

    def add_if_named(self, cls: type) -> None:
        """Register ``cls`` when it declares its own ``name`` (called from ``__init_subclass__``)."""
        if cls.__dict__.get("name"):
            self.add(cls)

    def names(self) -> list[str]:
        """The canonical names, sorted."""
        return sorted(self._canonical)

    def classes(self) -> list[type]:
        """The registered classes, one per canonical name."""
        return [self._canonical[n] for n in self.names()]

    def get(self, name: str) -> type:
        """The class registered as ``name`` (case-insensitive)."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} must be given by name (str), got {type(name).__name__}")
        try:
            return self._classes[name.lower().replace("-", "_")]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} {_shown.repr(name)}; choose one of: {', '.join(self.names())}"
            ) from None

    def create(self, spec, base: type | None = None, **kwargs):
        """Build an instance from a name, or pass an instance of ``base`` through.

        Parameters
        ----------
        spec : str or instance
            A registered name, or an already-built object.
        base : type, optional
            The expected base class of a passed-through instance.
        **kwargs
            Constructor arguments used when ``spec`` is a name.
        """
        if isinstance(spec, str):
            return self.get(spec)(**kwargs)
        if base is not None and not isinstance(spec, base):
            raise TypeError(
                f"{self.kind} must be a name ({', '.join(self.names())}) or a {base.__name__}, "
                f"got {type(spec).__name__}"
            )
        return spec

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._classes
