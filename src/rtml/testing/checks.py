"""The check suite every feature and model kind must pass (rtml's own run it over each)."""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from rtml.features.base import Feature, RowFeature, WindowFeature
from rtml.features.engine import FeatureEngine
from rtml.features.featureset import FeatureSet
from rtml.models.base import ModelSpec
from rtml.plugins import register_plugin, registry, unregister_plugin

__all__ = ["check_feature_kind", "check_model_kind", "example_frame", "registered_plugin"]


def example_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Generic records (id, ts in epoch seconds, key, x, y, label) to check kinds on."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "ts": np.sort(rng.integers(0, 10 * 86400, n)),
            "key": rng.choice(["a", "b", "c"], n),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "label": (rng.random(n) < 0.3).astype(int),
        }
    )


def _spec_round_trips(spec: Any) -> None:
    cls = type(spec)
    if cls.__doc__ is None or not cls.__doc__.strip():
        raise AssertionError(f"{cls.__name__} has no docstring")
    if ">>>" not in cls.__doc__:
        raise AssertionError(f"{cls.__name__}'s docstring has no example")
    data = spec.model_dump(mode="json")
    assert data["kind"] == cls.kind_name(), "the JSON form must carry the kind tag"
    again = cls.from_dict(data)
    assert again == spec, f"{cls.__name__} does not round-trip through JSON: {again!r} != {spec!r}"
    try:
        copy = pickle.loads(pickle.dumps(spec))
    except Exception as exc:
        raise AssertionError(f"{cls.__name__} does not pickle: {exc}") from exc
    assert copy == spec, f"{cls.__name__} does not survive pickling"
    assert hash(spec) == hash(again), f"{cls.__name__}: equal specs must hash equally"


def check_feature_kind(
    feature: Feature, frame: pd.DataFrame, timestamp: str = "ts", key: str = "id"
) -> None:
    """Assert that a feature kind behaves: JSON and pickle round-trips, a docstring example,
    no mutation of its input, the same values in one batch and record by record, and a state
    that pickles and restores.
    """
    _spec_round_trips(feature)
    fs = FeatureSet(
        name="check",
        dataset="check",
        timestamp=timestamp,
        features=[feature],
        allowed_lateness="0s",
    )
    frame = frame.reset_index(drop=True)
    before = frame.copy(deep=True)
    whole = FeatureEngine(fs, key=key).process(frame)
    if isinstance(feature, RowFeature):
        feature.compute(frame)  # directly, as a third-party engine may call it
    elif isinstance(feature, WindowFeature):
        feature.reduce(
            list(zip(*(frame[c].tolist() for c in feature.value_columns()), strict=False))
        )
    try:
        pd.testing.assert_frame_equal(frame, before)
    except AssertionError:
        raise AssertionError(f"{type(feature).__name__} mutated its input records") from None
    one_by_one = FeatureEngine(fs, key=key)
    parts = [one_by_one.process(frame.iloc[i : i + 1]) for i in range(len(frame))]
    pd.testing.assert_frame_equal(
        pd.concat(parts),
        whole,
        check_dtype=False,
        obj=f"{feature.name}: one batch vs record by record",
    )
    if isinstance(feature, WindowFeature):
        half = len(frame) // 2
        first = FeatureEngine(fs, key=key)
        first.process(frame.iloc[:half])
        restored = FeatureEngine(fs, key=key)
        restored.restore(first.snapshot())
        pd.testing.assert_frame_equal(
            restored.process(frame.iloc[half:]),
            whole.iloc[half:],
            check_dtype=False,
            obj=f"{feature.name}: restored engine",
        )
    elif not isinstance(feature, RowFeature):
        raise AssertionError(f"{type(feature).__name__} must derive RowFeature or WindowFeature")


def check_model_kind(
    spec: ModelSpec,
    frame: pd.DataFrame | None = None,
    features: tuple[str, ...] = ("x", "y"),
    label: str = "label",
) -> None:
    """Assert that a model kind behaves: JSON and pickle round-trips, a docstring example,
    deterministic given a seed (built twice, same predictions), a trained model that pickles
    and predicts the same after, and no mutation of the records it reads.
    """
    _spec_round_trips(spec)
    frame = example_frame() if frame is None else frame
    rows = [{f: float(r[f]) for f in features} for r in frame.to_dict("records")]
    labels = frame[label].tolist()

    def run() -> tuple[Any, list[float]]:
        model = spec.build()
        scores = []
        for x, y in zip(rows, labels, strict=True):
            copy = dict(x)
            scores.append(model.predict_one(x)["score"])
            model.learn_one(x, y)
            assert x == copy, f"{type(spec).__name__} mutated its input record"
        return model, scores

    model, first = run()
    _, second = run()
    if "seed" not in type(spec).model_fields or getattr(spec, "seed", None) is not None:
        np.testing.assert_allclose(
            first, second, err_msg=f"{type(spec).__name__} is not deterministic (set its seed)"
        )
    clone = pickle.loads(pickle.dumps(model))
    probe = rows[: min(20, len(rows))]
    assert [clone.predict_one(x)["score"] for x in probe] == [
        model.predict_one(x)["score"] for x in probe
    ], f"{type(spec).__name__}: a pickled model predicts differently"


@contextlib.contextmanager
def registered_plugin(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register a throwaway plugin for the duration of a ``with`` block (tests, notebooks).

    >>> import types, rtml
    >>> plugin = types.SimpleNamespace()
    >>> with registered_plugin(plugin, name="nothing") as name:
    ...     name in rtml.plugins.plugin_manager().list_name_plugin()[-1]
    True
    """
    plugin_name = register_plugin(plugin, name=name)
    try:
        yield plugin_name
    finally:
        unregister_plugin(plugin_name)
        registry()
