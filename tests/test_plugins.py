"""The pluggy registry: built-ins through the same hooks, entry points, switches and errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Literal

import pandas as pd
import pytest

import rtml
from rtml.plugins import hookspecs
from rtml.testing import registered_plugin


class Shout(rtml.features.RowFeature):
    """Upper-cases a string column.

    >>> 1
    1
    """

    kind: Literal["shout"] = "shout"
    column: str

    _positional = ("name",)

    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def compute(self, frame: pd.DataFrame):
        return frame[self.column].str.upper().to_numpy()


class FeaturePlugin:
    @rtml.hookimpl
    def register_features(self, register):
        register(Shout)


def test_builtins_are_registered_through_the_hooks() -> None:
    reg = rtml.plugins.registry()
    assert {"sql", "aggregate", "udf", "udaf"} <= set(reg.features)
    assert reg.features["sql"].plugin == "rtml.plugins.builtin_features"
    assert {"local", "turboml", "flink"} <= set(reg.backends)
    assert "WindowedAUC" in reg.metrics
    pm = rtml.plugins.plugin_manager()
    for module in rtml.plugins.DEFAULT_PLUGINS:
        assert pm.has_plugin(module)


def test_every_hook_has_a_builtin_implementation_and_a_docs_entry() -> None:
    hooks = [n for n in dir(hookspecs) if n.startswith("register_")]
    docs = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    pm = rtml.plugins.plugin_manager()
    for hook in hooks:
        assert getattr(pm.hook, hook).get_hookimpls(), f"{hook} has no built-in implementation"
        assert f"`{hook}" in docs, f"{hook} is not documented in docs/plugins.md"


def test_throwaway_plugin_adds_a_kind_that_works_end_to_end(backend) -> None:
    with registered_plugin(FeaturePlugin(), name="shouting"):
        assert rtml.plugins.registry().features["shout"].plugin == "shouting"
        backend.create_dataset(
            "names", key="id", df=pd.DataFrame({"id": [1, 2], "ts": [1, 2], "who": ["ann", "bo"]})
        )
        fs = rtml.FeatureSet.from_dict(
            {
                "name": "loud",
                "dataset": "names",
                "timestamp": "ts",
                "features": [{"kind": "shout", "name": "who_up", "column": "who"}],
            }
        )
        backend.materialize(fs)
        assert backend.features("loud")["who_up"].tolist() == ["ANN", "BO"]
    assert "shout" not in rtml.plugins.registry().features


def test_two_plugins_claiming_one_kind_name_both() -> None:
    class Again:
        @rtml.hookimpl
        def register_features(self, register):
            register(Shout)

    with registered_plugin(FeaturePlugin(), name="first"):
        with pytest.raises(rtml.PluginError) as info:
            rtml.plugins.register_plugin(Again(), name="second")
        assert "'first'" in str(info.value) and "'second'" in str(info.value)
        assert "shout" in str(info.value)
    assert "second" not in dict(rtml.plugins.plugin_manager().list_name_plugin())


def test_builtin_kind_name_cannot_be_taken() -> None:
    class Clash(rtml.features.RowFeature):
        """x

        >>> 1
        1
        """

        kind: Literal["sql"] = "sql"

    class Plugin:
        @rtml.hookimpl
        def register_features(self, register):
            register(Clash)

    with pytest.raises(rtml.PluginError, match=r"rtml.plugins.builtin_features"):
        rtml.plugins.register_plugin(Plugin(), name="clash")


def test_unknown_hook_is_refused() -> None:
    class Typo:
        @rtml.hookimpl
        def register_featurez(self, register):
            pass

    with pytest.raises(rtml.PluginError) as info:
        rtml.plugins.register_plugin(Typo(), name="typo")
    assert "'typo'" in str(info.value) and "register_featurez" in str(info.value)
    assert "typo" not in dict(rtml.plugins.plugin_manager().list_name_plugin())


def test_registering_a_non_kind_is_refused() -> None:
    class Wrong:
        @rtml.hookimpl
        def register_models(self, register):
            register(dict)

    with pytest.raises(rtml.PluginError, match="subclass of ModelSpec"):
        rtml.plugins.register_plugin(Wrong(), name="wrong")


def _install_fake_distribution(root: Path, name: str, module_source: str) -> None:
    """A real installed distribution (dist-info with an entry point) on sys.path."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[rtml]\n{name} = {name}\n")


def test_entry_point_plugin_is_loaded(tmp_path, monkeypatch, fresh_plugins) -> None:
    _install_fake_distribution(
        tmp_path,
        "rtml_fake_ok",
        """
        import rtml
        from typing import Literal

        class Echo(rtml.features.RowFeature):
            '''Copies a column.

            >>> 1
            1
            '''
            kind: Literal["echo"] = "echo"
            column: str
            def columns(self):
                return (self.column,)
            def compute(self, frame):
                return frame[self.column].to_numpy()

        @rtml.hookimpl
        def register_features(register):
            register(Echo)
    """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert rtml.plugins.registry().features["echo"].plugin == "rtml_fake_ok"


def test_plugin_failing_to_import_is_named(tmp_path, monkeypatch, fresh_plugins) -> None:
    _install_fake_distribution(tmp_path, "rtml_fake_broken", "import not_a_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(rtml.PluginError) as info:
        rtml.plugins.registry()
    assert "rtml_fake_broken" in str(info.value)
    assert "not_a_module_anywhere" in str(info.value)
    sys.modules.pop("rtml_fake_broken", None)


def test_disable_autoload_skips_entry_points(tmp_path, monkeypatch, fresh_plugins) -> None:
    _install_fake_distribution(tmp_path, "rtml_fake_broken2", "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("RTML_DISABLE_PLUGIN_AUTOLOAD", "1")
    reg = rtml.plugins.registry()
    assert "sql" in reg.features
    assert all(e.plugin.startswith("rtml.plugins.") for e in reg.features.values())


def test_load_plugins_selects_by_name(tmp_path, monkeypatch, fresh_plugins) -> None:
    _install_fake_distribution(tmp_path, "rtml_fake_broken3", "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("RTML_LOAD_PLUGINS", "geo")
    reg = rtml.plugins.registry()  # the broken one is not selected, so not imported
    assert reg.features["haversine"].plugin == "geo"


def test_load_plugins_naming_a_missing_plugin(monkeypatch, fresh_plugins) -> None:
    monkeypatch.setenv("RTML_LOAD_PLUGINS", "geo,not_installed_anywhere")
    with pytest.raises(rtml.PluginError, match="not_installed_anywhere"):
        rtml.plugins.registry()
