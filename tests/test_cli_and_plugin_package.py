"""The ``rtml`` command, and the example third-party package installed with pip."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import rtml
from rtml.cli import app


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rtml.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "plugins" in result.stdout and "version" in result.stdout


def test_plugins_command_shows_who_registers_what() -> None:
    result = CliRunner().invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    assert "sql" in found["rtml.plugins.builtin_features"]["features"]
    assert found["geo"] == {"features": ["haversine"], "models": ["BaseRateClassifier"]}


def test_plugins_command_reports_a_broken_plugin(monkeypatch) -> None:
    monkeypatch.setenv("RTML_LOAD_PLUGINS", "not_installed_anywhere")
    rtml.plugins.reset()
    try:
        result = CliRunner().invoke(app, ["plugins"])
    finally:
        monkeypatch.delenv("RTML_LOAD_PLUGINS")
        rtml.plugins.reset()
    assert result.exit_code == 1 and "not_installed_anywhere" in result.stdout


def test_installed_plugin_kinds_work_through_the_public_api(backend) -> None:
    rng = np.random.default_rng(3)
    n = 200
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "ts": np.arange(n),
            "lat": rng.uniform(-60, 60, n),
            "lon": rng.uniform(-180, 180, n),
            "home_lat": 48.85,
            "home_lon": 2.35,
        }
    )
    backend.create_dataset("tx", key="id", df=df)
    labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    fs = rtml.FeatureSet.from_dict(
        {
            "name": "geo",
            "dataset": "tx",
            "timestamp": "ts",
            "features": [
                {
                    "kind": "haversine",
                    "name": "km",
                    "lat1": "home_lat",
                    "lon1": "home_lon",
                    "lat2": "lat",
                    "lon2": "lon",
                }
            ],
        }
    )
    backend.materialize(fs)
    km = backend.features("geo")["km"].to_numpy()
    assert np.all((km >= 0) & (km <= 20_016))  # at most half the Earth's circumference
    spec_cls = rtml.plugins.registry().models["BaseRateClassifier"].obj
    model = backend.deploy(
        "base",
        spec_cls(window=10),
        inputs=rtml.Inputs("geo", numerical=["km"]),
        labels=rtml.Labels("labels", field="y"),
    )
    labels.push([{"id": i, "y": int(i % 4 == 0)} for i in range(n, n + 8)])
    backend.dataset("tx").push(df.assign(id=df["id"] + n, ts=df["ts"] + n).iloc[:8])
    # Each event is scored, then learns its (already arrived) label: the 8th sees 7 labels.
    assert model.outputs()["score"].tolist() == [0.0, 1.0, 0.5, 1 / 3, 0.25, 0.4, 1 / 3, 2 / 7]


def test_status_and_compare_on_a_store(tmp_path) -> None:
    store = str(tmp_path / "store")
    backend = rtml.connect("local", path=store)
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    for name, spec in (("nb", rtml.models.GaussianNB()), ("lr", rtml.models.LogisticRegression())):
        backend.deploy(
            name,
            spec,
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
    lb.push(pd.DataFrame({"id": range(600), "y": (x > 0.5).astype(int)}))
    tx.push(pd.DataFrame({"id": range(600), "x": x}))
    backend.close()
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--path", store])
    assert status.exit_code == 0 and "GaussianNB" in status.stdout
    # 600 records in each dataset, 600 outputs and 600 labels learned by each deployment.
    assert status.stdout.count("600") == 6, status.stdout
    chart = tmp_path / "auc.html"
    result = runner.invoke(
        app, ["compare", "--path", store, "--window", "200", "--out", str(chart)]
    )
    assert result.exit_code == 0, result.stdout
    assert "nb" in result.stdout and "lr" in result.stdout and chart.exists()
    assert "plotly" in chart.read_text()[:5000].lower()
    # A name given twice is compared once; a window below 1 is a usage error, not a traceback.
    twice = runner.invoke(app, ["compare", "nb", "nb", "--path", store, "--out", str(chart)])
    assert twice.exit_code == 0 and twice.stdout.count("│ nb") == 1, twice.stdout
    empty = runner.invoke(app, ["compare", "--path", store, "--window", "0"])
    assert empty.exit_code == 2 and "--window" in empty.output
    # Without kaleido (not a dependency), a PNG is refused with what to do instead.
    if importlib.util.find_spec("kaleido") is None:
        png = runner.invoke(app, ["compare", "--path", store, "--out", str(tmp_path / "a.png")])
        assert png.exit_code == 0 and "PNG export needs kaleido" in png.stdout


def test_reading_commands_refuse_a_path_with_no_store(tmp_path, monkeypatch) -> None:
    """A mistyped path is an error, not an empty store created there and shown empty."""
    runner = CliRunner()
    missing = tmp_path / "typo"
    for command in (["status"], ["compare"], ["drift", "m"]):
        result = runner.invoke(app, [*command, "--path", str(missing)])
        assert result.exit_code == 1 and "no rtml store at" in result.stdout, result.stdout
    monkeypatch.setenv("RTML_HOME", str(tmp_path / "home"))
    assert runner.invoke(app, ["status"]).exit_code == 1
    assert not missing.exists() and not (tmp_path / "home").exists()


def test_drift_of_scores_and_of_fields_on_a_store(tmp_path) -> None:
    store = str(tmp_path / "store")
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(size=1500), rng.normal(3, 1, size=1500)]  # shifts at record 1500
    with rtml.connect("local", path=store) as backend:
        schema = {"id": "int", "x": "float", "channel": "string"}
        tx = backend.create_dataset("tx", key="id", schema=schema)
        lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        backend.deploy(
            "lr",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
        lb.push(pd.DataFrame({"id": range(3000), "y": (rng.random(3000) < 0.3).astype(int)}))
        channel = np.r_[rng.choice(["web", "pos"], 1500), rng.choice(["web", "pos", "app"], 1500)]
        tx.push(pd.DataFrame({"id": range(3000), "x": x, "channel": channel}))
        expected = rtml.drift.univariate(tx.to_pandas(), "x").drifts
        frame = tx.to_pandas()
        shares = rtml.drift.categorical(frame, "channel").drifts
        scores = backend.deployment("lr").drift().drifts
        backend.watch(rtml.drift.Monitor(name="x_drift", source="tx", fields=["x"]))
        fs = rtml.FeatureSet(
            name="f", dataset="tx", timestamp="id", features=[rtml.features.SQL("x2", '"x" * 2')]
        )
        backend.materialize(fs)
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--path", store], terminal_width=200)
    row = next(line for line in status.stdout.splitlines() if "x_drift" in line)
    assert "drift monitor" in row and f"3,000 ({len(expected)} changes)" in row
    chart = tmp_path / "x.html"
    result = runner.invoke(
        app,
        ["drift", "tx", "--field", "x", "--path", store, "--chart", str(chart)],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.stdout
    row = next(line for line in result.stdout.splitlines() if "tx.x" in line)
    assert f"{expected[0]:,}" in row and 1500 <= expected[0] < 1700 and chart.exists()
    result = runner.invoke(app, ["drift", "--path", store], terminal_width=200)
    row = next(line for line in result.stdout.splitlines() if "score of lr" in line)
    assert result.exit_code == 0 and f"{len(scores):,}" in row
    result = runner.invoke(
        app, ["drift", "tx", "--field", "channel", "--categorical", "--path", store]
    )
    row = next(line for line in result.stdout.splitlines() if "tx.channel" in line)
    assert result.exit_code == 0 and "chi-square" in result.stdout
    assert shares and 1500 <= shares[0] < 2500 and f"{shares[0]:,}" in row
    # A feature set's stream holds its dataset's fields too, as a monitor of it reads them.
    result = runner.invoke(
        app, ["drift", "f", "--field", "x", "--field", "x2", "--path", store], terminal_width=200
    )
    assert result.exit_code == 0, result.stdout
    for field in ("f.x ", "f.x2 "):
        row = next(line for line in result.stdout.splitlines() if field in line)
        assert f"{expected[0]:,}" in row
    missing = runner.invoke(
        app, ["drift", "tx", "--field", "channel", "--categorical", "--missing", "--path", store]
    )
    assert missing.exit_code == 0 and "tx.channel" in missing.stdout
    refused = runner.invoke(app, ["drift", "tx", "--field", "x", "--missing", "--path", store])
    assert refused.exit_code == 1 and "add --categorical" in refused.stdout
    by_time = ["--categorical", "--reference", "500", "--window", "250s", "--time", "id"]
    result = runner.invoke(
        app, ["drift", "tx", "--field", "channel", *by_time, "--path", store], terminal_width=200
    )
    timed = rtml.drift.categorical(frame, "channel", reference=500, window="250s", time="id")
    row = next(line for line in result.stdout.splitlines() if "tx.channel" in line)
    assert result.exit_code == 0 and timed.drifts and f"{timed.drifts[0]:,}" in row
    refused = runner.invoke(app, ["drift", "--categorical", "--path", store])
    assert refused.exit_code == 1 and "name them with --field" in refused.stdout
    refused = runner.invoke(app, ["drift", "nowhere", "--field", "x", "--path", store])
    assert refused.exit_code == 1 and "no dataset or feature set named 'nowhere'" in refused.stdout
    refused = runner.invoke(app, ["drift", "tx", "--field", "x", "--multivariate", "--path", store])
    assert refused.exit_code == 1 and "two or more distinct fields" in refused.stdout
