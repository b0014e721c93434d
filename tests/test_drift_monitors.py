"""Continuous drift monitors on the local engine: fed at every push, equal to the on-demand
detectors over the same stream, kept across a restart, refused by name when wrong."""

from __future__ import annotations

import itertools
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.drift import Monitor
from rtml.testing.server import running_server

FEATURES = rtml.FeatureSet(
    name="f",
    dataset="tx",
    timestamp="ts",
    features=[rtml.features.Aggregate("avg_x_1h", column="x", op="avg", by="card", window="1h")],
)


def _stream(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    shift = rng.integers(n // 4, 3 * n // 4)
    x = np.r_[rng.normal(0, 1, shift), rng.normal(2.5, 1, n - shift)]
    x[rng.random(n) < 0.05] = np.nan  # some missing values, skipped by the detectors
    events = pd.DataFrame(
        {
            "id": np.arange(n),
            "card": rng.choice(["a", "b", "c"], n),
            "ts": 1_700_000_000 + np.arange(n) * 60,
            "x": x,
            "y": rng.normal(size=n) + np.nan_to_num(x) * np.r_[np.ones(shift), -np.ones(n - shift)],
            "kind": np.r_[
                rng.choice(["web", "shop", "atm"], shift, p=[0.6, 0.3, 0.1]),
                rng.choice(["web", "shop", "atm"], n - shift, p=[0.2, 0.3, 0.5]),
            ],
        }
    )
    events.loc[rng.random(n) < 0.05, "kind"] = None
    labels = pd.DataFrame({"id": np.arange(n), "label": (rng.random(n) < 0.3).astype(int)})
    return events, labels


def _monitors() -> list[Monitor]:
    return [
        Monitor("x", source="tx", fields=["x"], clock=8),
        Monitor("xy", source="tx", fields=["x", "y"], reference=60, clock=8),
        Monitor("feature", source="f", fields=["avg_x_1h"], delta=0.01),
        Monitor("scores", deployment="lr", clock=4),
        Monitor("kind", source="tx", fields=["kind"], categorical=True, **KIND),
        Monitor("kind_hours", source="tx", fields=["kind"], categorical=True, **HOURS),
    ]


KIND = {"reference": 80, "window": 60, "alpha": 1e-3, "clock": 5, "missing": True}
HOURS = {
    "reference": "2h",
    "window": "1h",
    "time": "ts",
    "alpha": 1e-3,
    "clock": 5,
}  # a record a minute


def _expected(backend) -> dict[str, tuple[list[int], int]]:
    """What the on-demand detectors find over everything stored: changes and records read."""
    tx, features = backend.dataset("tx").to_pandas(), backend.features("f")
    outputs = backend.deployment("lr").outputs()
    reports = {
        "x": rtml.drift.univariate(tx, "x", clock=8),
        "xy": rtml.drift.multivariate(tx, ["x", "y"], reference=60, clock=8),
        "feature": rtml.drift.univariate(features, "avg_x_1h", delta=0.01),
        "scores": rtml.drift.univariate(outputs, "score", clock=4),
        "kind": rtml.drift.categorical(tx, "kind", **KIND),
        "kind_hours": rtml.drift.categorical(tx, "kind", **HOURS),
    }
    sizes = {"x": len(tx), "xy": len(tx), "feature": len(features), "scores": len(outputs)}
    sizes["kind"] = sizes["kind_hours"] = len(tx)
    return {name: (r.drifts, sizes[name]) for name, r in reports.items()}


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(300, 1200),
    st.lists(st.integers(1, 400), min_size=1, max_size=6),
    st.integers(0, 6),
    st.integers(0, 7),
)
def test_a_monitor_fed_push_by_push_equals_the_detector_over_the_whole_stream(
    seed, n, cuts, watch_after, reopen_after
):
    events, labels = _stream(seed, n)
    bounds = sorted({0, n, *(c * n // 400 for c in cuts)})
    pieces = [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
    with tempfile.TemporaryDirectory() as path:
        backend = rtml.connect("local", path=path)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
        lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
        backend.materialize(FEATURES)
        backend.deploy(
            "lr",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("f", numerical=["avg_x_1h"]),
            labels=rtml.Labels("labels", field="label"),
        )
        for i, piece in enumerate([*pieces, None]):
            if i == watch_after or (piece is None and not backend.monitors()):
                for monitor in _monitors():
                    backend.watch(monitor)
            if i == reopen_after:  # a restart: state from the checkpoint and the log
                backend.close()
                backend = rtml.connect("local", path=path)
                tx, lb = backend.dataset("tx"), backend.dataset("labels")
            if piece is None:
                break
            lo, hi = piece
            lb.push(labels.iloc[lo:hi])
            tx.push(events.iloc[lo:hi])
        expected = _expected(backend)
        for name, (drifts, records) in expected.items():
            monitor = backend.monitor(name)
            assert monitor.changes()["row"].tolist() == drifts, name
            status = monitor.status()
            assert (status["records"], status["changes"]) == (records, len(drifts)), name
        backend.close()


def test_status_waits_for_the_reference_then_scores():
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "a": "float", "b": "float"})
    monitor = backend.watch(Monitor("ab", source="tx", fields=["a", "b"], reference=100))
    rng = np.random.default_rng(0)
    tx.push([{"id": i, "a": rng.normal(), "b": rng.normal()} for i in range(60)])
    assert monitor.status()["waiting"] == 60 and monitor.status()["scored"] == 0
    assert monitor.status()["mean"] is None
    tx.push([{"id": i, "a": rng.normal(), "b": rng.normal()} for i in range(60, 130)])
    status = monitor.status()
    assert (status["waiting"], status["scored"], status["details"]["components"]) == (0, 130, 1)


def test_bad_monitors_are_refused_by_name_and_nothing_is_logged():
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    with pytest.raises(
        rtml.SpecError, match=r"monitor 'm': 'tx' has no field 'z' \(fields: id, x\)"
    ):
        backend.watch(Monitor("m", source="tx", fields=["z"]))
    with pytest.raises(rtml.NotFound, match="no dataset named 'nope'"):
        backend.watch(Monitor("m", source="nope", fields=["x"]))
    with pytest.raises(rtml.NotFound, match="no deployment named 'lr'"):
        backend.watch(Monitor("m", deployment="lr"))
    with pytest.raises(rtml.SpecError, match="either source"):
        Monitor("m", source="tx", deployment="lr")
    # Settings the detector would not read are refused, not ignored.
    with pytest.raises(rtml.SpecError, match=r"alpha, window: not read by this monitor \(tx.x\)"):
        Monitor("m", source="tx", fields=["x"], window=50, alpha=0.01)
    with pytest.raises(rtml.SpecError, match="delta: not read by a categorical monitor"):
        Monitor("m", source="tx", fields=["x"], categorical=True, delta=0.1)
    with pytest.raises(rtml.SpecError, match="a categorical monitor watches one field"):
        Monitor("m", source="tx", fields=["x", "id"], categorical=True)
    with pytest.raises(rtml.SpecError, match="window '1d' is a duration: give time"):
        Monitor("m", source="tx", fields=["x"], categorical=True, window="1d")
    with pytest.raises(rtml.SpecError, match="reference: a duration only for a categorical"):
        Monitor("m", source="tx", fields=["x", "id"], reference="1d")
    with pytest.raises(rtml.SpecError, match="time: not read by this monitor"):
        Monitor("m", source="tx", fields=["x"], time="id")
    with pytest.raises(rtml.SpecError, match="'tx' has no field 'when'"):
        backend.watch(Monitor("m", source="tx", fields=["x"], categorical=True, time="when"))
    backend.watch(Monitor("m", source="tx", fields=["x"]))
    with pytest.raises(rtml.SpecError, match="monitor 'm' already exists"):
        backend.watch(Monitor("m", source="tx", fields=["x"]))
    assert backend.monitors() == ["m"]


def test_a_deleted_monitor_is_gone_after_a_restart(tmp_path):
    path = str(tmp_path / "store")
    with rtml.connect("local", path=path) as backend:
        tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        backend.watch(Monitor("m", source="tx", fields=["x"]))
        tx.push([{"id": i, "x": float(i >= 300)} for i in range(600)])
        assert len(backend.monitor("m").changes()) >= 1
        backend.monitor("m").delete()
        assert backend.monitors() == []
    with rtml.connect("local", path=path) as backend:
        assert backend.monitors() == []
        backend.watch(Monitor("m", source="tx", fields=["x"], delta=0.1))  # the name is free
        assert backend.monitor("m").status()["records"] == 600


@pytest.mark.parametrize("where", ["local", "server"])
def test_a_watched_deployment_is_not_deleted_under_its_monitor(where):
    """A monitor follows the deployment's name: deleted under it, the monitor would go on with
    a later deployment's scores after the old one's. Refused, naming the monitor; deleted once
    the monitor is."""

    def check(backend):
        tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        model = backend.deploy(
            "lr",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
        backend.watch(Monitor("scores", deployment="lr"))
        tx.push([{"id": i, "x": float(i % 3)} for i in range(50)])
        with pytest.raises(rtml.SpecError, match=r"'lr' is watched by monitor.*'scores'"):
            model.delete()
        assert backend.deployments() == ["lr"] and len(model.outputs()) == 50
        backend.monitor("scores").delete()
        model.delete()
        assert backend.deployments() == []

    if where == "local":
        check(rtml.connect("local", path=":memory:"))
    else:
        with running_server(":memory:") as url, rtml.connect(url) as client:
            check(client)
