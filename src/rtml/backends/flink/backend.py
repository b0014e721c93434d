"""The Flink backend: the Backend interface on Apache Flink (PyFlink 2.x).

Datasets live in a durable, validated log (:mod:`rtml.backends.flink.log`); feature sets and
deployments are Flink jobs over that log (:mod:`rtml.backends.flink.job`) built from the plan
steps of :mod:`rtml.backends.flink.plan`. With no ``jobmanager`` the jobs run on PyFlink's
local mini-cluster; results are read back from the job's sink and kept until the log or the
catalog changes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rtml.backends.base import (
    LABELLED_COLUMNS,
    OUTPUT_COLUMNS,
    Backend,
    Deployment,
    Inputs,
    Labels,
    Records,
    predictions_frame,
    records_and_index,
)
from rtml.backends.checks import (
    already_materialized,
    check_deploy_call,
    check_input_names,
    check_inputs_and_labels,
)
from rtml.backends.flink.log import LogBackend, arrival_order
from rtml.backends.flink.plan import (
    ANSWER,
    EVENT,
    LABELLED,
    OUTPUT,
    PROBE,
    SOURCE,
    FeaturePlan,
    ModelStep,
    Plan,
    Record,
    Step,
    expected,
)
from rtml.backends.local.backend import _model_from_json
from rtml.backends.local.dataset import LocalDataset
from rtml.backends.local.deployment import evaluate_pairs, probabilities_of
from rtml.backends.local.labels import (
    Learner,
    check_awaiting_labels,
    check_label_type,
    holds_text,
    learner,
)
from rtml.backends.local.prediction_records import prediction_records
from rtml.backends.local.schema import SQL_TYPES
from rtml.errors import NotFound, RtmlError, SpecError
from rtml.features.base import WindowFeature
from rtml.features.engine import FeatureEngine, disorder, window_column
from rtml.features.featureset import FeatureSet
from rtml.features.sql_check import check_sql_features
from rtml.features.timestamps import to_nanos
from rtml.models.base import ModelSpec, Prediction
from rtml.spec import reading_stored
from rtml.whole_numbers import is_whole

__all__ = ["FlinkBackend", "FlinkDeployment"]

_CATALOG = "flink-catalog.json"


def _names(items: dict[str, Any]) -> str:
    return ", ".join(sorted(items)) or "none"


class FlinkBackend(Backend):
    """Runs feature sets and deployments as Flink jobs: on PyFlink's local mini-cluster by
    default (Java 17 needed), or on a cluster (``jobmanager="host:port"``).

    ``path`` holds the datasets' log and the catalog (a temporary directory by default);
    ``parallelism`` is the jobs' default parallelism; ``config`` adds Flink configuration
    (``state.backend.type``, ``execution.checkpointing.interval``, ...).

    Writes (datasets, pushes, ``materialize``, ``deploy``) need no job; reads of computed
    values (``features``, ``outputs``, ``evaluate``, ``predict``) run one:

    >>> import rtml
    >>> backend = FlinkBackend(parallelism=2)  # rtml.connect("flink", ...) checks the extra
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "card": "string",
    ...                                                    "ts": "int", "amount": "float"})
    >>> backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[
    ...     rtml.features.Aggregate("spend_1h", column="amount", op="sum", by="card",
    ...                             window="1h")]))
    >>> tx.push([{"id": 1, "card": "a", "ts": 0, "amount": 5.0}])
    1
    >>> plan, records = backend.feature_job("f")  # what features("f") runs on Flink
    >>> [type(step).__name__ for step in plan.steps], len(records)
    (['WindowStep'], 1)
    >>> backend.close()
    """

    name = "flink"

    def __init__(
        self,
        path: str | None = None,
        parallelism: int = 1,
        jobmanager: str | None = None,
        config: dict[str, str] | None = None,
    ) -> None:
        if not is_whole(parallelism, 1):
            raise ValueError(f"parallelism must be a whole number >= 1, got {parallelism!r}")
        self._tmp = None if path is not None else tempfile.TemporaryDirectory(prefix="rtml-flink-")
        self.path = Path(path if path is not None else self._tmp.name)  # type: ignore[union-attr]
        self.path.mkdir(parents=True, exist_ok=True)
        self.parallelism = parallelism
        self.config = dict(config or {})
        if jobmanager is not None:
            host, _, port = jobmanager.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"jobmanager must be 'host:port', got {jobmanager!r}")
            self.config.update(
                {"execution.target": "remote", "rest.address": host, "rest.port": port}
            )
        self._feature_sets: dict[str, FeatureSet] = {}
        self._deployments: dict[str, dict[str, Any]] = {}
        self._results: dict[tuple[Any, ...], tuple[Any, list[Record]]] = {}
        self.log = LogBackend(
            str(self.path / "log"),
            readers=self._is_read,
            learners=self._label_learners,
            scorers=self._scorers,
        )
        self._load_catalog()

    def __repr__(self) -> str:
        return f"<FlinkBackend {str(self.path)!r} parallelism={self.parallelism}>"

    def close(self) -> None:
        self.log.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # ---- catalog -------------------------------------------------------------------------
    def _is_read(self, dataset: str) -> bool:
        if any(
            dataset == fs.dataset or dataset in fs.sources() for fs in self._feature_sets.values()
        ):
            return True
        return any(
            d["inputs"].source == dataset or (d["labels"] and d["labels"].dataset == dataset)
            for d in self._deployments.values()
        )

    def _label_learners(self, dataset: str) -> list[Learner]:
        return [
            learner(n, d["model"], d["labels"].field)
            for n, d in self._deployments.items()
            if d["labels"] is not None and d["labels"].dataset == dataset
        ]

    def _scorers(self, source: str) -> list[tuple[str, Inputs]]:
        return [
            (n, d["inputs"]) for n, d in self._deployments.items() if d["inputs"].source == source
        ]

    def _save_catalog(self) -> None:
        data = {
            "feature_sets": {n: fs.model_dump(mode="json") for n, fs in self._feature_sets.items()},
            "deployments": {
                n: {
                    **{k: v for k, v in d.items() if k not in ("model", "inputs", "labels")},
                    "model": d["model"].model_dump(mode="json"),
                    "inputs": d["inputs"].model_dump(mode="json"),
                    "labels": d["labels"].model_dump(mode="json") if d["labels"] else None,
                }
                for n, d in self._deployments.items()
            },
        }
        try:
            text = json.dumps(data)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"the Flink catalog cannot be stored: {exc}") from None
        tmp = self.path / (_CATALOG + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path / _CATALOG)  # a reader never sees half a catalog

    def _load_catalog(self) -> None:
        file = self.path / _CATALOG
        if not file.exists():
            return
        data = json.loads(file.read_text())
        for name, spec in data["feature_sets"].items():
            with reading_stored():
                self._feature_sets[name] = FeatureSet.model_validate(spec)
            self.log.gate(self._engine(self._feature_sets[name]))
        for name, d in data["deployments"].items():
            d["model"] = _model_from_json(d["model"])
            d["inputs"] = Inputs.model_validate(d["inputs"])
            d["labels"] = Labels.model_validate(d["labels"]) if d["labels"] else None
            d["paused"] = [tuple(p) for p in d["paused"]]
            self._deployments[name] = d

    def _engine(self, fs: FeatureSet) -> FeatureEngine:
        return FeatureEngine(fs, key=self.dataset(fs.dataset).key)

    # ---- datasets ------------------------------------------------------------------------
    def create_dataset(
        self,
        name: str,
        key: str,
        df: pd.DataFrame | None = None,
        schema: dict[str, Any] | None = None,
    ) -> LocalDataset:
        return self.log.create_dataset(name, key, df=df, schema=schema)

    def dataset(self, name: str) -> LocalDataset:
        return self.log.dataset(name)

    def _schema_of(self, name: str) -> dict[str, Any]:
        return dict(self.dataset(name).schema)

    def datasets(self) -> list[str]:
        return self.log.datasets()

    # ---- feature sets --------------------------------------------------------------------
    def materialize(self, feature_set: FeatureSet) -> None:
        if already_materialized(feature_set, self._feature_sets.get(feature_set.name)):
            return
        dataset = self.dataset(feature_set.dataset)
        sources = {s: self.dataset(s).schema for s in feature_set.sources()}
        feature_set.check_columns(dataset.schema, sources)
        # DuckDB runs them, on the columns as stored
        check_sql_features(feature_set, {c: SQL_TYPES[t.type] for c, t in dataset.schema.items()})
        self._feature_sets[feature_set.name] = feature_set
        try:
            self._save_catalog()
        except BaseException:
            del self._feature_sets[feature_set.name]
            raise
        self.log.gate(self._engine(feature_set))

    def feature_set(self, name: str) -> FeatureSet:
        if name not in self._feature_sets:
            raise NotFound(
                f"no feature set named {name!r} (materialized: {_names(self._feature_sets)})"
            )
        return self._feature_sets[name]

    def feature_sets(self) -> list[str]:
        return list(self._feature_sets)

    def _feature_steps(
        self, fs: FeatureSet, rows: list[tuple[str, int, dict[str, Any]]]
    ) -> list[Step]:
        names = [fs.dataset, *fs.sources()]
        schemas = {n: self.dataset(n).schema for n in names}
        keys = {n: self.dataset(n).key for n in names}
        times = [row[fs.timestamp] for name, _, row in rows if name == fs.dataset]
        ts = to_nanos(pd.Series(times, dtype=object if not times else None), fs.timestamp_format)
        # History may come in any order (never refused as late): windows keep what it needs.
        extra = max(0, disorder(np.asarray(ts, dtype="int64")) - fs.lateness_ns)
        plan = FeaturePlan(fs, keys[fs.dataset], schemas, keys, extra_lateness=extra)
        return plan.steps()

    def _records(self, rows: list[tuple[str, int, dict[str, Any]]], events: str) -> list[Record]:
        return [
            (EVENT, seq, (op, row, {})) if name == events else (SOURCE, seq, (name, op, row))
            for seq, (name, op, row) in enumerate(rows)
        ]

    def _run(self, plan: Plan, records: list[Record], key: tuple[Any, ...]) -> list[Record]:
        """The job's results, run again only when the log or the catalog changed.

        The last results of each feature set and model are kept until then (so comparing two
        models reads each model's job once, not once per read), and no longer: a push or a
        catalog change drops them all, so at most one result per name is held.
        """
        version = (self.log.store.next_seq(), json.dumps(self._catalog_key(), default=str))
        self._results = {k: kept for k, kept in self._results.items() if kept[0] == version}
        if key not in self._results:
            self._results[key] = (version, self.run(plan, records))
        return self._results[key][1]

    def run(self, plan: Plan, records: list[Record]) -> list[Record]:
        """Run a plan as a Flink job (on the mini-cluster, or the ``jobmanager``'s cluster),
        checking that it made a result for every record it had to."""
        from rtml.backends.flink.job import run_job

        made = run_job(plan, records, self.path / "jobs", self.parallelism, self.config)
        for kind, wanted in expected(plan, records).items():
            missing = wanted - {seq for k, seq, _ in made if k == kind}
            if missing:
                raise RtmlError(
                    f"the Flink job gave no result for {len(missing)} of {len(wanted)} records "
                    f"(log positions {sorted(missing)[:10]}): nothing is lost in the store, "
                    f"read again to run the job again"
                )
        return made

    def _catalog_key(self) -> dict[str, Any]:
        return {n: (d["paused"], d["paused_from"]) for n, d in self._deployments.items()}

    def feature_job(self, name: str) -> tuple[Plan, list[Record]]:
        """What :meth:`features` runs on Flink: the plan and the records it reads."""
        fs = self.feature_set(name)
        rows = arrival_order(self.log, fs.dataset, fs.sources())
        plan = Plan(self._feature_steps(fs, rows), fs.dataset, fs.sources())
        return plan, self._records(rows, fs.dataset)

    def features(self, name: str) -> pd.DataFrame:
        """The feature values of every record of the feature set's dataset, in arrival order
        (one Flink job over the log)."""
        made = self._run(*self.feature_job(name), ("features", name))
        return self.feature_frame(name, made)

    def feature_frame(self, name: str, made: list[Record]) -> pd.DataFrame:
        """The feature values in what a feature job made: key and one column per feature."""
        fs = self.feature_set(name)
        rows = [r[2][1] for r in made if r[0] == EVENT]
        key = self.dataset(fs.dataset).key
        columns = [key, *(f.name for f in fs.features)]
        frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
        for f in fs.features:
            if isinstance(f, WindowFeature):  # typed as the local engine types them
                frame[f.name] = window_column(f, frame[f.name].tolist())
        return frame

    # ---- deployments ---------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
        predict_only: bool = False,
    ) -> FlinkDeployment:
        check_deploy_call(name, model, labels, pretrain, exists=name in self._deployments)
        events = check_inputs_and_labels(
            name,
            inputs,
            labels,
            self._feature_sets.get(inputs.source),
            self._schema_of,
            key_of=lambda n: self.dataset(n).key,
        )
        check_input_names(name, inputs, labels, events)
        if labels is not None and labels.dataset == events:
            raise SpecError(
                f"deployment {name!r}: on Flink, labels come from a dataset of their own, "
                f"not from the inputs' dataset {events!r}"
            )
        if labels is not None:
            check_label_type(name, model, labels, self._schema_of(labels.dataset))
            check_awaiting_labels(
                name,
                model,
                labels,
                self.log.labels_awaiting_events(events, labels, self.log.store.next_seq()),
                self.dataset(labels.dataset).key,
            )
        model.build()  # a model that cannot be built is refused here, not inside the job
        self._deployments[name] = {
            "model": model,
            "inputs": inputs,
            "labels": labels,
            "pretrain": pretrain,
            "predict_only": predict_only,
            "deployed_at": self.log.store.next_seq(),
            "paused": [],
            "paused_from": None,
        }
        try:
            self._save_catalog()
        except BaseException:
            del self._deployments[name]
            raise
        return FlinkDeployment(self, name)

    def deployment(self, name: str) -> FlinkDeployment:
        if name not in self._deployments:
            raise NotFound(f"no deployment named {name!r} (existing: {_names(self._deployments)})")
        return FlinkDeployment(self, name)

    def deployments(self) -> list[str]:
        return list(self._deployments)

    def _set_paused(self, name: str, paused: bool) -> None:
        d = self._deployments[name]
        now = self.log.store.next_seq()
        if paused and d["paused_from"] is None:
            d["paused_from"] = now
        elif not paused and d["paused_from"] is not None:
            d["paused"].append((d["paused_from"], now))
            d["paused_from"] = None
        self._save_catalog()

    def _delete(self, name: str) -> None:
        self._deployments.pop(name, None)
        self._save_catalog()

    def _model_results(self, name: str) -> list[Record]:
        return self._run(*self.model_job(name), ("model", name))

    def model_job(
        self, name: str, probes: Sequence[dict[str, Any]] = ()
    ) -> tuple[Plan, list[Record]]:
        """What a deployment's reads run on Flink: the plan and the records it reads (ending
        with ``probes``, records to score without learning, each on its own, for
        :meth:`FlinkDeployment.predict_many`)."""
        self.deployment(name)  # NotFound, naming the deployments there are
        d = self._deployments[name]
        inputs: Inputs = d["inputs"]
        labels: Labels | None = d["labels"]
        fs = self._feature_sets.get(inputs.source)
        events = fs.dataset if fs is not None else inputs.source
        sources = tuple(
            dict.fromkeys([*(fs.sources() if fs else ()), *([labels.dataset] if labels else [])])
        )
        rows = arrival_order(self.log, events, sources)
        steps = self._feature_steps(fs, rows) if fs is not None else []
        paused = list(d["paused"])
        if d["paused_from"] is not None:
            paused.append((d["paused_from"], self.log.store.next_seq() + 1))
        steps.append(
            ModelStep(
                name=name,
                spec=d["model"],
                inputs=inputs,
                labels=labels,
                key_column=self.dataset(events).key,
                timestamp=fs.timestamp if fs is not None else None,
                deployed_at=d["deployed_at"],
                paused=tuple(paused),
                held_from=d["paused_from"],
                pretrain=d["pretrain"],
                predict_only=d["predict_only"],
                text_classes=labels is not None
                and holds_text(labels, self._schema_of(labels.dataset)),
                label_key=self.dataset(labels.dataset).key if labels else "",
                awaiting=None
                if labels is None
                else self.log.labels_awaiting_events(events, labels, d["deployed_at"]),
            )
        )
        records = self._records(rows, events)
        after = self.log.store.next_seq()  # the operation a probe is scored at: after the log
        records += [(PROBE, len(records) + i, (after, dict(p), {})) for i, p in enumerate(probes)]
        return Plan(steps, events, sources), records


class FlinkDeployment(Deployment):
    """A model deployed on Flink: a keyed process function holding the model in keyed state.

    Its outputs and metrics are read from the job's results over the whole log (kept until
    the log or the deployment changes); :meth:`predict` runs a job that ends with the record.
    """

    def __init__(self, backend: FlinkBackend, name: str) -> None:
        self.name = name
        self._backend = backend

    def __repr__(self) -> str:
        return f"<FlinkDeployment {self.name!r}>"

    @property
    def labels(self) -> Labels | None:
        """Where its labels come from (as deployed)."""
        labels: Labels | None = self._backend._deployments[self.name]["labels"]
        return labels

    def outputs(self) -> pd.DataFrame:
        rows = [r[2] for r in self._backend._model_results(self.name) if r[0] == OUTPUT]
        if not rows:
            return pd.DataFrame(columns=OUTPUT_COLUMNS)
        frame = pd.DataFrame(rows)
        frame["class_probabilities"] = pd.Series(
            [
                probabilities_of(t, c)
                for t, c in zip(
                    frame["class_probabilities"].tolist(),
                    frame["predicted_class"].tolist(),
                    strict=True,
                )
            ],
            dtype=object,
        )
        return frame[OUTPUT_COLUMNS]

    def labelled(self) -> pd.DataFrame:
        """The labelled predictions in the order their labels joined: ``y``, ``score`` and
        ``predicted_class``."""
        pairs = [r[2] for r in self._backend._model_results(self.name) if r[0] == LABELLED]
        return pd.DataFrame(pairs, columns=LABELLED_COLUMNS)

    def evaluate(self, metric: str, window: int = 1000) -> pd.DataFrame:
        return evaluate_pairs(metric, window, self.labelled(), self.name)

    def predict(self, record: dict[str, Any]) -> Prediction:
        (answer,) = self._answers([record])
        return answer

    def predict_many(self, records: Records) -> pd.DataFrame:
        """One job scores them all: each record a probe at the end of the log, previewed by
        the window steps (the probes do not see each other) and answered by the model."""
        rows, index = records_and_index(records)
        return predictions_frame(self._answers(rows) if rows else [], index)

    def _answers(self, records: list[dict[str, Any]]) -> list[Prediction]:
        self._backend.deployment(self.name)  # NotFound once deleted
        inputs = self._backend._deployments[self.name]["inputs"]
        records = prediction_records(self._backend, self.name, inputs, records)
        made = self._backend.run(*self._backend.model_job(self.name, probes=records))
        # run() checked that every probe has its answer; they come back in log order.
        return [Prediction(r[2]) for r in made if r[0] == ANSWER]

    def pause(self) -> None:
        self._backend._set_paused(self.name, True)

    def resume(self) -> None:
        if self.name not in self._backend._deployments:
            raise RtmlError(f"deployment {self.name!r} was deleted")
        self._backend._set_paused(self.name, False)

    def delete(self) -> None:
        self._backend._delete(self.name)
