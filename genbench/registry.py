"""Name → object registries for targets, models and metrics.

Adding a target, model or metric is one new file with a decorator; nothing else is edited.
Third-party packages add them without forking genbench through the entry-point groups
``genbench.targets``, ``genbench.models`` and ``genbench.metrics``::

    # in the plug-in's pyproject.toml
    [project.entry-points."genbench.models"]
    my_flow = "my_package.flows:MyFlow"

    [project.entry-points."genbench.metrics"]
    mmd = "my_package.metrics:mmd"  # a ``Metric``, e.g. made by ``@genbench.metrics.metric``

The entry point's object is registered under the entry point's name the first time the
registry is asked for a name it does not hold, or for the list of names. An object that
registers itself with a decorator when its module is imported (a metric made by ``@metric``) is
already registered by then, under its decorator's name; the entry point must carry that same
name, because a metric's name is its results column.

A plug-in that cannot be loaded (its module fails to import, or its entry point is misnamed)
is skipped with a :class:`PluginWarning` naming it and its package, so that one broken package
does not stop genbench; asking for it by name raises :class:`UnknownNameError` with the reason.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that no registry entry or entry point provides."""

    def __str__(self) -> str:  # KeyError quotes its message; a user should read plain text
        return str(self.args[0])


class PluginWarning(UserWarning):
    """A plug-in's entry point could not be loaded and is skipped."""


class Registry(Generic[T]):
    """A named collection filled by the :meth:`register` decorator and an entry-point group."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind  # "target", "model", "metric": used in error messages
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._skipped: dict[str, str] = {}  # entry point name → why it was skipped
        self._reserved: dict[str, str] = {}  # name → what it names instead
        self._entry_points_loaded = False

    def reserve(self, names: Mapping[str, str]) -> None:
        """Keep each of ``names`` from naming an entry, built-in or plug-in; its value says
        what the name stands for instead (``"the group of metrics a, b"``)."""
        if taken := [name for name in names if name in self._entries]:
            raise ValueError(f"a {self.kind} named {taken[0]!r} is already registered")
        self._reserved.update(names)

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` and returns it unchanged."""
        if name in self._reserved:
            raise ValueError(f"{name!r} cannot name a {self.kind}: it names {self._reserved[name]}")

        def decorate(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"a {self.kind} named {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorate

    def get(self, name: str) -> T:
        """The entry called ``name``; raises :class:`UnknownNameError` listing what exists."""
        if name not in self._entries:
            self._load_entry_points()
        try:
            return self._entries[name]
        except KeyError:
            if name in self._skipped:
                raise UnknownNameError(self._skipped[name]) from None
            known = ", ".join(self.available()) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r} (available: {known})") from None

    def available(self) -> list[str]:
        """Registered names, plug-ins included, in registration order."""
        self._load_entry_points()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.available()

    def __iter__(self) -> Iterator[str]:
        return iter(self.available())

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or self.entry_point_group is None:
            return
        self._entry_points_loaded = True
        for entry_point in entry_points(group=self.entry_point_group):
            if entry_point.name in self._entries:
                continue
            if entry_point.name in self._reserved:
                self._skip(entry_point, f"its name names {self._reserved[entry_point.name]}")
                continue
            try:
                obj = entry_point.load()  # may register obj through its module's decorator
            except Exception as error:  # a broken plug-in must not stop genbench
                self._skip(entry_point, f"it failed to load ({type(error).__name__}: {error})")
                continue
            names = [name for name, known in self._entries.items() if known is obj]
            if names and entry_point.name not in names:
                # under two names a metric would be scored twice, in a column unlike its name
                self._skip(
                    entry_point,
                    f"it loads a {self.kind} that registers itself as {names[0]!r}: give both "
                    "the same name",
                )
                continue
            self._entries[entry_point.name] = obj

    def _skip(self, entry_point: EntryPoint, why: str) -> None:
        package = entry_point.dist.name if entry_point.dist is not None else "unknown"
        reason = (
            f"the {self.kind} plug-in {entry_point.name!r} ({entry_point.value}, package "
            f"{package}) is skipped: {why}"
        )
        self._skipped[entry_point.name] = reason
        warnings.warn(reason, PluginWarning, stacklevel=4)


def import_submodules(package_name: str, package_path: list[str]) -> None:
    """Import every module of a package so that their ``register`` decorators run."""
    for module in pkgutil.iter_modules(package_path):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package_name}.{module.name}")


targets: Registry = Registry("target", entry_point_group="genbench.targets")
models: Registry = Registry("model", entry_point_group="genbench.models")
metrics: Registry = Registry("metric", entry_point_group="genbench.metrics")
