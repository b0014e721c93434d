"""rtml's plugin system: pluggy hooks, entry points in the ``rtml`` group, one registry.

>>> from rtml import plugins
>>> "sql" in plugins.registry().features
True
"""

from rtml.plugins.hookspecs import hookimpl
from rtml.plugins.manager import (
    DEFAULT_PLUGINS,
    Entry,
    Registry,
    plugin_manager,
    register_plugin,
    registry,
    reset,
    spec_from_dict,
    unregister_plugin,
)

__all__ = [
    "DEFAULT_PLUGINS",
    "Entry",
    "Registry",
    "hookimpl",
    "plugin_manager",
    "register_plugin",
    "registry",
    "reset",
    "spec_from_dict",
    "unregister_plugin",
]
