"""``rtml.connect``: a backend by name, with an install hint when its extra is missing."""

from __future__ import annotations

from typing import Any

from rtml.backends.base import Backend
from rtml.errors import BackendUnavailable

__all__ = ["connect"]


def connect(target: str = "local", **options: Any) -> Backend:
    """Connect to a backend: ``"local"`` (default), ``"turboml"``, ``"flink"``, a server's
    address (``"http://host:port"``, a client of ``rtml serve``) or a plugin's.

    The local engine keeps its state under ``path`` (``$RTML_HOME``, else ``./.rtml``);
    ``path=":memory:"`` keeps it in memory.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> backend.datasets()
    []
    >>> rtml.connect("nowhere")
    Traceback (most recent call last):
    ...
    rtml.errors.BackendUnavailable: no backend named 'nowhere' (known: flink, http, local, turboml)
    """
    from rtml.plugins import registry

    backends = registry().backends
    if target.startswith(("http://", "https://")):
        options["url"] = target
        target = "http"
    if target not in backends:
        known = ", ".join(sorted(backends))
        raise BackendUnavailable(f"no backend named {target!r} (known: {known})")
    backend = backends[target].obj(**options)
    if not isinstance(backend, Backend):
        raise BackendUnavailable(
            f"backend {target!r} (plugin {backends[target].plugin!r}) returned "
            f"{type(backend).__name__}, not an rtml.Backend"
        )
    return backend
