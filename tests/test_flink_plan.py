"""The Flink backend's plan, run in this process (no Flink): the same values as the local engine.

A Flink job runs these plan steps, keyed and in log order (tests_flink checks the job gives
what :func:`run_plan` gives); here the steps themselves are checked against the slow reference
and the local engine on generated streams, which needs no Java.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml
from rtml.backends.base import LABELLED_COLUMNS, OUTPUT_COLUMNS
from rtml.backends.flink import FlinkBackend
from rtml.backends.flink.plan import (
    Piece,
    Plan,
    Record,
    RowStep,
    expected,
    in_log_order,
    pieces,
    run_plan,
    stable_hash,
    through_step,
)

from .reference import KEY, reference
from .test_feature_parity import (
    EVENT_SCHEMA,
    LABEL_SCHEMA,
    arrival_log,
    assert_same,
    batches,
    feature_sets,
    streams,
)


def planned_features(backend: FlinkBackend, name: str) -> pd.DataFrame:
    return backend.feature_frame(name, run_plan(*backend.feature_job(name)))


def fill(backend: rtml.Backend, log: list[tuple[str, pd.DataFrame]]) -> None:
    for name, frame in log:
        assert backend.dataset(name).push(frame) == len(frame)


@settings(max_examples=25)
@given(stream=streams(), fs=feature_sets(), cuts=st.sets(st.integers(0, 120)), first=st.booleans())
def test_planned_features_equal_the_reference(stream, fs, cuts, first) -> None:
    log = arrival_log(stream)
    with FlinkBackend() as backend:
        backend.create_dataset("events", key="id", schema=EVENT_SCHEMA)
        backend.create_dataset("labels", key="id", schema=LABEL_SCHEMA)
        if first:
            backend.materialize(fs)
        fill(backend, batches(log, sorted(cuts)))
        if not first:
            backend.materialize(fs)
        assert_same(planned_features(backend, "fs"), reference(fs, KEY, log), "planned")


@settings(max_examples=15)
@given(stream=streams(), fs=feature_sets())
def test_planned_history_equals_the_reference(stream, fs) -> None:
    events, labels = stream["events"], stream["labels"]
    with FlinkBackend() as backend:
        backend.create_dataset("events", key="id", df=events)
        backend.create_dataset("labels", key="id", df=labels, schema=LABEL_SCHEMA)
        backend.materialize(fs)
        want = reference(fs, KEY, [("labels", labels), ("events", events)])
        assert_same(planned_features(backend, "fs"), want, "planned history")


def deploy_and_feed(
    backend: rtml.Backend, stream: dict[str, Any], cuts: list[int], pause: tuple[int, int]
) -> rtml.Deployment:
    events = stream["events"]
    backend.create_dataset("events", key="id", df=events.iloc[:3], schema=EVENT_SCHEMA)
    backend.create_dataset("labels", key="id", schema=LABEL_SCHEMA)
    fs = rtml.FeatureSet(
        name="fs",
        dataset="events",
        timestamp="ts",
        allowed_lateness="25s",
        features=[
            rtml.features.Aggregate("n", column="v", op="count", by="k", window="10s"),
            rtml.features.Aggregate(
                "risk", column="y", op="sum", by="k", window="30s", source="labels"
            ),
        ],
    )
    backend.materialize(fs)
    deployment = backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("fs", numerical=["v", "n", "risk"]),
        labels=rtml.Labels("labels", field="y"),
        pretrain=True,
    )
    log = [(n, f) for n, f in arrival_log(stream) if not (n == "events" and f["id"].iloc[0] < 3)]
    for i, (name, frame) in enumerate(batches(log, cuts)):
        if i == pause[0]:
            deployment.pause()
        if i == pause[1]:
            deployment.resume()
        backend.dataset(name).push(frame)
    return deployment


@settings(max_examples=15)
@given(
    stream=streams(max_n=30),
    cuts=st.sets(st.integers(0, 80)),
    pause=st.tuples(st.integers(0, 20), st.integers(0, 30)),
)
def test_planned_deployment_equals_the_local_engine(stream, cuts, pause) -> None:
    stream["labels"]["y"] = stream["labels"]["y"].astype("int64").astype("float64")
    local = deploy_and_feed(rtml.connect("local", path=":memory:"), stream, sorted(cuts), pause)
    with FlinkBackend() as backend:
        deploy_and_feed(backend, stream, sorted(cuts), pause)
        plan, records = backend.model_job("m")
        made = run_plan(plan, records)
    # What the backend checks a job's results against is exactly what the plan makes.
    for kind, seqs in expected(plan, records).items():
        assert seqs == {seq for k, seq, _ in made if k == kind}, kind
    outputs = pd.DataFrame([r[2] for r in made if r[0] == "o"], columns=OUTPUT_COLUMNS)
    want = local.outputs()
    assert outputs["key"].tolist() == want["key"].tolist()
    np.testing.assert_allclose(
        outputs["score"].to_numpy(float), want["score"].to_numpy(float), rtol=1e-12
    )
    pairs = pd.DataFrame([r[2] for r in made if r[0] == "l"], columns=LABELLED_COLUMNS)
    wanted = local.labelled()
    assert pairs["y"].tolist() == wanted["y"].tolist()
    assert pairs["predicted_class"].tolist() == wanted["predicted_class"].tolist()
    np.testing.assert_allclose(
        pairs["score"].to_numpy(float), wanted["score"].to_numpy(float), rtol=1e-12
    )


def deploy_on_x(backend: rtml.Backend, model: rtml.ModelSpec) -> tuple[Any, Any]:
    """Datasets tx (id, x) and labels (id, y), and ``model`` deployed on x as "m"."""
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    backend.deploy(
        "m",
        model,
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    return tx, lb


def test_a_probe_is_scored_without_learning() -> None:
    events = pd.DataFrame({"id": range(6), "x": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]})
    labels = pd.DataFrame({"id": range(6), "y": [0, 1, 0, 1, 0, 1]})
    local = rtml.connect("local", path=":memory:")
    with FlinkBackend() as backend:
        for b in (local, backend):
            tx, lb = deploy_on_x(b, rtml.models.LogisticRegression())
            lb.push(labels)
            tx.push(events)
        plan, records = backend.model_job("m", probes=[{"id": 99, "x": 1.0}])
        made = run_plan(plan, records)
        (answer,) = [r[2] for r in made if r[0] == "a"]
        want = local.deployment("m").predict({"id": 99, "x": 1.0})
        assert answer["score"] == pytest.approx(want["score"], rel=1e-12)
        assert answer["predicted_class"] == want["predicted_class"]
        assert sum(r[0] == "o" for r in made) == 6  # the probe made no output


@settings(max_examples=15, deadline=None)
@given(
    stream=streams(max_n=30),
    cuts=st.sets(st.integers(0, 80)),
    probes=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-20, 5), st.floats(-3, 3)),
        min_size=1,
        max_size=6,
    ),
    buckets=st.integers(1, 4),
    shuffle=st.randoms(use_true_random=False),
)
def test_probes_in_one_job_are_scored_as_the_local_engine_scores_them_one_by_one(
    stream, cuts, probes, buckets, shuffle
) -> None:
    """``predict_many`` on Flink: the records go to one job as probes at the end of the log.
    The window steps preview each (the probes share keys and do not see each other), and the
    answers are the local engine's ``predict`` of each record on its own, at any parallelism."""
    stream["labels"]["y"] = stream["labels"]["y"].astype("int64").astype("float64")
    local = deploy_and_feed(rtml.connect("local", path=":memory:"), stream, sorted(cuts), (0, 0))
    last = int(stream["events"]["ts"].max())
    records = [
        {"id": 1000 + i, "k": k, "k2": 0, "ts": last + dt, "v": v}
        for i, (k, dt, v) in enumerate(probes)
    ]
    want = [local.predict(r) for r in records]
    assert local.predict_many(records)["score"].tolist() == pytest.approx(
        [w["score"] for w in want], rel=1e-12
    )
    with FlinkBackend() as backend:
        deploy_and_feed(backend, stream, sorted(cuts), (0, 0))
        plan, job = backend.model_job("m", probes=records)
        for made in (run_plan(plan, job), in_buckets(plan, job, 7, buckets, shuffle)):
            answers = [r[2] for r in made if r[0] == "a"]
            assert len(answers) == len(records)
            for got, wanted in zip(answers, want, strict=True):
                assert got["score"] == pytest.approx(wanted["score"], rel=1e-12)
                assert got["predicted_class"] == wanted["predicted_class"]


@settings(max_examples=10, deadline=None)
@given(classes=st.lists(st.integers(0, 3), min_size=4, max_size=40), step=st.integers(1, 7))
def test_a_model_of_many_classes_keeps_its_predicted_classes_on_the_plan(classes, step) -> None:
    # The pairs a job makes carry the class each output showed, as the local engine's do, so
    # accuracy over four classes is the same number on both.
    from rtml.backends.local.deployment import evaluate_pairs

    n = len(classes)
    events = pd.DataFrame({"id": range(n), "x": [c + 0.3 * (i % 3) for i, c in enumerate(classes)]})
    labels = pd.DataFrame({"id": range(n), "y": classes})
    local = rtml.connect("local", path=":memory:")
    with FlinkBackend() as backend:
        for b in (local, backend):
            tx, lb = deploy_on_x(b, rtml.models.GaussianNB())
            for lo in range(0, n, step):
                tx.push(events.iloc[lo : lo + step])
                lb.push(labels.iloc[lo : lo + step])
        made = run_plan(*backend.model_job("m"))
    pairs = pd.DataFrame([r[2] for r in made if r[0] == "l"], columns=LABELLED_COLUMNS)
    want = local.deployment("m").labelled()
    assert pairs["y"].tolist() == want["y"].tolist() == classes
    assert pairs["predicted_class"].tolist() == want["predicted_class"].tolist()
    pd.testing.assert_frame_equal(
        evaluate_pairs("WindowedAccuracy", 5, pairs, "m"),
        local.deployment("m").evaluate("WindowedAccuracy", window=5),
    )


def test_late_records_are_refused_by_the_gate() -> None:
    with FlinkBackend() as backend:
        tx = backend.create_dataset(
            "tx", key="id", df=pd.DataFrame({"id": [1], "ts": [1000], "x": [1.0]})
        )
        fs = rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            allowed_lateness="10s",
            features=[rtml.features.Aggregate("n", column="x", op="count", by="id", window="1m")],
        )
        backend.materialize(fs)
        with pytest.raises(
            rtml.SchemaError, match=r"row\(s\) \[1\].*allowed_lateness|row 1, field 'ts'"
        ):
            tx.push(pd.DataFrame({"id": [2, 3], "ts": [995, 900], "x": [1.0, 1.0]}))
        assert len(tx) == 1
        assert (
            tx.push(
                pd.DataFrame({"id": [2, 3], "ts": [995, 900], "x": [1.0, 1.0]}),
                on_error="dead_letter",
            )
            == 1
        )
        assert tx.dead_letters()["record"].tolist()[0]["id"] == 3
        with pytest.raises(rtml.SchemaError, match="history"):
            tx.push_history([{"id": 4, "ts": 2000, "x": 1.0}])


def test_the_catalog_survives_a_reopen(tmp_path) -> None:
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        allowed_lateness="1s",
        features=[rtml.features.Aggregate("n", column="x", op="count", by="id", window="1m")],
    )
    with FlinkBackend(path=str(tmp_path)) as backend:
        backend.create_dataset(
            "tx", key="id", df=pd.DataFrame({"id": [1], "ts": [100], "x": [1.0]})
        )
        backend.materialize(fs)
        backend.deploy("m", rtml.models.GaussianNB(), inputs=rtml.Inputs("f", numerical=["x"]))
        backend.deployment("m").pause()
    with FlinkBackend(path=str(tmp_path)) as again:
        assert again.feature_set("f") == fs and again.deployments() == ["m"]
        assert again.datasets() == ["tx"] and len(again.dataset("tx")) == 1
        with pytest.raises(rtml.SchemaError, match="allowed_lateness"):
            again.dataset("tx").push([{"id": 2, "ts": 50, "x": 1.0}])  # the gate is back too


def test_refusals_name_what_is_wrong() -> None:
    with FlinkBackend() as backend:
        backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float", "y": "int"})
        with pytest.raises(rtml.SpecError, match="dataset of their own"):
            backend.deploy(
                "m",
                rtml.models.GaussianNB(),
                inputs=rtml.Inputs("tx", numerical=["x"]),
                labels=rtml.Labels("tx", field="y"),
            )
        with pytest.raises(rtml.SpecError, match="'z'"):
            backend.deploy("m", rtml.models.GaussianNB(), inputs=rtml.Inputs("tx", numerical=["z"]))
        with pytest.raises(rtml.NotFound):
            backend.features("nowhere")
        with pytest.raises(ValueError, match="host:port"):
            FlinkBackend(jobmanager="nohost")


@settings(max_examples=10)
@given(n=st.integers(1, 30), seed=st.integers(0, 1000))
def test_models_learning_in_batches_match_on_one_record_pushes(n, seed) -> None:
    """OnlineLinearClassifier scores a push whole on the local engine, one record at a time on
    Flink: pushes of one record give the same scores (the documented difference)."""
    rng = np.random.default_rng(seed)
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n)})
    labels = pd.DataFrame({"id": range(n), "y": (events["x"] > 0).astype("int64")})
    local = rtml.connect("local", path=":memory:")
    with FlinkBackend() as backend:
        for b in (local, backend):
            tx, lb = deploy_on_x(b, rtml.models.OnlineLinearClassifier())
            for i in range(n):
                tx.push(events.iloc[[i]])
                lb.push(labels.iloc[[i]])
        made = run_plan(*backend.model_job("m"))
    scores = [r[2]["score"] for r in made if r[0] == "o"]
    np.testing.assert_allclose(scores, local.deployment("m").outputs()["score"], rtol=1e-12)


def same_value(a: Any, b: Any) -> bool:
    """Equal values of the same type, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@settings(max_examples=25)
@given(stream=streams(), fs=feature_sets(), cuts=st.sets(st.integers(1, 120)))
def test_row_steps_on_batches_give_what_they_give_one_record_at_a_time(stream, fs, cuts) -> None:
    """A Flink job runs a stage's SQL and UDF features on whatever records wait for the
    watermark, one query for them all; that is the per-record step's values, whatever the
    batches (the records reaching each row step are the plan's own, up to that step)."""
    with FlinkBackend() as backend:
        backend.create_dataset("events", key="id", schema=EVENT_SCHEMA)
        backend.create_dataset("labels", key="id", schema=LABEL_SCHEMA)
        backend.materialize(fs)
        fill(backend, batches(arrival_log(stream), [1]))
        plan, records = backend.feature_job("fs")
    checked = 0
    for i, step in enumerate(plan.steps):
        if not isinstance(step, RowStep):
            continue
        reaching = run_plan(Plan(plan.steps[:i], plan.events, plan.sources), records)
        want = [step.apply(record) for record in reaching]
        bounds = [0, *sorted(c for c in cuts if c < len(reaching)), len(reaching)]
        got = [made for lo, hi in pairwise(bounds) for made in step.apply_many(reaching[lo:hi])]
        assert [r[:2] for r in got] == [r[:2] for r in want]
        for (_, seq, (_, row, _)), (_, _, (_, wanted, _)) in zip(got, want, strict=True):
            assert row.keys() == wanted.keys()
            for name, value in wanted.items():
                assert same_value(row[name], value), f"{name} at {seq}: {row[name]!r} != {value!r}"
        checked += 1
    assert checked == sum(isinstance(s, RowStep) for s in plan.steps)


def one_stream(plan: Plan, records: list[Record], size: int) -> list[Record]:
    """What a job at parallelism 1 computes: every record through every step in chunks of
    ``size`` records, in log order (:func:`through_step`), source records dropped at the end."""
    stream = list(records)
    for step in plan.steps:
        states: dict[Any, Any] = {}
        chunks = [stream[lo : lo + size] for lo in range(0, len(stream), size)]
        stream = [made for chunk in chunks for made in through_step(step, states, chunk)]
    return [r for r in stream if r[0] != "s"]


@settings(max_examples=15)
@given(stream=streams(max_n=30), cuts=st.sets(st.integers(0, 80)), size=st.integers(1, 40))
def test_one_stream_through_every_step_gives_what_the_plan_gives(stream, cuts, size) -> None:
    """At parallelism 1 a job sends labels through every step rather than straight to the
    steps that read them; the steps that do not read them hand them on, so the features,
    outputs and labelled pairs are the plan's."""
    stream["labels"]["y"] = stream["labels"]["y"].astype("int64").astype("float64")
    with FlinkBackend() as backend:
        deploy_and_feed(backend, stream, sorted(cuts), (0, 0))
        for plan, records in (backend.feature_job("fs"), backend.model_job("m")):
            want = run_plan(plan, records)
            got = one_stream(plan, records, size)
            assert [r[:2] for r in got] == [r[:2] for r in want]
            assert repr(got) == repr(want)  # NaN equal to NaN, types alike


def in_buckets(
    plan: Plan, records: list[Record], size: int, buckets: int, shuffle: random.Random
) -> list[Record]:
    """What a job at parallelism 2 and more computes: the log in chunks of ``size``, split for
    each step by key bucket (:func:`pieces`), the pieces reaching a step in any order (as
    parallel subtasks send them), each bucket's records run in ``seq`` order through the step
    with the bucket's states; the results in log order as the job's are read."""
    steps = [*plan.steps, None]
    arriving: list[Piece] = []
    for lo in range(0, len(records), size):
        arriving += pieces(steps[0], records[lo : lo + size], buckets)
    for i, step in enumerate(plan.steps):
        assert step is not None
        shuffle.shuffle(arriving)
        waiting: dict[int, list[Record]] = defaultdict(list)
        made: list[Piece] = []
        for bucket, waits, part in arriving:
            if waits:
                waiting[bucket] += part
            else:
                made += pieces(steps[i + 1], through_step(step, {}, part), buckets)
        for part in waiting.values():
            ready = sorted(part, key=lambda r: int(r[1]))
            made += pieces(steps[i + 1], through_step(step, {}, ready), buckets)
        arriving = made
    return in_log_order([r for _, _, part in arriving for r in part if r[0] != "s"])


@settings(max_examples=15)
@given(
    stream=streams(max_n=30),
    cuts=st.sets(st.integers(0, 80)),
    size=st.integers(1, 40),
    buckets=st.integers(1, 6),
    shuffle=st.randoms(use_true_random=False),
)
def test_pieces_by_key_bucket_give_what_the_plan_gives(stream, cuts, size, buckets, shuffle):
    """At parallelism 2 and more, a step's records reach it by key bucket in any order and run
    in log order within their bucket: the features, outputs and labelled pairs are the plan's,
    whatever the chunk size, the number of buckets and the order pieces arrive in."""
    stream["labels"]["y"] = stream["labels"]["y"].astype("int64").astype("float64")
    with FlinkBackend() as backend:
        deploy_and_feed(backend, stream, sorted(cuts), (0, 0))
        for plan, records in (backend.feature_job("fs"), backend.model_job("m")):
            want = in_log_order(run_plan(plan, records))
            got = in_buckets(plan, records, size, buckets, shuffle)
            assert [r[:2] for r in got] == [r[:2] for r in want]
            assert repr(got) == repr(want)  # NaN equal to NaN, types alike


def test_a_key_lands_in_the_same_bucket_in_every_process() -> None:
    """Subtasks are processes, and Python salts the hash of text per process: the bucket of a
    key must not depend on it (a key split over two buckets would run with two states)."""
    keys = ["card-1", ("t", 7), 3, 3.0, None, ("x", 2.5)]
    here = [stable_hash(k) for k in keys]
    script = (
        "from rtml.backends.flink.plan import stable_hash;"
        f"print([stable_hash(k) for k in {keys!r}])"
    )
    for seed in ("1", "2"):
        there = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert there.strip() == repr(here)
    assert here[2] == here[3]  # 3 and 3.0 are one key of a step's state
