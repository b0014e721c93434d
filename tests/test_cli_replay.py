"""``rtml replay``: files replayed into a store or a server as the Python replay does it, resumed
after a stop, refused with the reason when an option is wrong."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

import rtml
from rtml.cli import app
from rtml.testing.server import running_server

EVENTS = pd.DataFrame(
    {
        "id": range(30),
        "card": [f"c{i % 4}" for i in range(30)],
        "ts": [i * 37 % 600 for i in range(30)],
        "amount": [float(i % 7) for i in range(30)],
    }
)
LABELS = pd.DataFrame({"id": range(30), "fraud": [int(i % 5 == 0) for i in range(30)]})


@pytest.fixture
def files(tmp_path):
    events, labels = tmp_path / "events.parquet", tmp_path / "labels.csv"
    EVENTS.to_parquet(events, index=False)
    LABELS.to_csv(labels, index=False)
    return str(events), str(labels)


def _replay(files, *options: str) -> list[str]:
    events, labels = files
    return [events, "--into", "tx", "--timestamp", "ts", "--labels", labels, *options]


def _by_python() -> dict[str, pd.DataFrame]:
    """What the Python replay pushes in one uninterrupted run."""
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=EVENTS.iloc[:0])
    backend.create_dataset("labels", key="id", df=LABELS.iloc[:0])
    rtml.simulate.ReplaySimulator(
        EVENTS, "tx", timestamp="ts", labels=LABELS, labels_dataset="labels", label_delay="60s"
    ).run(backend, batch_size=4)
    return {name: backend.dataset(name).to_pandas() for name in ("tx", "labels")}


def test_a_replay_stopped_and_resumed_holds_what_one_python_run_pushes(files, tmp_path) -> None:
    store = str(tmp_path / "store")
    options = ["--label-delay", "60s", "--key", "id", "--batch-size", "4", "--path", store]
    first = CliRunner().invoke(
        app, ["replay", *_replay(files, *options, "--create", "--limit", "25")]
    )
    assert first.exit_code == 0, first.output
    assert "created dataset 'tx'" in first.output and "--resume" in first.output
    again = CliRunner().invoke(app, ["replay", *_replay(files, *options)])
    assert again.exit_code == 1 and "already" in again.output  # keys held: refused whole
    rest = CliRunner().invoke(app, ["replay", *_replay(files, *options, "--resume")])
    assert rest.exit_code == 0, rest.output
    want = _by_python()
    with rtml.connect("local", path=store) as backend:
        for name in ("tx", "labels"):
            pd.testing.assert_frame_equal(backend.dataset(name).to_pandas(), want[name])


def test_a_replay_into_a_server(files) -> None:
    with running_server(":memory:") as url:
        result = CliRunner().invoke(
            app, ["replay", *_replay(files, "--key", "id", "--create", "--url", url)]
        )
        assert result.exit_code == 0, result.output
        assert "pushed 30 to tx, 30 to labels" in result.output
        backend = rtml.connect(url)
        assert sorted(backend.dataset("tx").to_pandas()["id"]) == list(range(30))


@pytest.mark.parametrize(
    "options, reason",
    [
        (["--speed", "0"], "speed must be None or a number > 0"),
        (["--batch-size", "0"], "batch_size must be a whole number >= 1"),
        (["--order", "random"], "order must be 'exact' or 'batch'"),
        (["--timestamp", "time"], "no column 'time'"),
        (["--label-delay", "-5s"], "label_delay '-5s' is not a duration"),
        (["--duration", "2x"], "duration '2x' is not a duration"),
        (["--limit", "-1"], "limit must be None or a whole number >= 0"),
        ([], "needs --key"),  # --create without --key
    ],
)
def test_a_wrong_option_is_refused_with_its_reason_and_nothing_is_pushed(
    files, tmp_path, options, reason
) -> None:
    """Every option is checked before anything is written: no dataset is created either."""
    store = str(tmp_path / "store")
    create = ["--create"] if not options else ["--create", "--key", "id"]
    result = CliRunner().invoke(
        app, ["replay", *_replay(files, "--path", store, *create, *options)]
    )
    assert result.exit_code == 1 and reason in " ".join(result.output.split()), result.output
    with rtml.connect("local", path=store) as backend:
        assert backend.datasets() == []  # checked before --create made any


def inverse(amount: float) -> float:
    return 1.0 / amount


def test_with_dead_letters_refused_records_are_set_aside_and_a_resume_skips_them(
    files, tmp_path
) -> None:
    """Events with an amount of 0 make the feature set's UDF fail: with --on-error dead_letter
    they are set aside (said in the output) and the rest replayed; --resume counts them as
    pushed, so nothing is pushed twice."""
    store = str(tmp_path / "store")
    with rtml.connect("local", path=store) as backend:
        backend.create_dataset("tx", key="id", df=EVENTS.iloc[:0])
        backend.create_dataset("labels", key="id", df=LABELS.iloc[:0])
        backend.materialize(
            rtml.FeatureSet(
                name="f",
                dataset="tx",
                timestamp="ts",
                allowed_lateness="1h",
                features=[rtml.features.UDF("inv", fn=inverse, args=["amount"])],
            )
        )
    zero = EVENTS.loc[EVENTS["amount"] == 0, "id"].tolist()
    options = ["--label-delay", "60s", "--batch-size", "4", "--path", store]
    refused = CliRunner().invoke(app, ["replay", *_replay(files, *options)])
    assert refused.exit_code == 1 and "field 'inv'" in refused.output
    first = CliRunner().invoke(
        app, ["replay", *_replay(files, *options, "--on-error", "dead_letter", "--limit", "40")]
    )
    assert first.exit_code == 0, first.output
    rest = CliRunner().invoke(
        app, ["replay", *_replay(files, *options, "--on-error", "dead_letter", "--resume")]
    )
    assert rest.exit_code == 0, rest.output
    said = re.findall(
        r"set aside (\d+) record\(s\) of tx as dead letters", first.output + rest.output
    )
    assert sum(map(int, said)) == len(zero) > 0
    with rtml.connect("local", path=store) as backend:
        tx = backend.dataset("tx")
        assert sorted(tx.to_pandas()["id"]) == [i for i in range(30) if i not in zero]
        assert sorted(r["id"] for r in tx.dead_letters()["record"]) == zero
        assert len(backend.dataset("labels")) == 30
