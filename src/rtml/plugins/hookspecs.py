"""Every hook a plugin may implement, in one place.

Each hook receives a ``register`` callback and calls it once per kind it adds. The built-in
kinds are registered through these very hooks (see :mod:`rtml.plugins.builtins`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("rtml")
hookimpl = pluggy.HookimplMarker("rtml")


@hookspec
def register_features(register: Callable[[type], None]) -> None:
    """Register feature kinds: ``register(FeatureClass)`` for each subclass of ``rtml.Feature``."""


@hookspec
def register_models(register: Callable[[type], None]) -> None:
    """Register model kinds: ``register(ModelClass)`` for each subclass of ``rtml.ModelSpec``."""


@hookspec
def register_sources(register: Callable[[type], None]) -> None:
    """Register data source kinds: ``register(SourceClass)`` for each ``rtml.DataSource``."""


@hookspec
def register_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register backends: ``register(name, factory)``; ``rtml.connect(name, **kw)`` calls it."""


@hookspec
def register_metrics(register: Callable[[type], None]) -> None:
    """Register evaluation metrics: ``register(MetricClass)`` for each ``rtml.metrics.Metric``."""
