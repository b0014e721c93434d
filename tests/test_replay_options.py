"""A replay refuses options and inputs it cannot honour before it pushes anything, naming
them: a replay into a real store that ignored a misspelt ``limit`` would push all of history.
It reads files through data sources as it reads DataFrames."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.simulate import ReplaySimulator, SyntheticFraudSimulator

EVENTS = pd.DataFrame({"id": range(20), "ts": range(0, 200, 10)})
LABELS = pd.DataFrame({"id": range(20), "y": [i % 2 for i in range(20)]})

BAD_OPTIONS = [  # (option, value, what the error says)
    ("batch_size", 0, "batch_size must be a whole number >= 1"),
    ("batch_size", 2.5, "batch_size must be a whole number >= 1"),
    ("batch_size", True, "batch_size must be a whole number >= 1"),
    ("start", -1, "start must be a position from 0 to 40"),
    ("start", 41, "start must be a position from 0 to 40"),
    ("limit", -3, "limit must be None or a whole number >= 0"),
    ("limit", "10", "limit must be None or a whole number >= 0"),
    ("speed", 0, "speed must be None or a number > 0"),
    ("speed", -2.0, "speed must be None or a number > 0"),
    ("duration", "two days", "two days"),
    ("already", {"txs": 3}, "already names 'txs', which this replay does not push to"),
    ("already", {"tx": -1}, "already['tx'] must be a whole number >= 0"),
    ("on_error", "skip", "on_error must be 'raise' or 'dead_letter'"),
]


def _store(*names: str) -> rtml.Backend:
    backend = rtml.connect("local", path=":memory:")
    schemas = {"tx": {"id": "int", "ts": "int"}, "labels": {"id": "int", "y": "int"}}
    for name in names:
        backend.create_dataset(name, key="id", schema=schemas[name])
    return backend


def _replay() -> ReplaySimulator:
    return ReplaySimulator(
        EVENTS, "tx", timestamp="ts", labels=LABELS, labels_dataset="labels", label_delay="15s"
    )


@settings(max_examples=30, deadline=None)
@given(
    bad=st.sampled_from(BAD_OPTIONS),
    good=st.dictionaries(
        st.sampled_from(["batch_size", "limit", "speed"]),
        st.integers(1, 50),
        max_size=2,
    ),
)
def test_a_bad_option_is_refused_by_name_and_nothing_is_pushed(bad, good) -> None:
    option, value, message = bad
    backend = _store("tx", "labels")
    options = {**{k: v * 1000 if k == "speed" else v for k, v in good.items()}, option: value}
    with pytest.raises(ValueError) as refused:
        _replay().run(backend, **options)
    assert message in str(refused.value)
    assert len(backend.dataset("tx")) == 0 and len(backend.dataset("labels")) == 0


@pytest.mark.parametrize("simulator", ["replay", "synthetic"])
def test_a_misspelt_option_is_an_error_not_ignored(simulator) -> None:
    backend = _store("tx", "labels")
    sim = _replay() if simulator == "replay" else SyntheticFraudSimulator(days=2)
    with pytest.raises(TypeError, match="limt"):
        sim.run(backend, limt=5)
    assert len(backend.dataset("tx")) == 0


def test_a_missing_labels_dataset_fails_before_any_event_is_pushed() -> None:
    backend = _store("tx")  # no "labels" dataset
    with pytest.raises(rtml.errors.NotFound, match="'labels'"):
        _replay().run(backend)
    assert len(backend.dataset("tx")) == 0


@given(st.sets(st.integers(0, 19), min_size=1), st.sampled_from(["float", "datetime"]))
def test_events_without_a_time_are_refused_by_row(rows, kind) -> None:
    """An event without a time cannot be placed in a replay: refused by row, before any push
    (it used to be cast to a meaningless time, with numpy's warning)."""
    events = EVENTS.astype({"ts": "float64"})
    if kind == "datetime":
        events["ts"] = pd.to_datetime(events["ts"], unit="s")
    events.loc[sorted(rows), "ts"] = None
    shown = ", ".join(map(str, sorted(rows)[:10]))
    with pytest.raises(ValueError, match=f"the events' time 'ts' is missing at row\\(s\\) {shown}"):
        ReplaySimulator(events, "tx", timestamp="ts")


def test_missing_columns_are_named() -> None:
    with pytest.raises(
        ValueError, match=r"the events have no column 'time' \(columns: \['id', 'ts'\]\)"
    ):
        ReplaySimulator(EVENTS, "tx", timestamp="time")
    sim = ReplaySimulator(
        EVENTS,
        "tx",
        timestamp="ts",
        labels=LABELS.rename(columns={"id": "key"}),
        labels_dataset="labels",
    )
    backend = _store("tx", "labels")
    with pytest.raises(ValueError, match="replay into 'labels': the labels have no column 'id'"):
        sim.run(backend)
    assert len(backend.dataset("tx")) == 0


def test_good_options_still_replay_everything_in_parts() -> None:
    backend = _store("tx", "labels")
    first = _replay().run(backend, batch_size=3, limit=25)
    # numpy numbers are numbers too (a value read from a config table, say)
    rest = _replay().run(
        backend, batch_size=np.int64(4), start=first.position, speed=np.int64(10_000)
    )
    assert (first.position, rest.finished) == (25, True)
    assert len(backend.dataset("tx")) == 20 and len(backend.dataset("labels")) == 20


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_replay_from_files_pushes_what_a_replay_from_frames_pushes(tmp_path, suffix) -> None:
    paths = {name: tmp_path / f"{name}.{suffix}" for name in ("events", "labels")}
    for name, frame in (("events", EVENTS.sample(frac=1, random_state=0)), ("labels", LABELS)):
        getattr(frame, "to_csv" if suffix == "csv" else "to_parquet")(paths[name], index=False)
    from_files = _store("tx", "labels")
    ReplaySimulator(
        rtml.sources.FileSource(paths["events"]),
        "tx",
        timestamp="ts",
        labels=rtml.sources.FileSource(paths["labels"]),
        labels_dataset="labels",
        label_delay="15s",
    ).run(from_files, batch_size=4)
    from_frames = _store("tx", "labels")
    _replay().run(from_frames, batch_size=4)
    for name in ("tx", "labels"):
        pd.testing.assert_frame_equal(
            from_files.dataset(name).to_pandas(), from_frames.dataset(name).to_pandas()
        )


def test_events_of_another_type_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match="the events must be a pandas DataFrame or a DataSource"):
        ReplaySimulator(EVENTS.to_dict("records"), "tx", timestamp="ts")


def test_a_column_of_delays_times_the_labels_and_is_pushed_only_where_it_is_a_field() -> None:
    """Naming a column of the labels as their delays used to push that column too: the labels
    dataset refused it as an unknown column, on the first labels push."""
    waits = LABELS.assign(wait=[(i * 7) % 40 for i in range(20)])
    replay = ReplaySimulator(
        EVENTS, "tx", timestamp="ts", labels=waits, labels_dataset="labels", label_delay="wait"
    )
    backend = _store("tx", "labels")
    assert replay.run(backend, batch_size=3).pushed == {"tx": 20, "labels": 20}
    stored = backend.dataset("labels").to_pandas()
    assert list(stored.columns) == ["id", "y"]
    arrival = sorted(range(20), key=lambda i: (10 * i + waits["wait"][i], i))
    assert stored["id"].tolist() == arrival  # each label at its event's time plus its wait
    kept = rtml.connect("local", path=":memory:")
    kept.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
    kept.create_dataset("labels", key="id", schema={"id": "int", "y": "int", "wait": "int"})
    replay.run(kept)
    assert kept.dataset("labels").to_pandas()["wait"].tolist() == [
        waits["wait"][i] for i in arrival
    ]


@pytest.mark.parametrize("wait", [np.nan, -1.0, np.inf, "soon"])
def test_a_label_delay_that_is_not_a_wait_is_refused_by_row(wait) -> None:
    waits = LABELS.assign(wait=[wait if i == 4 else 5.0 for i in range(20)])
    with pytest.raises(ValueError, match=r"label delay at row\(s\) 4 is"):
        ReplaySimulator(
            EVENTS, "tx", timestamp="ts", labels=waits, labels_dataset="labels", label_delay="wait"
        )


@pytest.mark.parametrize("which", ["events", "labels"])
def test_a_key_given_twice_is_refused_before_anything_is_pushed(which) -> None:
    events, labels = EVENTS.copy(), LABELS.copy()
    frame = events if which == "events" else labels
    frame.loc[7, "id"] = 3
    replay = ReplaySimulator(
        events, "tx", timestamp="ts", labels=labels, labels_dataset="labels", label_delay="15s"
    )
    backend = _store("tx", "labels")
    with pytest.raises(ValueError, match=r"key 'id' repeats at row\(s\) 7 \(3 is at row 3 too\)"):
        replay.run(backend)
    assert len(backend.dataset("tx")) == 0 and len(backend.dataset("labels")) == 0


@pytest.mark.parametrize("when", [np.inf, 1.7e12, -1e300])
def test_an_event_time_it_cannot_place_is_refused_by_row(when) -> None:
    events = EVENTS.astype({"ts": "float64"})
    events.loc[5, "ts"] = when
    with pytest.raises(ValueError, match=r"time 'ts' cannot be placed at row\(s\) 5"):
        ReplaySimulator(events, "tx", timestamp="ts")


def _messy(bad: set[int]) -> pd.DataFrame:
    """EVENTS with an amount, text where it is not a number at rows ``bad``."""
    amounts = pd.Series([f"n/a {i}" if i in bad else float(i) for i in range(20)], dtype=object)
    return EVENTS.assign(amount=amounts)


def _messy_store() -> rtml.Backend:
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int", "amount": "float"})
    backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    return backend


def _held(backend: rtml.Backend) -> dict[str, int]:
    """What a stopped replay pushed into each dataset: records kept, and set aside."""
    return {
        n: len(backend.dataset(n)) + len(backend.dataset(n).dead_letters())
        for n in ("tx", "labels")
    }


@settings(max_examples=30, deadline=None)
@given(
    bad=st.sets(st.integers(0, 19)),
    batch_size=st.integers(1, 15),
    stop=st.integers(0, 40),
)
def test_with_dead_letters_a_replay_sets_refused_records_aside_and_resumes(
    bad, batch_size, stop
) -> None:
    events = _messy(bad)

    def replay() -> ReplaySimulator:
        return ReplaySimulator(
            events, "tx", timestamp="ts", labels=LABELS, labels_dataset="labels", label_delay="15s"
        )

    with pytest.raises(rtml.SchemaError) if bad else contextlib.nullcontext():
        replay().run(_messy_store(), batch_size=batch_size)
    whole = _messy_store()
    result = replay().run(whole, batch_size=batch_size, on_error="dead_letter")
    assert result.set_aside == ({"tx": len(bad)} if bad else {})
    assert result.pushed == {"tx": 20 - len(bad), "labels": 20}
    assert whole.dataset("tx").to_pandas()["id"].tolist() == [i for i in range(20) if i not in bad]
    letters = whole.dataset("tx").dead_letters()
    assert [r["id"] for r in letters["record"]] == sorted(bad)
    assert letters["reason"].str.contains("field 'amount': expected float").all()
    # Stopped anywhere, then resumed with what each dataset took (dead letters included).
    parts = _messy_store()
    replay().run(parts, batch_size=batch_size, limit=stop, on_error="dead_letter")
    replay().run(parts, batch_size=batch_size, already=_held(parts), on_error="dead_letter")
    for name in ("tx", "labels"):
        pd.testing.assert_frame_equal(
            parts.dataset(name).to_pandas(), whole.dataset(name).to_pandas()
        )
        # The same records set aside for the same reasons; a reason's row is the record's
        # place in its push, and a resumed run's pushes are cut elsewhere.
        got, want = parts.dataset(name).dead_letters(), whole.dataset(name).dead_letters()
        assert got["record"].tolist() == want["record"].tolist()
        unplaced = r"^row \d+, "
        assert (
            got["reason"].str.replace(unplaced, "", regex=True).tolist()
            == want["reason"].str.replace(unplaced, "", regex=True).tolist()
        )
