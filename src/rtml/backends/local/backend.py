"""The embedded local engine: datasets, materialized feature sets and deployments in-process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rtml.backends.base import Backend, Inputs, Labels
from rtml.backends.local.dataset import LocalDataset, describe
from rtml.backends.local.deployment import LocalDeployment
from rtml.backends.local.schema import Column, Problem, conform, find_problems, infer_schema
from rtml.errors import BackendUnavailable, NotFound, SchemaError, SpecError
from rtml.features.engine import FeatureEngine, LateRecordsError
from rtml.features.featureset import FeatureSet
from rtml.models.base import ModelSpec

__all__ = ["LocalBackend"]


@dataclass
class _LogEntry:
    dataset: str
    frame: pd.DataFrame
    history: bool  # loaded with create_dataset: counts as arrived before any live push


@dataclass
class _Materialized:
    spec: FeatureSet
    engine: FeatureEngine
    frames: list[pd.DataFrame] = field(default_factory=list)


def _names(items: dict[str, Any]) -> str:
    return ", ".join(sorted(items)) or "none"


class LocalBackend(Backend):
    """The embedded engine: no server, no account.

    This version keeps its state in the process (``path=":memory:"``); the durable store under
    ``./.rtml`` is the next step of the local-backend work.

    >>> import pandas as pd, rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", df=pd.DataFrame(
    ...     {"id": [1, 2], "card": ["a", "a"], "ts": [0, 60], "amount": [5.0, 7.0]}))
    >>> backend.materialize(rtml.FeatureSet(name="f", dataset="tx", timestamp="ts", features=[
    ...     rtml.features.Aggregate("spend_1h", column="amount", op="sum", by="card",
    ...                             window="1h")]))
    >>> tx.push([{"id": 3, "card": "a", "ts": 120, "amount": 1.0}])
    1
    >>> backend.features("f")["spend_1h"].tolist()
    [5.0, 12.0, 13.0]
    """

    name = "local"

    def __init__(self, path: str | None = None) -> None:
        where = path if path is not None else os.environ.get("RTML_HOME", ".rtml")
        if where != ":memory:":
            raise BackendUnavailable(
                f"the durable local store ({where!r}) is not available in this version of rtml; "
                f"use rtml.connect('local', path=':memory:')"
            )
        self.path = where
        self._datasets: dict[str, LocalDataset] = {}
        self._log: list[_LogEntry] = []
        self._feature_sets: dict[str, _Materialized] = {}
        self._deployments: dict[str, LocalDeployment] = {}

    # ---- datasets ------------------------------------------------------------------------
    def create_dataset(
        self,
        name: str,
        key: str,
        df: pd.DataFrame | None = None,
        schema: dict[str, Any] | None = None,
    ) -> LocalDataset:
        if not name or not isinstance(name, str):
            raise SchemaError(f"a dataset needs a non-empty name, got {name!r}")
        if name in self._datasets:
            raise SchemaError(f"dataset {name!r} already exists; use backend.dataset({name!r})")
        if schema is not None:
            columns = {str(c): Column.parse(t) for c, t in schema.items()}
        elif df is not None:
            columns = infer_schema(df, key)
        else:
            raise SchemaError(
                f"dataset {name!r}: give a DataFrame (df=...) or a schema (schema=...)"
            )
        if key not in columns:
            raise SchemaError(
                f"dataset {name!r}: key {key!r} is not a column (columns: {', '.join(columns)})"
            )
        columns[key] = Column(columns[key].type, nullable=False)
        history = None
        if df is not None and len(df):
            frame = df.reset_index(drop=True)
            problems, whole = find_problems(frame, columns, key)
            if problems or whole:
                raise SchemaError(describe(name, problems, whole))
            history = conform(frame, columns)
        dataset = LocalDataset(name, key, columns, self._accept, self._precheck)
        self._datasets[name] = dataset
        if history is not None:
            dataset._append(history)
            self._log.append(_LogEntry(name, history, history=True))
        return dataset

    def dataset(self, name: str) -> LocalDataset:
        if name not in self._datasets:
            raise NotFound(f"no dataset named {name!r} (existing: {_names(self._datasets)})")
        return self._datasets[name]

    def datasets(self) -> list[str]:
        return list(self._datasets)

    def _precheck(self, dataset: LocalDataset, frame: pd.DataFrame) -> list[Problem]:
        problems: list[Problem] = []
        for m in self._feature_sets.values():
            if m.spec.dataset != dataset.name or m.spec.timestamp not in frame.columns:
                continue
            try:
                m.engine.check(frame)
            except LateRecordsError as exc:
                problems += [Problem(r, m.spec.timestamp, exc.reason) for r in exc.rows]
            except (SchemaError, TypeError, ValueError):
                continue  # a wrong type or null here is reported by the schema check
        return problems

    def _accept(self, dataset: LocalDataset, frame: pd.DataFrame) -> None:
        self._log.append(_LogEntry(dataset.name, frame, history=False))
        dataset._append(frame)
        try:
            self._propagate(dataset, frame)
        except Exception:
            # A feature or model failed on this push: take it back out and rebuild the state
            # from the log so that nothing of the refused push remains.
            self._log.pop()
            dataset._frames.pop()
            dataset._keys.difference_update(frame[dataset.key].tolist())
            for fs_name in list(self._feature_sets):
                self._feature_sets[fs_name] = self._replay(self._feature_sets[fs_name].spec)
            raise

    def _propagate(self, dataset: LocalDataset, frame: pd.DataFrame) -> None:
        for m in self._feature_sets.values():
            if dataset.name in m.spec.sources():
                m.engine.apply_source(dataset.name, frame, dataset.key)
        for m in self._feature_sets.values():
            if m.spec.dataset == dataset.name:
                values = m.engine.process(frame)
                m.frames.append(values)
                self._feed(m.spec.name, frame.join(values.drop(columns=[dataset.key])))
        self._feed(dataset.name, frame)
        for d in self._deployments.values():
            if d.labels is not None and d.labels.dataset == dataset.name:
                d.on_labels(frame, dataset.key)

    def _feed(self, source: str, frame: pd.DataFrame) -> None:
        for d in self._deployments.values():
            if d.inputs.source == source:
                d.on_inputs(frame)

    # ---- feature sets --------------------------------------------------------------------
    def materialize(self, feature_set: FeatureSet) -> None:
        if not isinstance(feature_set, FeatureSet):
            raise SpecError(f"materialize expects a FeatureSet, got {type(feature_set).__name__}")
        existing = self._feature_sets.get(feature_set.name)
        if existing is not None:
            if existing.spec == feature_set:
                return
            raise SpecError(
                f"feature set {feature_set.name!r} is already materialized with another definition"
            )
        dataset = self.dataset(feature_set.dataset)
        sources = {s: self.dataset(s).schema for s in feature_set.sources()}
        feature_set.check_columns(dataset.schema, sources)
        self._feature_sets[feature_set.name] = self._replay(feature_set)

    def _replay(self, feature_set: FeatureSet) -> _Materialized:
        """Compute a feature set over the log, in the order the records arrived."""
        dataset = self.dataset(feature_set.dataset)
        m = _Materialized(feature_set, FeatureEngine(feature_set, key=dataset.key))
        sources = feature_set.sources()
        # History loaded at creation counts as arrived before any live push; joined sources'
        # history first, so that history events see the labels known at load time.
        ordered = [e for e in self._log if e.history and e.dataset in sources]
        ordered += [e for e in self._log if e.history and e.dataset == feature_set.dataset]
        ordered += [e for e in self._log if not e.history]
        for entry in ordered:
            if entry.dataset in sources:
                m.engine.apply_source(entry.dataset, entry.frame, self.dataset(entry.dataset).key)
            if entry.dataset == feature_set.dataset:
                # History arrives in row order and is never refused as late: whatever its
                # disorder, the windows keep what it needs.
                m.frames.append(m.engine.process(entry.frame, enforce_lateness=not entry.history))
        return m

    def features(self, name: str) -> pd.DataFrame:
        m = self._materialized(name)
        if not m.frames:
            columns = [self.dataset(m.spec.dataset).key, *(f.name for f in m.spec.features)]
            return pd.DataFrame(columns=columns)
        return pd.concat(m.frames, ignore_index=True)

    def feature_sets(self) -> list[str]:
        return list(self._feature_sets)

    def feature_engine(self, name: str) -> FeatureEngine:
        """The live engine of a materialized feature set (state size, snapshots)."""
        return self._materialized(name).engine

    def _materialized(self, name: str) -> _Materialized:
        if name not in self._feature_sets:
            raise NotFound(
                f"no materialized feature set named {name!r} (existing: {_names(self._feature_sets)})"
            )
        return self._feature_sets[name]

    def preview_inputs(self, source: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record with the feature values it would get now, without changing any state."""
        if source in self._feature_sets:
            m = self._feature_sets[source]
            frame = pd.DataFrame([record])
            values = m.engine.preview(frame)
            return {**record, **{str(k): v for k, v in values.iloc[0].items()}}
        self.dataset(source)
        return dict(record)

    # ---- deployments ---------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
    ) -> LocalDeployment:
        if name in self._deployments:
            raise SpecError(f"deployment {name!r} already exists")
        if not isinstance(model, ModelSpec):
            raise SpecError(f"deploy expects a ModelSpec, got {type(model).__name__}")
        if inputs.source in self._feature_sets:
            fs = self._feature_sets[inputs.source].spec
            dataset = self.dataset(fs.dataset)
            available = {*dataset.schema, *(f.name for f in fs.features)}
            timestamp: str | None = fs.timestamp
        else:
            dataset = self.dataset(inputs.source)
            available, timestamp = set(dataset.schema), None
        unknown = [c for c in inputs.columns if c not in available]
        if unknown:
            raise SpecError(
                f"deployment {name!r}: input column(s) {', '.join(map(repr, unknown))} are not in "
                f"{inputs.source!r} (available: {', '.join(sorted(available))})"
            )
        if labels is not None and labels.field not in self.dataset(labels.dataset).schema:
            raise SpecError(
                f"deployment {name!r}: label field {labels.field!r} is not in dataset "
                f"{labels.dataset!r}"
            )
        deployment = LocalDeployment(self, name, model, inputs, labels, dataset.key, timestamp)
        if pretrain:
            self._pretrain(deployment, inputs, labels, dataset.key)
        self._deployments[name] = deployment
        return deployment

    def _pretrain(
        self, deployment: LocalDeployment, inputs: Inputs, labels: Labels | None, key: str
    ) -> None:
        if labels is None:
            raise SpecError(f"deployment {deployment.name!r}: pretrain needs labels")
        rows = (
            self.dataset(inputs.source).to_pandas()
            if inputs.source in self._datasets
            else self._with_raw(inputs.source)
        )
        label_frame = self.dataset(labels.dataset).to_pandas()
        label_key = self.dataset(labels.dataset).key
        joined = rows.merge(
            label_frame[[label_key, labels.field]], left_on=key, right_on=label_key, how="inner"
        )
        deployment.learn(joined, joined[labels.field])

    def _with_raw(self, feature_set: str) -> pd.DataFrame:
        m = self._materialized(feature_set)
        raw = self.dataset(m.spec.dataset).to_pandas()
        values = self.features(feature_set)
        return raw.join(values.drop(columns=[self.dataset(m.spec.dataset).key]))

    def deployment(self, name: str) -> LocalDeployment:
        if name not in self._deployments:
            raise NotFound(f"no deployment named {name!r} (existing: {_names(self._deployments)})")
        return self._deployments[name]

    def deployments(self) -> list[str]:
        return list(self._deployments)

    def forget_deployment(self, name: str) -> None:
        self._deployments.pop(name, None)
