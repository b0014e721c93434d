"""The public surface: the four abstractions, and a runnable example on every public class."""

from __future__ import annotations

import importlib
import inspect

import pytest

import rtml

PUBLIC_MODULES = [
    "rtml",
    "rtml.features",
    "rtml.models",
    "rtml.metrics",
    "rtml.sources",
    "rtml.simulate",
    "rtml.backends",
    "rtml.backends.local",
    "rtml.plugins",
    "rtml.testing",
]


def public_classes() -> list[tuple[str, type]]:
    found: dict[str, type] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(found.items())


def test_the_four_abstractions_are_public() -> None:
    for name in ("DataSource", "FeatureSet", "ModelSpec", "Simulator", "Backend", "connect"):
        assert name in rtml.__all__
    assert issubclass(rtml.sources.DataFrameSource, rtml.DataSource)
    assert issubclass(rtml.sources.FileSource, rtml.DataSource)


@pytest.mark.parametrize(
    ("name", "cls"), public_classes(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_public_class_has_a_docstring_example(name: str, cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    assert ">>>" in doc, f"{name} has no docstring example"


def test_every_error_derives_from_rtml_error() -> None:
    for name in ("SpecError", "SchemaError", "BackendUnavailable", "PluginError", "NotFound"):
        assert issubclass(getattr(rtml, name), rtml.RtmlError)
    assert issubclass(rtml.features.LateRecordsError, rtml.SchemaError)


def test_importing_rtml_loads_no_optional_engine() -> None:
    import subprocess
    import sys

    code = "import sys, rtml; print(any(m.split('.')[0] in ('turboml', 'pyflink', 'fastapi') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_extras_say_what_to_install() -> None:
    for target, extra in (("turboml", "turboml"), ("flink", "flink")):
        with pytest.raises(rtml.BackendUnavailable, match=rf'pip install "rtml\[{extra}\]"'):
            rtml.connect(target)
