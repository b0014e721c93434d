"""Built-in backends. Each factory imports its engine only when it is chosen.

TurboML and Flink need extras; without them ``rtml.connect`` says exactly what to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from rtml.errors import BackendUnavailable
from rtml.plugins.hookspecs import hookimpl


def _local(**options: Any) -> Any:
    from rtml.backends.local import LocalBackend

    return LocalBackend(**options)


def _http(**options: Any) -> Any:
    from rtml.backends.http import HttpBackend

    return HttpBackend(**options)


def _needs(module: str, extra: str, backend: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(
            f'the {backend} backend needs the {extra!r} extra: pip install "rtml[{extra}]"'
        )


def _turboml(**options: Any) -> Any:
    if options.get("sdk") is None:  # a double of the SDK (tests) needs no install
        _needs("turboml", "turboml", "TurboML")
    from rtml.backends.turboml import TurboMLBackend

    return TurboMLBackend(**options)


def _flink(**options: Any) -> Any:
    _needs("pyflink", "flink", "Flink")
    raise BackendUnavailable("the Flink adapter is not part of this version of rtml yet")


@hookimpl
def register_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("local", _local)
    register("http", _http)
    register("turboml", _turboml)
    register("flink", _flink)
