"""The Flink backend (``rtml.connect("flink")``, extra ``rtml[flink]``).

Importing this package imports nothing else: Flink's Python workers unpickle the plan's steps
(``rtml.backends.flink.plan``) in several threads at once, and a package that imported its
backend (which imports the plan) on the way would deadlock them on their imports. PyFlink
itself is imported only when a job runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rtml.backends.flink.backend import FlinkBackend, FlinkDeployment

__all__ = ["FlinkBackend", "FlinkDeployment"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rtml.backends.flink import backend

        return getattr(backend, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
