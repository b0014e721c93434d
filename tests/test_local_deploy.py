"""Deployments on the local engine: prequential predict-then-learn, joined by key."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtml


def stream(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = (x + 0.3 * rng.normal(size=n) > 0.8).astype(int)
    events = pd.DataFrame(
        {
            "id": np.arange(n),
            "ts": np.arange(n) * 10,
            "card": rng.choice(["a", "b", "c"], n),
            "x": x,
        }
    )
    return events, pd.DataFrame({"id": np.arange(n), "y": y})


def setup(backend, n: int = 600):
    events, labels = stream(n)
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    backend.materialize(
        rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.Aggregate("x_avg_1h", column="x", op="avg", by="card", window="1h")
            ],
        )
    )
    return tx, lb, events, labels


def test_predicts_every_event_and_learns_from_labels(backend) -> None:
    tx, lb, events, labels = setup(backend)
    model = backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("f", numerical=["x", "x_avg_1h"]),
        labels=rtml.Labels("labels", field="y"),
    )
    for lo in range(0, len(events), 50):
        tx.push(events.iloc[lo : lo + 50])
        lb.push(labels.iloc[lo : lo + 50])
    out = model.outputs()
    assert out["key"].tolist() == events["id"].tolist()
    assert set(out.columns) >= {"score", "predicted_class", "class_probabilities", "event_time"}
    assert out["event_time"].tolist() == events["ts"].tolist()
    auc = model.evaluate("WindowedAUC", window=200)
    assert len(auc) == len(labels)
    assert auc["value"].iloc[-1] > 0.9  # x separates the classes: the model must have learned
    assert backend.deployment("m") is model and backend.deployments() == ["m"]


def test_label_before_its_event_is_learned_after_the_prediction(backend) -> None:
    tx, lb, events, labels = setup(backend, n=50)
    model = backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("f", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    lb.push(labels)  # every label first
    tx.push(events)
    assert len(model.outputs()) == 50
    assert len(model.evaluate("WindowedAccuracy", window=10)) == 50


def test_predict_does_not_learn_nor_change_features(backend) -> None:
    tx, lb, events, labels = setup(backend, n=100)
    model = backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("f", numerical=["x", "x_avg_1h"]),
        labels=rtml.Labels("labels", field="y"),
    )
    tx.push(events.iloc[:80])
    lb.push(labels.iloc[:80])
    features_before = backend.features("f").copy()
    record = events.iloc[80].to_dict()
    first = model.predict(record)
    assert model.predict(record) == first
    pd.testing.assert_frame_equal(backend.features("f"), features_before)
    assert len(model.outputs()) == 80
    tx.push(events.iloc[80:81])
    assert model.outputs()["score"].iloc[-1] == pytest.approx(first["score"])


@settings(max_examples=20, deadline=None)
@given(
    seconds=st.lists(st.integers(0, 4_000_000_000), min_size=1, max_size=30),
    missing=st.lists(st.booleans(), min_size=1, max_size=30),
)
def test_a_datetime_input_reads_as_epoch_seconds_in_batches_and_alone(seconds, missing) -> None:
    when = pd.to_datetime(pd.Series(seconds), unit="s")
    when[np.resize(missing, len(seconds))] = pd.NaT
    events = pd.DataFrame({"id": range(len(seconds)), "when": when})
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("tx", key="id", df=events.iloc[:0]).push(events)
    model = backend.deploy(
        "m", rtml.models.GaussianNB(), inputs=rtml.Inputs("tx", numerical=["when"])
    )
    deployment = backend.deployment("m")
    batch = deployment._inputs_of(events)
    alone = [deployment.features_of(row) for row in events.to_dict("records")]
    expected = [
        {} if pd.isna(t) else {"when": float(s)} for s, t in zip(seconds, when, strict=True)
    ]
    assert batch == alone == expected
    assert [x for _, x in model.explain(events.to_dict("records"))] == expected


def test_pause_resume_delete(backend) -> None:
    tx, _lb, events, _labels = setup(backend, n=30)
    model = backend.deploy(
        "m",
        rtml.models.GaussianNB(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    model.pause()
    tx.push(events.iloc[:10])
    assert model.outputs().empty
    model.resume()
    tx.push(events.iloc[10:20])
    assert len(model.outputs()) == 10
    model.delete()
    with pytest.raises(rtml.NotFound):
        backend.deployment("m")


def _learner_on_x(backend: rtml.Backend) -> rtml.Deployment:
    return backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("tx", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )


@pytest.mark.parametrize("reopen", [False, True])
def test_labels_pushed_while_paused_are_learned_at_resume(tmp_path, reopen: bool) -> None:
    """Held while paused (and kept by a checkpoint and a reopen), learned at the resume in
    their order, as if they had come then. Before, they were dropped."""
    path = str(tmp_path / "store")
    backend = rtml.connect("local", path=path)
    tx, lb, events, labels = setup(backend, n=30)
    model = _learner_on_x(backend)
    tx.push(events.iloc[:10])
    model.pause()
    lb.push(labels.iloc[:6])
    tx.push(events.iloc[10:12])  # not scored: its label will wait for an event that never comes
    lb.push(labels.iloc[6:12])
    assert model.learned == 0 and model.labelled().empty
    if reopen:
        backend.checkpoint()
        backend.close()
        backend = rtml.connect("local", path=path)
        model = backend.deployment("m")
    model.resume()
    assert model.learned == 10
    assert model.labelled()["y"].tolist() == labels["y"].iloc[:10].tolist()
    backend.dataset("tx").push(events.iloc[12:13])
    assert model.outputs()["model_version"].iloc[-1] == 10
    # The same model as one that learned those labels as they came, unpaused.
    unpaused = rtml.connect("local", path=":memory:")
    tx2, lb2, _, _ = setup(unpaused, n=30)
    twin = _learner_on_x(unpaused)
    tx2.push(events.iloc[:10])
    lb2.push(labels.iloc[:10])
    tx2.push(events.iloc[12:13])
    assert model.outputs()["score"].iloc[-1] == twin.outputs()["score"].iloc[-1]


def test_deploy_checks_its_inputs(backend) -> None:
    setup(backend, n=5)
    with pytest.raises(rtml.SpecError, match="'nope'"):
        backend.deploy("m", rtml.models.GaussianNB(), inputs=rtml.Inputs("f", numerical=["nope"]))
    with pytest.raises(rtml.SpecError, match="label field 'z'"):
        backend.deploy(
            "m",
            rtml.models.GaussianNB(),
            inputs=rtml.Inputs("f", numerical=["x"]),
            labels=rtml.Labels("labels", field="z"),
        )
    with pytest.raises(rtml.NotFound, match="no metric"):
        backend.deploy(
            "ok", rtml.models.GaussianNB(), inputs=rtml.Inputs("f", numerical=["x"])
        ).evaluate("Nope")


class NoLearner(rtml.ModelSpec):
    """A spec a plugin author forgot to give a ``build``."""

    kind: Literal["NoLearner"] = "NoLearner"


@pytest.mark.parametrize("spec", [rtml.ModelSpec(), NoLearner()], ids=["base", "no build"])
def test_a_spec_that_builds_no_learner_is_refused_by_name_and_writes_nothing(backend, spec):
    setup(backend, n=5)
    before = backend.deployments()
    with pytest.raises(rtml.SpecError, match=f"deployment 'm': {type(spec).__name__} is not a"):
        backend.deploy("m", spec, inputs=rtml.Inputs("f", numerical=["x"]))
    assert backend.deployments() == before
    with pytest.raises(rtml.SpecError, match="defines no build"):
        spec.build()


@settings(max_examples=20)
@given(order=st.permutations(list(range(40))))
def test_every_label_is_learned_once_whatever_the_order(order) -> None:
    backend = rtml.connect("local", path=":memory:")
    tx, lb, events, labels = setup(backend, n=40)
    model = backend.deploy(
        "m",
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("f", numerical=["x"]),
        labels=rtml.Labels("labels", field="y"),
    )
    # Labels arrive in any order, interleaved with the events (which arrive in time order).
    for step, label_row in enumerate(order):
        tx.push(events.iloc[step : step + 1])
        lb.push(labels.iloc[label_row : label_row + 1])
    assert len(model.outputs()) == 40
    assert len(model.evaluate("WindowedAccuracy", window=5)) == 40


@pytest.mark.parametrize(
    "spec", [rtml.models.LogisticRegression(), rtml.models.OnlineLinearClassifier()]
)
def test_a_feature_of_text_as_a_numerical_input_is_refused_by_input_and_row(spec) -> None:
    """A feature set's features have no declared type, so deploy cannot refuse this one: its
    pushes are, naming the deployment, the input and the row (it was float()'s "could not
    convert string to float: 'low'")."""
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float", "t": "float"})
    level = rtml.features.SQL("level", """CASE WHEN "x" > 1 THEN 'high' END""")  # else NULL
    backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="t", features=[level]))
    model = backend.deploy("m", spec, inputs=rtml.Inputs("f", numerical=["x", "level"]))
    refused = r"row 1, field 'level': deployment 'm': numerical input 'level': expected a number, got 'high'"
    records = [{"id": 1, "x": 0.5, "t": 1.0}, {"id": 2, "x": 2.0, "t": 2.0}]
    with pytest.raises(rtml.SchemaError, match=refused):
        tx.push(records)
    assert len(tx) == 0 and len(model.outputs()) == 0
    # With dead letters, the record is set aside and the rest scored.
    assert tx.push(records, on_error="dead_letter") == 1
    assert model.outputs()["key"].tolist() == [1]
    assert tx.dead_letters()["reason"].str.startswith("row 1, field 'level'").all()
    with pytest.raises(rtml.SchemaError, match="numerical input 'level', row 0"):
        model.predict({"id": 3, "x": 5.0, "t": 3.0})
    assert 0.0 <= model.predict({"id": 4, "x": 0.5, "t": 4.0})["score"] <= 1.0  # NULL: missing


def test_a_deleted_deployments_handle_refuses_to_read_or_score() -> None:
    """A handle kept after delete() neither scores with the dropped model nor reads the tables
    of a later deployment given its name."""
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})

    def deploy():
        return backend.deploy(
            "m",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("tx", numerical=["x"]),
            labels=rtml.Labels("labels", field="y"),
        )

    old = deploy()
    old.delete()
    new = deploy()
    tx.push([{"id": 1, "x": 1.0}])
    reads = [
        lambda: old.predict({"id": 2, "x": 1.0}),
        lambda: old.predict_many([{"id": 2, "x": 1.0}]),
        old.outputs,
        old.labelled,
        lambda: old.evaluate("WindowedAUC"),
        old.drift,
        old.resume,
    ]
    for read in reads:
        with pytest.raises(rtml.errors.NotFound, match="deployment 'm' was deleted"):
            read()
    assert new.outputs()["key"].tolist() == [1]
