"""The Flink backend on PyFlink's local mini-cluster: the conformance suite, and the same
numbers as the local engine and as the plan run in one process, at parallelism 1 and 2."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.labels_before_deploy import (
    assert_an_unlearnable_waiting_label_refuses_the_deploy,
    live_records,
)
from tests.labels_before_deploy import run as run_labels_before_deploy
from tests.test_feature_parity import (
    EVENT_SCHEMA,
    LABEL_SCHEMA,
    arrival_log,
    assert_same,
    batches,
    feature_sets,
    streams,
)

import rtml
from rtml.backends.flink.backend import FlinkBackend
from rtml.backends.flink.plan import run_plan
from rtml.testing.conformance import BackendConformance
from rtml.testing.conformance import _events as _events_and_labels


class TestFlinkConformance(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path):
        backend = rtml.connect("flink", path=str(tmp_path / "flink"), parallelism=2)
        yield backend
        backend.close()


@given(
    stream=streams(),
    fs=feature_sets(),
    cuts=st.sets(st.integers(0, 120)),
    parallelism=st.sampled_from([1, 2]),
)
def test_the_job_gives_what_the_plan_gives(stream, fs, cuts, parallelism) -> None:
    """Keyed steps in parallel subtasks, sources unioned in: the job's feature values and a
    deployment's outputs and labelled pairs are exactly the plan's, run in one process in log
    order (UDF, SQL, joined labels, delays, ties)."""
    with rtml.connect("flink", parallelism=parallelism) as backend:
        backend.create_dataset("events", key="id", schema=EVENT_SCHEMA)
        backend.create_dataset("labels", key="id", schema=LABEL_SCHEMA)
        backend.materialize(fs)
        model = backend.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("fs", numerical=["abs_v", "risk_cnt", "risk"]),
            labels=rtml.Labels("labels", field="y"),
        )
        for name, frame in batches(arrival_log(stream), sorted(cuts)):
            backend.dataset(name).push(frame)
        plan, records = backend.feature_job("fs")
        want = backend.feature_frame("fs", run_plan(plan, records))
        assert_same(backend.features("fs"), want, f"Flink at parallelism {parallelism}")
        made = run_plan(*backend.model_job("m"))
        outputs = model.outputs()
        assert outputs["key"].tolist() == [r[2]["key"] for r in made if r[0] == "o"]
        np.testing.assert_allclose(
            outputs["score"].to_numpy(float), [r[2]["score"] for r in made if r[0] == "o"]
        )
        assert model.labelled().to_records(index=False).tolist() == [
            r[2] for r in made if r[0] == "l"
        ]


def example_features():
    path = Path(__file__).parents[1] / "examples" / "fraud" / "features.py"
    spec = importlib.util.spec_from_file_location("fraud_example_features", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fraud_features, module.model_inputs


def fraud_run(backend: rtml.Backend, events: pd.DataFrame, labels: pd.DataFrame):
    fraud_features, model_inputs = example_features()
    split = len(events) // 2
    tx = backend.create_dataset("transactions", key="transactionID", df=events.iloc[:split])
    lb = backend.create_dataset("labels", key="transactionID", df=labels.iloc[:split])
    backend.materialize(fraud_features())
    model = backend.deploy(
        "lr",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("fraud_features", numerical=model_inputs()),
        labels=rtml.Labels("labels", field="is_fraud"),
        pretrain=True,
    )
    # Live: transactions in batches, each batch's labels a few batches later.
    for lo in range(split, len(events), 500):
        tx.push(events.iloc[lo : lo + 500])
        if lo - 1500 >= split:
            lb.push(labels.iloc[lo - 1500 : lo - 1000])
    return backend.features("fraud_features"), model.outputs(), model.evaluate("WindowedAUC", 500)


def test_the_fraud_example_gives_the_local_engine_numbers(tmp_path) -> None:
    sim = rtml.simulate.SyntheticFraudSimulator(n_customers=200, n_terminals=400, days=12, seed=5)
    events, labels = sim.generate()
    assert len(events) > 3000
    local = fraud_run(rtml.connect("local", path=":memory:"), events, labels)
    with rtml.connect("flink", path=str(tmp_path), parallelism=2) as backend:
        flink = fraud_run(backend, events, labels)
    (features, outputs, auc), (want_features, want_outputs, want_auc) = flink, local
    pd.testing.assert_frame_equal(features, want_features, check_dtype=False, rtol=1e-9)
    assert outputs["key"].tolist() == want_outputs["key"].tolist()
    # The same model states scored them: the pretraining and the labels learned by then.
    assert outputs["model_version"].tolist() == want_outputs["model_version"].tolist()
    assert outputs["model_version"].iloc[0] > 0 and outputs["model_version"].is_monotonic_increasing
    np.testing.assert_allclose(
        outputs["score"].to_numpy(float), want_outputs["score"].to_numpy(float), rtol=1e-9
    )
    np.testing.assert_allclose(auc["value"], want_auc["value"], rtol=1e-9)
    assert len(outputs) == len(events) - len(events) // 2


@pytest.mark.parametrize("parallelism", [1, 2])
def test_rocksdb_state_and_checkpoints_give_the_same_numbers(tmp_path, parallelism) -> None:
    events = pd.DataFrame(
        {"id": range(300), "k": [i % 7 for i in range(300)], "ts": range(0, 3000, 10)}
    )
    events["v"] = np.sin(events["id"]).round(3)
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[rtml.features.Aggregate("s", column="v", op="sum", by="k", window="2m")],
    )
    results = []
    for config in (
        {},
        {
            "state.backend.type": "rocksdb",
            "execution.checkpointing.interval": "100 ms",
            "execution.checkpointing.dir": (tmp_path / "checkpoints").as_uri(),
        },
    ):
        with rtml.connect("flink", parallelism=parallelism, config=config) as backend:
            backend.create_dataset("tx", key="id", df=events)
            backend.materialize(fs)
            results.append(backend.features("f"))
    pd.testing.assert_frame_equal(results[0], results[1])


def test_predict_scores_from_the_live_state(tmp_path) -> None:
    events = pd.DataFrame({"id": range(40), "x": np.linspace(0, 1, 40)})
    labels = pd.DataFrame({"id": range(40), "y": (events["x"] > 0.5).astype(int)})
    answers = []
    for backend in (
        rtml.connect("local", path=":memory:"),
        rtml.connect("flink", path=str(tmp_path)),
    ):
        tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        model = backend.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
        tx.push(events)
        lb.push(labels)
        answers.append(model.predict({"id": 1000, "x": 0.9}))
        assert len(model.outputs()) == 40
        backend.close()
    assert answers[0]["score"] == pytest.approx(answers[1]["score"], rel=1e-12)
    assert answers[1]["score"] > 0.5


class _CountingJobs(FlinkBackend):
    """The Flink backend, counting the jobs it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs = 0

    def run(self, plan: Any, records: Any) -> Any:
        self.jobs += 1
        return super().run(plan, records)


def test_reads_of_two_models_in_turn_run_each_models_job_once(tmp_path) -> None:
    """Comparing models reads each in turn (outputs, metrics, drift): each model's job runs
    once until the log changes, then again on the next read."""
    events = pd.DataFrame({"id": range(40), "x": np.linspace(0, 1, 40)})
    labels = pd.DataFrame({"id": range(40), "y": (events["x"] > 0.5).astype(int)})
    with _CountingJobs(str(tmp_path)) as backend:
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:30])
        lb = backend.create_dataset("labels", key="id", df=labels.iloc[:30])
        for name in ("a", "b"):
            backend.deploy(
                name,
                rtml.models.LogisticRegression(),
                inputs=rtml.Inputs("tx", numerical=["x"]),
                labels=rtml.Labels("labels", field="y"),
                pretrain=True,
            )
        tx.push(events.iloc[30:35])
        lb.push(labels.iloc[30:35])
        seen = []
        for _ in range(2):
            for name in ("a", "b"):
                deployment = backend.deployment(name)
                seen.append(len(deployment.outputs()))
                deployment.evaluate("WindowedAUC", 3)
                deployment.drift()
        assert backend.jobs == 2 and seen == [5, 5, 5, 5]
        tx.push(events.iloc[35:])
        assert len(backend.deployment("a").outputs()) == 10 and backend.jobs == 3


def test_the_fraud_example_moves_to_flink_by_one_setting(tmp_path) -> None:
    """The example's steps as separate processes, RTML_BACKEND=flink against the default
    local engine: the same comparison table."""
    example = Path(__file__).parents[1] / "examples" / "fraud"
    small = {
        "CUSTOMERS": "150",
        "TERMINALS": "300",
        "DAYS": "10",
        "HISTORY_DAYS": "4",
        "DRIFT_DAY": "7",
        "BATCH_SIZE": "500",
        "METRIC_WINDOW": "500",
    }
    tables = []
    for backend in ("local", "flink"):
        home = tmp_path / backend
        # PyFlink leaves its gateway's variables in this process's environment once a job has
        # run here (PYFLINK_GATEWAY_DISABLED among them): a child must not inherit them.
        clean = {k: v for k, v in os.environ.items() if "FLINK" not in k and "PYTHON_" not in k}
        env = {**clean, **small, "RTML_HOME": str(home), "CHART": str(home / "c.html")}
        env["RTML_BACKEND"] = backend
        for step in ("feature_pipeline.py", "model.py", "live_data.py", "compare.py"):
            done = subprocess.run(
                [sys.executable, step], cwd=example, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr[-3000:]
        table = done.stdout.split("WindowedAUC", 1)[1].split("chart:", 1)[0]
        tables.append(table)
    assert tables[0] == tables[1]
    assert "LogisticRegression" in tables[1] and "1539" in tables[1]


def test_a_cluster_gives_what_the_mini_cluster_gives(standalone_cluster) -> None:
    """``jobmanager=`` submits the same jobs to a cluster of separate processes."""
    events, labels = _events_and_labels(300)
    results = []
    for target in ({"jobmanager": standalone_cluster}, {}):
        with rtml.connect("flink", parallelism=2, **target) as backend:
            tx = backend.create_dataset("tx", key="id", df=events.iloc[:100])
            lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
            fs = rtml.FeatureSet(
                name="f",
                dataset="tx",
                timestamp="ts",
                features=[
                    rtml.features.Aggregate("s", column="amount", op="sum", by="card", window="1h")
                ],
            )
            backend.materialize(fs)
            model = backend.deploy(
                "m",
                rtml.models.LogisticRegression(),
                inputs=rtml.Inputs("f", numerical=["amount", "s"]),
                labels=rtml.Labels("labels", field="y"),
            )
            tx.push(events.iloc[100:])
            lb.push(labels)
            results.append((backend.features("f"), model.outputs()))
    pd.testing.assert_frame_equal(results[0][0], results[1][0])
    pd.testing.assert_frame_equal(results[0][1], results[1][1])
    assert len(results[0][1]) == 200


def _checkpointed_after_100(marker: Path) -> bool:
    """Whether a checkpoint completed after record 100 went through the UDF."""
    after100 = marker / "after100"
    if not after100.exists():
        return False
    since = after100.stat().st_mtime
    return any(m.stat().st_mtime > since for m in (marker / "checkpoints").rglob("_metadata"))


def fail_once(amount: float, id: int, directory: str) -> float:
    """A UDF that, in the first attempt only, fails the job on one record (after waiting, up
    to 5 s, for a checkpoint completed after record 100): Flink restarts the job.

    The test's directory comes in a column, not the environment: PyFlink's Python workers may
    outlive a test and keep the environment they started with."""
    marker = Path(directory)
    with open(marker / "calls", "a") as calls:  # which records the UDF saw, each time
        calls.write(f"{id}\n")
    if not (marker / "_disturbed").exists():
        if id == 100:
            time.sleep(1.5)  # the source backs up behind this record
            (marker / "after100").touch()
        if id == 2500:
            # At parallelism 2 another subtask may hold record 100 and still be asleep on it:
            # wait for it too, within the same deadline.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not _checkpointed_after_100(marker):
                time.sleep(0.05)
            (marker / "_disturbed").touch()
            raise RuntimeError("a worker failure, injected once")
    return amount * 2


def _twice_then_summed(udf, directory: Path) -> tuple[pd.DataFrame, rtml.FeatureSet]:
    """3,000 events and a feature set of ``udf`` (doubling ``v``; told the test's directory in
    a column) and a windowed sum over its values."""
    events = pd.DataFrame(
        {"id": range(3000), "k": [i % 7 for i in range(3000)], "ts": range(0, 30000, 10)}
    )
    events["v"] = np.sin(events["id"]).round(3)
    events["directory"] = str(directory)
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[
            rtml.features.UDF("twice", fn=udf, args=["v", "id", "directory"]),
            rtml.features.Aggregate("s", column="twice", op="sum", by="k", window="2m"),
        ],
    )
    return events, fs


def _features_twice(
    events: pd.DataFrame, fs: rtml.FeatureSet, parallelism: int, config: dict[str, str]
) -> list[pd.DataFrame]:
    """The feature set computed by two jobs, the second after the ``_disturbed`` marker is removed."""
    directory = Path(events["directory"].iloc[0])
    results = []
    for run in ("undisturbed", "disturbed once"):
        if run == "disturbed once":
            (directory / "_disturbed").unlink()
            (directory / "calls").unlink()
        with rtml.connect("flink", parallelism=parallelism, config=config) as backend:
            backend.create_dataset("tx", key="id", df=events)
            backend.materialize(fs)
            results.append(backend.features("f"))
    return results


@pytest.mark.parametrize("parallelism", [1, 2])  # chunks of one stream, keyed records
def test_a_worker_failure_mid_job_is_recovered_with_the_same_results(tmp_path, parallelism) -> None:
    """Exactly once inside a job: RocksDB state, checkpoints every 100 ms, a worker failure
    half way; the restarted job gives what an undisturbed one gives."""
    (tmp_path / "_disturbed").touch()  # the undisturbed run first
    events, fs = _twice_then_summed(fail_once, tmp_path)
    config = {
        "state.backend.type": "rocksdb",
        "execution.checkpointing.interval": "100 ms",
        "execution.checkpointing.dir": (tmp_path / "checkpoints").as_uri(),
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "3",
        "restart-strategy.fixed-delay.delay": "100 ms",
    }
    results = _features_twice(events, fs, parallelism, config)
    assert (tmp_path / "_disturbed").exists(), "the failure was not injected"
    pd.testing.assert_frame_equal(results[0], results[1])
    assert results[1]["s"].notna().all() and len(results[1]) == 3000
    # Flink restarted the job itself (one features() call): records after its restore point
    # went through the UDF twice, and the results hold each record once. Whether it restored
    # from a checkpoint or from the start depends on timing (a barrier waits for a Python
    # bundle), so it is not asserted.
    calls = [int(line) for line in (tmp_path / "calls").read_text().split()]
    assert calls.count(2500) >= 2 and len(calls) > 3000


def stall_once(amount: float, id: int, directory: str) -> float:
    """A UDF that, in the first attempt only, stops for a minute on record 1500: a Python
    worker that no longer answers."""
    marker = Path(directory)
    with open(marker / "calls", "a") as calls:
        calls.write(f"{id}\n")
    if id == 1500 and not (marker / "_disturbed").exists():
        (marker / "_disturbed").touch()
        time.sleep(60)
    return amount * 2


def test_a_stalled_worker_is_restarted_with_the_same_results(tmp_path) -> None:
    """A job whose worker stops answering is failed when its checkpoints expire (three in a
    row, rtml's default tolerance) and restarted, not waited for: the UDF sees record 1500
    again, while its first call is still asleep, and the results equal an undisturbed job's."""
    (tmp_path / "_disturbed").touch()
    events, fs = _twice_then_summed(stall_once, tmp_path)
    # A short checkpoint timeout keeps the test short; the tolerance is rtml's default.
    config = {
        "execution.checkpointing.interval": "200 ms",
        "execution.checkpointing.timeout": "2 s",
    }
    results = _features_twice(events, fs, 2, config)
    pd.testing.assert_frame_equal(results[0], results[1])
    calls = [int(line) for line in (tmp_path / "calls").read_text().split()]
    assert calls.count(1500) >= 2, "the stalled job was waited for, not restarted"


def always_fails(v: float) -> float:
    raise ValueError(f"cannot take {v}")


def test_a_failing_udf_raises_what_the_local_engine_raises() -> None:
    frame = pd.DataFrame({"id": [1, 2], "ts": [1, 2], "v": [1.0, 2.0]})
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[rtml.features.UDF("u", fn=always_fails, args=["v"])],
    )
    local = rtml.connect("local", path=":memory:")
    local.create_dataset("tx", key="id", df=frame)
    with pytest.raises(rtml.SpecError) as on_local:
        local.materialize(fs)
    with rtml.connect("flink") as backend:
        backend.create_dataset("tx", key="id", df=frame)
        backend.materialize(fs)  # the history is computed by the job, not here
        with pytest.raises(rtml.SpecError) as on_flink:
            backend.features("f")
    # The same error, naming the feature and the first record (by its key on the local engine,
    # by its row in the job's batch on Flink).
    assert type(on_flink.value) is type(on_local.value) is rtml.errors.FeatureRowsError
    failed = "feature 'u': UDF 'u': 'always_fails' raised ValueError: cannot take 1.0"
    assert "at the record of 'tx' whose 'id' is 1, " + failed in str(on_local.value)
    assert str(on_flink.value).startswith(failed.replace(":", ", row 0:", 1))
    assert str(on_flink.value).endswith("(in a Flink job)")


def inverse(v: float) -> float:
    return 1.0 / v


def _local_then_flink(tmp_path, fs: rtml.FeatureSet) -> Iterator[tuple[Any, Any]]:
    """The local engine, then Flink, each with dataset tx (id, ts, v) and ``fs`` materialized:
    (backend, tx), open while the loop's body runs."""
    for name, options in (("local", {"path": ":memory:"}), ("flink", {"path": str(tmp_path)})):
        with rtml.connect(name, **options) as backend:
            tx = backend.create_dataset(
                "tx", key="id", schema={"id": "int", "ts": "int", "v": "float"}
            )
            backend.materialize(fs)
            yield backend, tx


def size_of(v: float) -> Any:
    return "big" if v > 100 else v


def test_a_feature_a_model_reads_as_a_number_is_refused_by_row_when_it_is_text(tmp_path) -> None:
    """Accepted, the text would fail the deployment's job at every read."""
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[rtml.features.UDF("size", fn=size_of, args=["v"])],
    )
    records = [{"id": i, "ts": i, "v": 50.0 * i} for i in range(5)]  # 150 and 200: text
    results = []
    for backend, tx in _local_then_flink(tmp_path, fs):
        model = backend.deploy(
            "m", rtml.models.LogisticRegression(), inputs=rtml.Inputs("f", numerical=["size"])
        )
        with pytest.raises(rtml.SchemaError) as refused:
            tx.push(records)
        assert tx.push(records, on_error="dead_letter") == 3
        results.append((str(refused.value), tx.dead_letters(), model.outputs()))
    (local_error, local_letters, local_outputs), (error, letters, outputs) = results
    # The same records refused; the local engine says first that the feature changed kind,
    # Flink (which keeps no kinds) that the model reads numbers there.
    assert "row 3, field 'size': feature 'size'" in local_error
    assert "row 3, field 'size': deployment 'm': numerical input 'size'" in error
    assert letters["record"].tolist() == local_letters["record"].tolist()
    assert letters["reason"].str.startswith(("row 3, field 'size'", "row 4, field 'size'")).all()
    pd.testing.assert_frame_equal(outputs, local_outputs, check_dtype=False)
    assert outputs["key"].tolist() == [0, 1, 2]


def test_records_a_udf_fails_for_are_refused_or_set_aside_before_any_job(tmp_path) -> None:
    """Accepted, they would fail the feature set's job at every read from then on."""
    fs = rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[
            rtml.features.UDF("u", fn=inverse, args=["v"]),
            rtml.features.Aggregate("n", column="u", op="count", by="id", window="1h"),
        ],
    )
    records = [{"id": i, "ts": i, "v": float(i % 3)} for i in range(9)]
    results = []
    for backend, tx in _local_then_flink(tmp_path, fs):
        with pytest.raises(rtml.SchemaError) as refused:
            tx.push(records)
        assert len(tx.to_pandas()) == 0
        assert tx.push(records, on_error="dead_letter") == 6
        results.append((str(refused.value), tx.dead_letters(), backend.features("f")))
    (local_error, local_letters, local_features), (error, letters, features) = results
    assert error == local_error and "row 0, field 'u'" in error and "row 6" in error
    pd.testing.assert_frame_equal(letters, local_letters)
    pd.testing.assert_frame_equal(features, local_features, check_dtype=False)
    assert features["id"].tolist() == [1, 2, 4, 5, 7, 8]


def test_labels_a_model_cannot_learn_are_refused_before_any_job(tmp_path) -> None:
    with rtml.connect("flink", path=str(tmp_path / "flink")) as backend:
        backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
        lb = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        backend.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )
        with pytest.raises(rtml.SchemaError, match=r"row 1, field 'y': deployment 'm'.*got 2"):
            lb.push([{"id": 1, "y": 1}, {"id": 2, "y": 2}])
        assert len(lb) == 0
    # the deployment is in the catalog: a reopened backend refuses the same push
    with (
        rtml.connect("flink", path=str(tmp_path / "flink")) as backend,
        pytest.raises(rtml.SchemaError, match="learns the classes 0 and 1"),
    ):
        backend.dataset("labels").push([{"id": 2, "y": 2}])


def test_an_ensemble_of_text_classes_gives_the_local_engine_outputs(tmp_path) -> None:
    """Three classes named by text, learned by a SoftVoting of members that learn any class:
    every output (none before the first label) as the local engine makes it."""
    rng = np.random.default_rng(5)
    n = 400
    events = pd.DataFrame({"id": range(n), "x": rng.normal(size=n), "z": rng.normal(size=n)})
    kind = np.where(events["x"] < -0.5, "low", np.where(events["z"] > 0, "up", "down"))
    labels = pd.DataFrame({"id": range(n), "y": kind})
    spec = rtml.models.SoftVoting(
        models=[rtml.models.GaussianNB(), rtml.models.HoeffdingTreeClassifier(grace_period=50)]
    )
    outputs = []
    for name, options in (("local", {"path": str(tmp_path / "local")}), ("flink", {})):
        with rtml.connect(name, **options) as backend:
            tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
            lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
            model = backend.deploy(
                "m",
                spec,
                inputs=rtml.Inputs("tx", numerical=["x", "z"]),
                labels=rtml.Labels("labels", field="y"),
            )
            for lo in range(0, n, 100):
                tx.push(events.iloc[lo : lo + 100])
                lb.push(labels.iloc[lo : lo + 100])
            outputs.append(model.outputs())
    pd.testing.assert_frame_equal(outputs[0], outputs[1])
    classes = outputs[1]["predicted_class"]
    assert classes.iloc[:100].isna().all()  # nothing learned before the first labels
    assert (classes.iloc[200:].to_numpy() == kind[200:]).mean() > 0.8


def test_sql_that_cannot_run_is_refused_when_materialized(tmp_path) -> None:
    """As on the local engine (tests/test_sql_check.py): refused by name at materialize, not
    at every push after."""
    with rtml.connect("flink", path=str(tmp_path)) as backend:
        tx = backend.create_dataset("tx", key="id", schema={"id": "int", "who": "string"})
        fs = rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="id",
            features=[rtml.features.SQL(name="s", expr='"who" + 2')],
        )
        with pytest.raises(rtml.SpecError, match=r"SQL feature 's'.*No function matches"):
            backend.materialize(fs)
        assert backend.feature_sets() == []
        assert tx.push([{"id": 1, "who": "ann"}]) == 1


def test_labels_waiting_at_the_deploy_are_learned_as_on_the_local_engine(tmp_path) -> None:
    """A label stored before the deploy whose event comes after it waits for its event on
    Flink too: the same outputs and evaluation as the local engine, with and without pretrain;
    one the model cannot learn refuses the deploy."""
    plan = [("after", "before"), ("before", "before"), ("after", "after"), ("after", "never")]
    plan = plan * 3 + [("before", "after"), ("after", "before")]
    order = live_records(plan)
    for pretrain in (False, True):
        local, learned = run_labels_before_deploy(
            rtml.connect("local", path=":memory:"), plan, order, pretrain=pretrain
        )
        with rtml.connect("flink", path=str(tmp_path / f"flink{pretrain}")) as backend:
            model, _ = run_labels_before_deploy(backend, plan, order, pretrain=pretrain)
            evaluated = model.evaluate("WindowedAccuracy", window=100)
            outputs = model.outputs()
        assert len(evaluated) == len(learned) == 7
        pd.testing.assert_frame_equal(evaluated, local.evaluate("WindowedAccuracy", window=100))
        shown = ["key", "score", "model_version"]
        pd.testing.assert_frame_equal(outputs[shown], local.outputs()[shown], check_dtype=False)
    with rtml.connect("flink", path=str(tmp_path / "refused")) as backend:
        assert_an_unlearnable_waiting_label_refuses_the_deploy(backend)
