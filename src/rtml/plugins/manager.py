"""The plugin manager: built-ins first, then entry points of the ``rtml`` group, loaded lazily.

Environment switches (read when plugins are first needed):

- ``RTML_DISABLE_PLUGIN_AUTOLOAD=1``: load no third-party plugin, only the built-ins.
- ``RTML_LOAD_PLUGINS=a,b``: load exactly these entry points (by entry-point or distribution
  name), even when autoload is disabled; a name that is not installed is an error.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from rtml.errors import PluginError
from rtml.plugins import hookspecs

ENTRY_POINT_GROUP = "rtml"

# The built-in kinds, registered through the same hooks as any third-party plugin.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "rtml.plugins.builtin_features",
    "rtml.plugins.builtin_models",
    "rtml.plugins.builtin_sources",
    "rtml.plugins.builtin_backends",
    "rtml.plugins.builtin_metrics",
)

_CATEGORIES = ("features", "models", "sources", "backends", "metrics")
_TRUE = {"1", "true", "yes", "on"}

_lock = threading.RLock()
_manager: pluggy.PluginManager | None = None
_registry: Registry | None = None


@dataclass(frozen=True)
class Entry:
    """One registered kind: its name, the object registered and the plugin that registered it.

    >>> registry().models["GaussianNB"].plugin
    'rtml.plugins.builtin_models'
    """

    name: str
    obj: Any
    plugin: str


@dataclass
class Registry:
    """Every registered kind, by category and name.

    >>> reg = registry()
    >>> reg.features["aggregate"].plugin
    'rtml.plugins.builtin_features'
    """

    features: dict[str, Entry] = field(default_factory=dict)
    models: dict[str, Entry] = field(default_factory=dict)
    sources: dict[str, Entry] = field(default_factory=dict)
    backends: dict[str, Entry] = field(default_factory=dict)
    metrics: dict[str, Entry] = field(default_factory=dict)

    def category(self, name: str) -> dict[str, Entry]:
        table: dict[str, Entry] = getattr(self, name)
        return table

    def by_plugin(self) -> dict[str, dict[str, list[str]]]:
        """``{plugin: {category: [kind names]}}`` for display (``rtml plugins``)."""
        out: dict[str, dict[str, list[str]]] = {}
        for category in _CATEGORIES:
            for entry in self.category(category).values():
                out.setdefault(entry.plugin, {}).setdefault(category, []).append(entry.name)
        return out


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except ValueError as exc:  # pluggy: the same name or object registered twice
        raise PluginError(f"plugin {name!r} could not be registered: {exc}") from None
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name!r} is invalid: {exc}") from None
    try:
        # A hookimpl whose name matches no hookspec would otherwise be silently ignored.
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(name=name)
        known = ", ".join(sorted(n for n in dir(hookspecs) if n.startswith("register_")))
        raise PluginError(
            f"plugin {name!r} implements a hook rtml does not define: {exc} (known hooks: {known})"
        ) from None


def _selected_entry_points() -> list[importlib.metadata.EntryPoint]:
    found = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    wanted_env = os.environ.get("RTML_LOAD_PLUGINS", "").strip()
    if wanted_env:
        wanted = [w.strip() for w in wanted_env.split(",") if w.strip()]
        chosen = [
            ep
            for ep in found
            if ep.name in wanted or (ep.dist is not None and ep.dist.name in wanted)
        ]
        seen = {ep.name for ep in chosen} | {ep.dist.name for ep in chosen if ep.dist}
        missing = [w for w in wanted if w not in seen]
        if missing:
            available = ", ".join(sorted(ep.name for ep in found)) or "none"
            raise PluginError(
                f"RTML_LOAD_PLUGINS names plugin(s) that are not installed: {', '.join(missing)} "
                f"(installed: {available})"
            )
        return chosen
    if _truthy("RTML_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    return found


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for ep in _selected_entry_points():
        origin = f" from {ep.dist.name} {ep.dist.version}" if ep.dist is not None else ""
        try:
            module = ep.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}{origin}) failed to import: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        _register(pm, module, name=ep.name)


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created (and plugins loaded) on first use."""
    global _manager
    with _lock:
        if _manager is None:
            pm = pluggy.PluginManager("rtml")
            pm.add_hookspecs(hookspecs)
            for module_name in DEFAULT_PLUGINS:
                _register(pm, importlib.import_module(module_name), name=module_name)
            _load_entry_points(pm)
            _manager = pm
        return _manager


def _validator(category: str) -> Callable[[Any], str]:
    """How to name (and check) an object registered in ``category``."""
    from rtml.features.base import Feature
    from rtml.metrics.base import Metric
    from rtml.models.base import ModelSpec
    from rtml.sources.base import DataSource

    bases = {"features": Feature, "models": ModelSpec, "sources": DataSource, "metrics": Metric}
    base: Any = bases[category]

    def name_of(obj: Any) -> str:
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise PluginError(
                f"register_{category} expects a subclass of {base.__name__}, got {obj!r}"
            )
        kind: Any = obj  # every registrable base defines kind_name()
        return str(kind.kind_name())

    return name_of


def _collect(pm: pluggy.PluginManager) -> Registry:
    reg = Registry()
    for category in _CATEGORIES:
        table = reg.category(category)
        hook = getattr(pm.hook, f"register_{category}")
        # Call each implementation on its own so every kind is attributed to its plugin.
        for impl in reversed(hook.get_hookimpls()):
            plugin_name = impl.plugin_name

            def register(
                obj: Any,
                factory: Any = None,
                _plugin: str = plugin_name,
                category: str = category,
                table: dict[str, Entry] = table,
            ) -> None:
                if category == "backends":
                    if not isinstance(obj, str) or not callable(factory):
                        raise PluginError(
                            f"plugin {_plugin!r}: register_backends expects register(name, factory)"
                        )
                    name, value = obj, factory
                else:
                    if factory is not None:
                        raise PluginError(f"plugin {_plugin!r}: register() takes one argument")
                    name, value = _validator(category)(obj), obj
                if name in table and table[name].plugin != _plugin:
                    raise PluginError(
                        f"{category[:-1]} kind {name!r} is registered by two plugins: "
                        f"{table[name].plugin!r} and {_plugin!r}"
                    )
                if name in table:
                    raise PluginError(
                        f"plugin {_plugin!r} registers {category[:-1]} {name!r} twice"
                    )
                table[name] = Entry(name=name, obj=value, plugin=_plugin)

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {plugin_name!r} failed in register_{category}: {type(exc).__name__}: {exc}"
                ) from exc
    return reg


def registry() -> Registry:
    """Every registered kind, collected from the plugins on first use."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = _collect(plugin_manager())
        return _registry


def spec_from_dict(category: str, data: Any) -> Any:
    """A spec given as a mapping (e.g. parsed JSON) built by the kind its ``kind`` names;
    anything else is returned as it is.

    >>> spec_from_dict("features", {"kind": "sql", "name": "x2", "expr": '"x" * 2'}).expr
    '"x" * 2'
    """
    if not isinstance(data, dict):
        return data
    kinds = registry().category(category)
    kind = data.get("kind")
    if kind not in kinds:
        raise ValueError(
            f"unknown {category[:-1]} kind {kind!r} (known: {', '.join(sorted(kinds))})"
        )
    return kinds[kind].obj(**data)


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Register a plugin object (a module or any object with ``@hookimpl`` functions) now.

    Returns the name it was registered under. Mostly for tests and notebooks; installed
    packages use the ``rtml`` entry-point group instead.
    """
    global _registry
    with _lock:
        pm = plugin_manager()
        plugin_name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        _register(pm, plugin, name=plugin_name)
        try:
            fresh = _collect(pm)
        except PluginError:
            pm.unregister(name=plugin_name)
            raise
        _registry = fresh
        return plugin_name


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered by name and forget what it registered."""
    global _registry
    with _lock:
        plugin_manager().unregister(name=name)
        _registry = None


def reset() -> None:
    """Forget every plugin; they are loaded again (environment re-read) on next use."""
    global _manager, _registry
    with _lock:
        _manager = None
        _registry = None
