"""The backend conformance suite: what every backend must do, as pytest tests to subclass.

A backend author writes::

    from rtml.testing.conformance import BackendConformance

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def backend(self):
            b = rtml.connect("mine", ...)
            yield b
            b.close()

and runs pytest. Where a backend cannot do something (a TurboML aggregate op, say), it overrides
that test with one asserting the clear refusal, so the gap is explicit, never skipped silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import rtml

__all__ = ["BackendConformance"]


def _events(n: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    events = pd.DataFrame(
        {
            "id": np.arange(n),
            "card": rng.choice(["a", "b", "c"], n),
            "ts": 1_700_000_000 + np.arange(n) * 600,
            "amount": np.round(rng.gamma(2, 20, n), 2),
        }
    )
    labels = pd.DataFrame({"id": np.arange(n), "y": (events["amount"] > 60).astype("int64")})
    return events, labels


def _refused_deployment(
    backend: Any, model: rtml.ModelSpec, label_types: dict[str, Any], match: str
) -> None:
    """Events, and labels with ``label_types`` changed: deploying ``model`` on them raises a
    SpecError matching ``match`` and leaves no deployment."""
    events, labels = _events(10)
    backend.create_dataset("tx", key="id", df=events)
    backend.create_dataset("labels", key="id", df=labels.astype(label_types))
    with pytest.raises(rtml.SpecError, match=match):
        backend.deploy(
            "m",
            model,
            inputs=rtml.Inputs(source="tx", numerical=["amount"]),
            labels=rtml.Labels(dataset="labels", field="y"),
        )
    assert backend.deployments() == []


def _classes_by_amount(backend: Any, events: pd.DataFrame, labels: pd.DataFrame) -> Any:
    """Empty datasets of ``events`` and ``labels`` and a GaussianNB learning the labels' classes
    from the amount: (transactions, labels, deployment)."""
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    model = backend.deploy(
        "m",
        rtml.models.GaussianNB(),
        inputs=rtml.Inputs(source="tx", numerical=["amount"]),
        labels=rtml.Labels(dataset="labels", field="y"),
    )
    return tx, lb, model


def _scored_with_a_card_window(
    backend: Any, classifier: rtml.ModelSpec, events: pd.DataFrame, labels: pd.DataFrame
) -> Any:
    """Empty datasets of ``events`` and ``labels``, a feature set with the amount spent by the
    card in the last hour, and ``classifier`` deployed on it: (transactions, labels,
    deployment)."""
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    window = rtml.features.Aggregate(
        name="sum_1h", column="amount", op="sum", by="card", window="1h"
    )
    backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[window]))
    model = backend.deploy(
        "m",
        classifier,
        inputs=rtml.Inputs(source="f", numerical=["amount", "sum_1h"]),
        labels=rtml.Labels(dataset="labels", field="y"),
    )
    return tx, lb, model


class BackendConformance:
    """Subclass and provide a ``backend`` fixture; every test must pass."""

    @pytest.fixture
    def backend(self) -> Any:  # pragma: no cover - subclasses provide it
        raise NotImplementedError("provide a `backend` fixture")

    @pytest.fixture
    def classifier(self) -> rtml.ModelSpec:
        """The model the deployment tests use; a backend without it provides another (and
        tests the refusal of this one)."""
        return rtml.models.LogisticRegression()

    def test_datasets_keep_what_is_pushed(self, backend: Any) -> None:
        events, _ = _events()
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:100])
        assert tx.push(events.iloc[100:]) == 100
        assert len(tx) == 200 and "tx" in backend.datasets()
        stored = backend.dataset("tx").to_pandas().sort_values("id").reset_index(drop=True)
        pd.testing.assert_frame_equal(stored, events, check_dtype=False)

    def test_a_bad_push_is_refused_whole(self, backend: Any) -> None:
        events, _ = _events(10)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:5])
        bad = events.iloc[5:].astype({"amount": object})
        bad.loc[bad.index[2], "amount"] = "lots"
        with pytest.raises(rtml.SchemaError, match="amount"):
            tx.push(bad)
        with pytest.raises(rtml.SchemaError, match="id"):
            tx.push(events.iloc[:1])  # a key already stored
        assert len(tx) == 5

    def test_a_push_of_no_records_writes_nothing(self, backend: Any) -> None:
        """An empty batch from a source (no records, or no rows) is a push of nothing, not a
        push missing every column."""
        events, _ = _events(10)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:5])
        assert tx.push([]) == 0 and tx.push(events.iloc[:0]) == 0
        assert tx.push([], on_error="dead_letter") == 0
        assert len(tx) == 5 and tx.push(events.iloc[5:]) == 5

    def test_features_backfill_and_live_agree(self, backend: Any) -> None:
        events, _ = _events()
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:120])
        fs = rtml.FeatureSet(
            name="f",
            dataset="tx",
            timestamp="ts",
            features=[
                rtml.features.Aggregate(
                    name="sum_1h", column="amount", op="sum", by="card", window="1h"
                ),
                rtml.features.Aggregate(
                    name="n_1d", column="amount", op="count", by="card", window="1d"
                ),
                rtml.features.SQL(name="big", expr='CASE WHEN "amount" > 50 THEN 1 ELSE 0 END'),
            ],
        )
        backend.materialize(fs)
        tx.push(events.iloc[120:])
        got = backend.features("f").sort_values("id").reset_index(drop=True)
        assert got["id"].tolist() == events["id"].tolist()
        for i, row in events.iterrows():
            same = events[(events["card"] == row["card"]) & (events.index <= i)]
            hour = same[same["ts"] >= row["ts"] - 3600]
            assert got.loc[i, "sum_1h"] == pytest.approx(hour["amount"].sum())
            assert got.loc[i, "n_1d"] == len(same[same["ts"] >= row["ts"] - 86400])
        assert got["big"].tolist() == (events["amount"] > 50).astype(int).tolist()

    def test_a_feature_set_its_types_cannot_run_is_refused(self, backend: Any) -> None:
        """What would fail at the first push (or read) fails when materialized, by name: a sum
        of text, a feature named like a column, text as event times."""
        events, _ = _events(10)
        backend.create_dataset("tx", key="id", df=events)
        text_sum = rtml.features.Aggregate(
            name="s", column="card", op="sum", by="card", window="1h"
        )
        cases = [
            ("ts", [text_sum], "takes the sum of 'card'"),
            ("ts", [rtml.features.SQL(name="amount", expr='"ts" * 2')], "the name of a column"),
            ("card", [rtml.features.SQL(name="one", expr="1")], "column 'card' holds string"),
        ]
        for timestamp, features, match in cases:
            fs = rtml.FeatureSet(name="f", dataset="tx", timestamp=timestamp, features=features)
            with pytest.raises(rtml.SpecError, match=match):
                backend.materialize(fs)
        assert backend.feature_sets() == []

    def test_labels_keyed_by_another_kind_of_value_are_refused(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        """Labels keyed by text cannot find events keyed by numbers: refused when deployed,
        not left to never teach the model."""
        _refused_deployment(
            backend, classifier, {"id": str}, match="key of labels dataset 'labels'"
        )

    def test_a_regression_on_text_labels_is_refused(self, backend: Any) -> None:
        """A regression learns numbers: on a label field of text it is refused when deployed,
        not when its first label fails inside the learner."""
        _refused_deployment(
            backend,
            rtml.models.HoeffdingTreeRegressor(),
            {"y": str},
            match="learns numbers, but field 'y'",
        )

    def test_a_text_column_as_a_numerical_input_is_refused(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        """A model reads a numerical input as a number: a text column there is refused when
        deployed. Accepted, it made every later push to the dataset fail ("could not convert
        string to float"), for every deployment on it."""
        events, labels = _events(10)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:5])
        backend.create_dataset("labels", key="id", df=labels)
        with pytest.raises(rtml.SpecError, match="numerical input 'card' of 'tx' holds string"):
            backend.deploy(
                "m",
                classifier,
                inputs=rtml.Inputs(source="tx", numerical=["amount", "card"]),
                labels=rtml.Labels(dataset="labels", field="y"),
            )
        assert backend.deployments() == []
        assert tx.push(events.iloc[5:]) == 5

    def test_inputs_no_model_can_use_as_meant_are_refused(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        """No input, a field named twice, or the label field read where the labels come from:
        refused when deployed, by field, and nothing is deployed."""
        events, labels = _events(10)
        backend.create_dataset("tx", key="id", df=events.merge(labels, on="id"))
        backend.create_dataset("labels", key="id", df=labels)
        cases = [
            (rtml.Inputs(source="tx"), "labels", "the inputs from 'tx' name no field"),
            (
                rtml.Inputs(source="tx", numerical=["amount"], categorical=["amount", "card"]),
                "labels",
                "input 'amount' is named twice",
            ),
            (
                rtml.Inputs(source="tx", numerical=["amount", "y"]),
                "tx",
                "input 'y' is the label field",
            ),
        ]
        for inputs, label_set, match in cases:
            with pytest.raises(rtml.SpecError, match=match):
                backend.deploy(
                    "m", classifier, inputs=inputs, labels=rtml.Labels(dataset=label_set, field="y")
                )
        assert backend.deployments() == []

    def test_a_deleted_deployment_leaves_nothing_to_a_later_one_of_its_name(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        """What a deployment made just before its delete (still in memory on the local engine)
        is not a later deployment's of the same name: its outputs and evaluation are its own."""
        events, labels = _events(40)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
        lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])

        def deploy() -> Any:
            return backend.deploy(
                "m",
                classifier,
                inputs=rtml.Inputs(source="tx", numerical=["amount"]),
                labels=rtml.Labels(dataset="labels", field="y"),
            )

        deploy()
        tx.push(events.iloc[:20])
        lb.push(labels.iloc[:20])
        backend.deployment("m").delete()
        assert backend.deployments() == []
        model = deploy()
        tx.push(events.iloc[20:])
        lb.push(labels.iloc[20:])
        assert sorted(model.outputs()["key"].tolist()) == list(range(20, 40))
        assert len(model.evaluate("WindowedAUC", window=100)) == 20

    def test_a_deployment_scores_every_event_and_learns(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        events, labels = _events(400)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
        lb = backend.create_dataset("labels", key="id", df=labels.iloc[:0])
        model = backend.deploy(
            "m",
            classifier,
            inputs=rtml.Inputs(source="tx", numerical=["amount"]),
            labels=rtml.Labels(dataset="labels", field="y"),
        )
        for lo in range(0, 400, 50):
            lb.push(labels.iloc[lo : lo + 50])
            tx.push(events.iloc[lo : lo + 50])
        out = model.outputs()
        assert sorted(out["key"].tolist()) == events["id"].tolist()
        assert {"score", "predicted_class", "class_probabilities", "event_time"} <= set(out)
        if out["model_version"].notna().any():  # TurboML's outputs carry no version
            # Each label waited for its event: one more label learned after each score.
            assert out["model_version"].tolist() == list(range(400))
        auc = model.evaluate("WindowedAUC", window=200)
        assert len(auc) == 400 and auc["value"].iloc[-1] > 0.9
        for window in (0, 2.5, True):  # the same error on every backend (it was not over HTTP)
            with pytest.raises(ValueError, match="window must be a whole number >= 1"):
                model.evaluate("WindowedAUC", window=window)
        assert backend.deployment("m").name == "m" and "m" in backend.deployments()
        score = model.predict(events.iloc[0].to_dict())["score"]
        assert 0.0 <= score <= 1.0
        assert len(model.outputs()) == 400  # predict does not write an output
        # A look-up by key gives those events' outputs as outputs() holds them, in the order
        # made; a key of no event, or of another kind, gives nothing.
        wanted = out[out["key"].isin([5, 2, 300])].reset_index(drop=True)
        assert wanted["key"].tolist() == [2, 5, 300]
        pd.testing.assert_frame_equal(
            model.outputs_of([300, 5, 2, 10_000, "5"]), wanted, check_dtype=False
        )
        assert model.outputs_of([]).empty and model.outputs_of(["x"]).empty
        # Score drift reads the outputs in the order made, whatever the backend.
        drift = model.drift()
        assert drift.table["key"].tolist() == out["key"].tolist()
        assert drift.table["value"].tolist() == pytest.approx(out["score"].astype(float).tolist())

    def test_a_model_of_three_classes_is_evaluated_by_its_classes_or_refused(
        self, backend: Any
    ) -> None:
        events, _ = _events(300)
        kinds = np.digitize(events["amount"], [30.0, 60.0])  # classes 0, 1 and 2 by amount
        labels = pd.DataFrame({"id": events["id"], "y": kinds.astype("int64")})
        tx, lb, model = _classes_by_amount(backend, events, labels)
        try:
            model.evaluate("WindowedClassAccuracy", window=100)
        except rtml.NotFound as exc:  # a backend without the metric says so, by name
            assert "WindowedClassAccuracy" in str(exc)
            return
        for lo in range(0, 300, 50):
            tx.push(events.iloc[lo : lo + 50])
            lb.push(labels.iloc[lo : lo + 50])
        out = model.outputs()
        shown = dict(zip(out["key"].tolist(), out["predicted_class"].tolist(), strict=True))
        # Labels join in key order here: right or wrong, each as its output showed.
        right = [shown[k] == y for k, y in zip(labels["id"], labels["y"], strict=True)]
        expected = [float(np.mean(right[max(0, i - 99) : i + 1])) for i in range(300)]
        for metric in ("WindowedClassAccuracy", "WindowedAccuracy"):
            values = model.evaluate(metric, window=100)["value"].tolist()
            assert values == pytest.approx(expected), metric
        assert expected[-1] > 0.6  # learned: GaussianNB on the amount (0.76 here), not chance
        f1 = model.evaluate("WindowedMacroF1", window=100)["value"].tolist()
        assert len(f1) == 300 and 0.0 < f1[-1] <= 1.0

    def test_predict_answers_what_the_output_stream_then_stores(self, backend: Any) -> None:
        # Text classes written as whole numbers: JSON gives every key back as text, and the
        # backend must not turn "7" into 7 in one place and keep it as "7" in another.
        events, _ = _events(120)
        kinds = np.array(["7", "12", "30"])[np.digitize(events["amount"], [30.0, 60.0])]
        labels = pd.DataFrame({"id": events["id"], "y": kinds})
        tx, lb, model = _classes_by_amount(backend, events, labels)
        tx.push(events.iloc[:100])
        try:
            lb.push(labels.iloc[:100])
        except rtml.SchemaError as exc:  # a backend whose model learns 0 and 1 only says so
            assert "learns the classes 0 and 1, got '12'" in str(exc)
            return
        record = {k: v.item() if hasattr(v, "item") else v for k, v in events.iloc[100].items()}
        answer = model.predict(record)
        tx.push(events.iloc[100:101])
        stored = model.outputs().iloc[-1]
        assert stored["key"] == 100
        assert stored["predicted_class"] == answer["predicted_class"] in ("7", "12", "30")
        assert set(answer["class_probabilities"]) == {"7", "12", "30"}
        assert stored["class_probabilities"] == pytest.approx(answer["class_probabilities"])
        assert stored["score"] == pytest.approx(answer["score"])

    def test_predict_many_answers_what_predict_answers_for_each(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        # A window feature by card, and records of the same cards in one call: each is scored
        # on the live state alone, not seeing the others, and nothing is stored.
        events, labels = _events(160)
        tx, lb, model = _scored_with_a_card_window(backend, classifier, events, labels)
        tx.push(events.iloc[:150])
        lb.push(labels.iloc[:150])
        batch = events.iloc[150:154]  # two records of each of two cards
        assert batch["card"].duplicated().any()
        many = model.predict_many(batch)
        assert list(many.columns) == ["score", "predicted_class", "class_probabilities"]
        assert many.index.tolist() == batch.index.tolist()
        records = [
            {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}
            for row in batch.to_dict("records")
        ]
        for (_, got), record in zip(many.iterrows(), records, strict=True):
            one = model.predict(record)
            assert got["score"] == pytest.approx(one["score"]), record
            assert got["predicted_class"] == one["predicted_class"], record
            assert got["class_probabilities"] == pytest.approx(one["class_probabilities"])
        listed = model.predict_many(records)
        assert listed["score"].tolist() == pytest.approx(many["score"].tolist())
        assert len(model.predict_many([])) == 0
        assert len(model.outputs()) == 150  # nothing stored

    def test_a_bad_record_to_score_is_refused_by_field_and_row(
        self, backend: Any, classifier: rtml.ModelSpec
    ) -> None:
        events, labels = _events(20)
        tx, _, model = _scored_with_a_card_window(backend, classifier, events, labels)
        tx.push(events.iloc[:10])
        good = {"id": 50, "card": "a", "ts": 1_700_010_000, "amount": 3.0}
        cases = [  # (records, what the error names)
            ([{**good, "amount": "a lot"}], ["row 0, field 'amount'", "expected float"]),
            ([good, good, {**good, "shop": 4}], ["row 2, field 'shop'", "unknown field"]),
            ([{**good, "ts": None}], ["row 0, field 'ts'"]),
        ]
        for records, named in cases:
            with pytest.raises(rtml.SchemaError) as refused:
                model.predict_many(records)
            assert "dataset 'tx'" in str(refused.value) and "'m'" in str(refused.value)
            for words in named:
                assert words in str(refused.value), (words, str(refused.value))
            if len(records) == 1:
                with pytest.raises(rtml.SchemaError, match="field"):
                    model.predict(records[0])
        assert 0.0 <= model.predict(good)["score"] <= 1.0

    def test_a_drift_monitor_follows_pushes_or_is_refused(self, backend: Any) -> None:
        events, _ = _events(300)
        events.loc[150:, "amount"] += 200  # dearer from the 150th record
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:100])
        spec = rtml.drift.Monitor(name="amounts", source="tx", fields=["amount"], clock=4)
        try:
            monitor = backend.watch(spec)
        except rtml.SpecError as exc:  # a backend that keeps none says so, by name
            assert "keeps no drift monitors" in str(exc) and backend.monitors() == []
            return
        # ADWIN on a text field is refused; accepted, it would refuse every later push.
        with pytest.raises(rtml.SpecError, match="field 'card' of 'tx' holds string values"):
            backend.watch(rtml.drift.Monitor(name="cards", source="tx", fields=["card"]))
        tx.push(events.iloc[100:])
        expected = rtml.drift.univariate(events, "amount", clock=4).drifts
        assert expected and backend.monitors() == ["amounts"]
        status = backend.monitor("amounts").status()
        assert (status["records"], status["changes"]) == (300, len(expected))
        changes = monitor.changes()
        assert changes["row"].tolist() == expected
        assert changes["key"].tolist() == events["id"].iloc[expected].tolist()
        monitor.delete()
        assert backend.monitors() == []

    def test_pause_resume_delete(self, backend: Any) -> None:
        events, labels = _events(30)
        tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
        backend.create_dataset("labels", key="id", df=labels.iloc[:0])
        model = backend.deploy(
            "m",
            rtml.models.GaussianNB(),
            inputs=rtml.Inputs(source="tx", numerical=["amount"]),
            labels=rtml.Labels(dataset="labels", field="y"),
        )
        model.pause()
        tx.push(events.iloc[:10])
        model.resume()
        tx.push(events.iloc[10:])
        assert len(model.outputs()) == 20
        model.delete()
        with pytest.raises(rtml.NotFound):
            backend.deployment("m")

    def test_unknown_names_are_not_found(self, backend: Any) -> None:
        for lookup in (backend.dataset, backend.deployment, backend.features):
            with pytest.raises(rtml.NotFound):
                lookup("nowhere")
