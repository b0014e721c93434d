"""The synthetic fraud data and the fraud example app, run as a newcomer would (separate
processes, one store)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtml.simulate import SyntheticFraudSimulator
from rtml.testing.server import running_server

EXAMPLE = Path(__file__).parents[1] / "examples" / "fraud"


def test_synthetic_fraud_follows_its_description() -> None:
    sim = SyntheticFraudSimulator(n_customers=500, n_terminals=1000, days=30, drift_day=20, seed=3)
    events, labels = sim.generate()
    assert events["transactionID"].is_unique and events["timestamp"].is_monotonic_increasing
    assert labels["transactionID"].tolist() == events["transactionID"].tolist()
    rate = labels["is_fraud"].mean()
    assert 0.002 < rate < 0.1  # rare (compromised terminals weigh more on a small grid)
    amounts = events["transactionAmount"].to_numpy()
    scenario = labels["scenario"].to_numpy()
    assert np.all(labels["is_fraud"].to_numpy() == (scenario > 0))
    assert np.all(scenario[amounts > 220] > 0)  # scenario 1 (or a later one) above 220
    assert {1, 2, 3, 4} <= set(scenario.tolist())
    day = (events["timestamp"].to_numpy() - sim.start) // 86400
    assert day[scenario == 4].min() >= 20  # the drift pattern appears only from its day
    drift = events[scenario == 4]
    assert (drift["isProxyIP"] == 1).all() and (drift["localHour"] < 5).all()
    again, _ = SyntheticFraudSimulator(
        n_customers=500, n_terminals=1000, days=30, drift_day=20, seed=3
    ).generate()
    assert again.equals(events)


@settings(max_examples=40, deadline=None)
@given(
    customers=st.integers(1, 30),
    terminals=st.integers(1, 30),
    days=st.integers(1, 5),
    radius=st.floats(0.1, 150),
    stolen=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    drift_day=st.none() | st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_settings_generate_a_stream(
    customers, terminals, days, radius, stolen, drift_day, seed
) -> None:
    """Down to one customer, one terminal and one day, with as many compromised as there are."""
    events, labels = SyntheticFraudSimulator(
        n_customers=customers,
        n_terminals=terminals,
        days=days,
        radius=radius,
        terminals_compromised_per_day=min(stolen[0], terminals),
        customers_compromised_per_day=min(stolen[1], customers),
        drift_day=drift_day if drift_day is None or drift_day < days else days - 1,
        seed=seed,
    ).generate()
    assert events["transactionID"].is_unique and events["timestamp"].is_monotonic_increasing
    assert labels["transactionID"].tolist() == events["transactionID"].tolist()


@pytest.mark.parametrize(
    ("settings_", "named"),
    [
        ({"n_customers": 0}, "n_customers must be a whole number >= 1, got 0"),
        ({"n_terminals": 2.5}, "n_terminals must be a whole number >= 1, got 2.5"),
        ({"days": 0}, "days must be a whole number >= 1"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"radius": 0}, "radius must be > 0"),
        ({"drift_share": 1.5}, "drift_share must be between 0 and 1"),
        ({"days": 10, "drift_day": 10}, "drift_day 10 is not one of the 10 days simulated"),
        ({"n_terminals": 3, "terminals_compromised_per_day": 4}, "must not exceed n_terminals"),
        ({"n_customers": 3, "customers_compromised_per_day": 4}, "must not exceed n_customers"),
    ],
)
def test_settings_no_stream_can_have_are_refused_by_name(settings_, named) -> None:
    with pytest.raises(ValueError, match=named):
        SyntheticFraudSimulator(**settings_)


@pytest.mark.parametrize("where", ["local", "server"])
def test_the_fraud_example_step_by_step(tmp_path, where) -> None:
    """Each step a separate process, on the embedded engine or (unchanged) through a server."""
    with contextlib.ExitStack() as stack:
        if where == "server":
            url = stack.enter_context(running_server(str(tmp_path / "store"), api_key="k"))
            location = {"RTML_URL": url, "RTML_API_KEY": "k"}
        else:
            # The live step in parts: each run stops after LIVE_LIMIT records, the next resumes.
            location = {"RTML_HOME": str(tmp_path / "store"), "LIVE_LIMIT": "3000"}
        run_the_example(tmp_path, location)


def run_the_example(tmp_path, location: dict[str, str]) -> None:
    env = {
        **os.environ,
        **location,
        "CUSTOMERS": "400",
        "TERMINALS": "800",
        "DAYS": "24",
        "HISTORY_DAYS": "12",
        "DRIFT_DAY": "16",
        "BATCH_SIZE": "500",
        "METRIC_WINDOW": "1000",
        "CHART": str(tmp_path / "auc.html"),
    }
    outputs: dict[str, str] = {}
    steps = ["feature-pipeline", "model", "live-data", "compare"]
    while steps:
        step = steps.pop(0)
        result = subprocess.run(
            ["make", "-s", step, f"PYTHON={sys.executable}"],
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        outputs[step] = outputs.get(step, "") + result.stdout
        if "run `make live-data` again" in result.stdout:
            steps.insert(0, step)
    assert "pushed" in outputs["live-data"]
    if "LIVE_LIMIT" in location:
        assert outputs["live-data"].count("resuming after") >= 1
    table = outputs["compare"]
    assert "LogisticRegression_frozen" in table and (tmp_path / "auc.html").exists()
    line = next(row for row in table.splitlines() if row.startswith("LogisticRegression "))
    last_auc, outputs_count = float(line.split()[1]), int(line.split()[-1])
    assert outputs_count > 1000 and last_auc > 0.6
    # the drift table: a row per watched field and per model's score
    drift = {
        r.rsplit(maxsplit=4)[0]: r.split()[-4:]
        for r in table.splitlines()
        if r.startswith(("transactions.", "score of "))
    }
    assert {"transactions.isProxyIP", "score of LogisticRegression"} <= set(drift)
    assert int(drift["score of LogisticRegression"][0]) == outputs_count
    # the docs' charts, drawn from what compare saved
    charts = [
        tmp_path / "auc.csv",
        tmp_path / "auc.svg",
        tmp_path / "drift.csv",
        tmp_path / "d.svg",
    ]
    drawn = subprocess.run(
        [sys.executable, "drift_chart.py", *map(str, charts)],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drawn.returncode == 0, drawn.stderr
    changes = int(drift["transactions.digitalItemCount"][1])
    assert charts[3].read_text().count('stroke="#d62728"') == changes


def test_replay_limits_resumes_and_paces() -> None:
    import time

    import pandas as pd

    import rtml

    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
    backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    events = pd.DataFrame({"id": range(100), "ts": range(0, 1000, 10)})
    labels = pd.DataFrame({"id": range(100), "y": [i % 2 for i in range(100)]})
    sim = rtml.simulate.ReplaySimulator(
        events, "tx", timestamp="ts", labels=labels, labels_dataset="labels", label_delay="5s"
    )
    first = sim.run(backend, batch_size=7, limit=50)
    assert first.position == 50 and not first.finished
    timed = sim.run(backend, batch_size=10, start=first.position, duration="100s", speed=400)
    assert timed.position > first.position
    rest = sim.run(backend, batch_size=9, start=timed.position)
    assert rest.finished
    assert len(backend.dataset("tx")) == 100 and len(backend.dataset("labels")) == 100
    started = time.monotonic()
    backend2 = rtml.connect("local", path=":memory:")
    backend2.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
    backend2.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    sim.run(backend2, batch_size=20, speed=2000)  # ~1,000 s of stream at 2,000x: about 0.5 s
    assert time.monotonic() - started >= 0.4


@settings(max_examples=15)
@given(
    batch=st.integers(1, 30),
    stops=st.lists(st.integers(1, 80), min_size=1, max_size=4),
    delay=st.sampled_from(["0s", "5s", "300s"]),
)
def test_a_replay_stopped_anywhere_resumes_from_what_is_stored(batch, stops, delay) -> None:
    import pandas as pd

    import rtml

    events = pd.DataFrame({"id": range(60), "ts": [i * 7 % 50 for i in range(60)]})
    labels = pd.DataFrame({"id": range(60), "y": [i % 3 for i in range(60)]})

    def fresh() -> rtml.Backend:
        backend = rtml.connect("local", path=":memory:")
        backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
        backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        return backend

    sim = rtml.simulate.ReplaySimulator(
        events, "tx", timestamp="ts", labels=labels, labels_dataset="labels", label_delay=delay
    )
    whole = fresh()
    sim.run(whole, batch_size=batch)
    interrupted = fresh()
    for stop in [*stops, None]:  # each run stops after `stop` records, as a crash would
        held = {name: len(interrupted.dataset(name)) for name in ("tx", "labels")}
        sim.run(interrupted, batch_size=batch, already=held, limit=stop)
    for name in ("tx", "labels"):
        pd.testing.assert_frame_equal(
            interrupted.dataset(name).to_pandas(), whole.dataset(name).to_pandas()
        )


def test_replay_reads_datetimes_of_any_unit() -> None:
    import pandas as pd

    import rtml

    times = pd.Series(pd.date_range("2024-01-01", periods=6, freq="D")).astype("datetime64[us]")
    events = pd.DataFrame({"id": range(6), "ts": times})
    labels = pd.DataFrame({"id": range(6), "y": [0, 1, 0, 1, 0, 1]})
    sim = rtml.simulate.ReplaySimulator(
        events, "tx", timestamp="ts", labels=labels, labels_dataset="labels", label_delay="2d"
    )
    stream = sim._stream(_backend_with(events, labels))
    order = [
        ("e" if k == 0 else "l") + str(r)
        for k, r in zip(stream["kind"], stream["row"], strict=True)
    ]
    # the label of day 0 arrives with day 2's event, after it
    assert order[:5] == ["e0", "e1", "e2", "l0", "e3"]


def _backend_with(events, labels):
    import rtml

    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=events.iloc[:0])
    backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    return backend


def test_per_record_label_delays() -> None:
    import pandas as pd

    import rtml

    events = pd.DataFrame({"id": range(4), "ts": [0, 10, 20, 30]})
    labels = pd.DataFrame({"id": range(4), "y": [0, 1, 0, 1], "wait": [25, 1, 100, 0]})
    sim = rtml.simulate.ReplaySimulator(
        events, "tx", timestamp="ts", labels=labels, labels_dataset="labels", label_delay="wait"
    )
    stream = sim._stream(_backend_with(events, labels[["id", "y"]]))
    order = [
        ("e" if k == 0 else "l") + str(r)
        for k, r in zip(stream["kind"], stream["row"], strict=True)
    ]
    assert order == ["e0", "e1", "l1", "e2", "l0", "e3", "l3", "l2"]
    timedeltas = rtml.simulate.ReplaySimulator(
        events,
        "tx",
        timestamp="ts",
        labels=labels,
        labels_dataset="labels",
        label_delay=pd.to_timedelta(labels["wait"], unit="s"),
    )
    pd.testing.assert_frame_equal(
        timedeltas._stream(_backend_with(events, labels[["id", "y"]])), stream
    )


def test_the_fraud_example_runs_unchanged_on_turboml(tmp_path, monkeypatch, capsys) -> None:
    """With TurboML credentials set, the same steps run on the TurboML backend (here on the
    SDK double, in one process: the double's 'server' lives in this process)."""
    from tests.turboml import double

    double.reset()
    settings = {
        "TURBOML_BACKEND_URL": "https://turboml.invalid",
        "TURBOML_API_KEY": "k",
        "RTML_TURBOML_SDK": "tests.turboml.double",
        "RTML_HOME": str(tmp_path / "home"),
        "CUSTOMERS": "300",
        "TERMINALS": "600",
        "DAYS": "16",
        "HISTORY_DAYS": "10",
        "DRIFT_DAY": "12",
        "BATCH_SIZE": "2000",
        "METRIC_WINDOW": "500",
        "CHART": str(tmp_path / "auc.html"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for module in ("config", "features", "feature_pipeline", "model", "live_data", "compare"):
        sys.modules.pop(module, None)
    import compare
    import feature_pipeline
    import live_data
    import model

    for step in (feature_pipeline, model, live_data, compare):
        step.main()
    out = capsys.readouterr().out
    assert "deployments: HoeffdingTreeClassifier, GaussianNB, HoeffdingTreeClassifier_frozen" in out
    rows = {row.split()[0]: row.split() for row in out.splitlines() if row.startswith(("H", "G"))}
    assert all(int(rows[m][-1]) > 1000 for m in ("GaussianNB", "HoeffdingTreeClassifier"))
    assert float(rows["GaussianNB"][1]) > 0.5  # the double's models learn
    for module in ("config", "features", "feature_pipeline", "model", "live_data", "compare"):
        sys.modules.pop(module, None)
