"""Built-in backends. Each factory imports its engine only when it is chosen.

TurboML and Flink need extras; without them ``rtml.connect`` says exactly what to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
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
    # ``sdk=`` (or RTML_TURBOML_SDK, a module name) stands in for the SDK: a double, in tests.
    sdk = options.get("sdk") or os.environ.get("RTML_TURBOML_SDK")
    if isinstance(sdk, str):
        options["sdk"] = importlib.import_module(sdk)
    elif sdk is None:
        _needs("turboml", "turboml", "TurboML")
    from rtml.backends.turboml import TurboMLBackend

    return TurboMLBackend(**options)


def _flink(**options: Any) -> Any:
    _needs("pyflink", "flink", "Flink")
    from rtml.backends.flink import FlinkBackend

    return FlinkBackend(**options)


@hookimpl
def register_backends(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("local", _local)
    register("http", _http)
    register("turboml", _turboml)
    register("flink", _flink)
