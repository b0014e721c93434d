"""The embedded local engine: datasets, materialized feature sets and deployed models, durable
in a DuckDB store (see :mod:`rtml.backends.local.store`) or in memory."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from rtml.backends.base import Backend, Inputs, Labels
from rtml.backends.checks import (
    already_materialized,
    check_deploy_call,
    check_input_names,
    check_inputs_and_labels,
)
from rtml.backends.local.dataset import LocalDataset, checked_history, describe
from rtml.backends.local.deployment import LocalDeployment
from rtml.backends.local.labels import (
    Learner,
    check_awaiting_labels,
    check_label_type,
    holds_text,
    label_problems,
    learner,
)
from rtml.backends.local.monitor import LocalMonitor, watched_key
from rtml.backends.local.schema import SQL_TYPES, Column, Problem, conform, dataset_schema
from rtml.backends.local.store import Op, Store, quote
from rtml.backends.local.value_kinds import column_kind, dtype_kind, kind_of, kind_of_type
from rtml.drift.monitor import Monitor
from rtml.errors import FeatureRowsError, NotFound, SchemaError, SpecError
from rtml.features.engine import EventTimeError, FeatureEngine, LateRecordsError
from rtml.features.featureset import FeatureSet
from rtml.features.sql_check import check_sql_features
from rtml.frames import stack_rows
from rtml.models.base import ModelSpec
from rtml.nulls import or_none, python_value
from rtml.spec import reading_stored
from rtml.whole_numbers import is_whole

__all__ = ["LocalBackend"]


@dataclass
class _Materialized:
    spec: FeatureSet
    engine: FeatureEngine
    # The kind of value (number, text, bool, time) each feature has given, once read from
    # the stored values; see rtml.backends.local.value_kinds.
    kinds: dict[str, str] | None = None

    @property
    def table(self) -> str:
        return f"fs__{self.spec.name}"


_PLURAL = {"number": "numbers", "text": "text", "bool": "booleans", "time": "times"}


def _names(items: dict[str, Any]) -> str:
    return ", ".join(sorted(items)) or "none"


def _model_from_json(data: dict[str, Any]) -> ModelSpec:
    from rtml.plugins import spec_from_dict

    try:
        with reading_stored():
            spec = spec_from_dict("models", data)
    except ValueError as exc:
        raise SpecError(f"a deployment in the store: {exc}") from None
    assert isinstance(spec, ModelSpec)
    return spec


class LocalBackend(Backend):
    """The embedded engine: no server, no account; state under ``path`` (``$RTML_HOME``, else
    ``./.rtml``), or in memory with ``path=":memory:"``.

    Every accepted push is durable when ``push`` returns. In-memory state (feature windows,
    models, pending joins) is checkpointed every ``checkpoint_every`` records; reopening the
    store restores the last checkpoint and replays what came after, so every record counts
    exactly once even after a crash. One process owns a store at a time. With
    ``output_retention=N`` each deployment keeps only its latest N outputs and labelled
    predictions (the metrics then cover those).

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

    def __init__(
        self,
        path: str | None = None,
        checkpoint_every: int = 100_000,
        output_retention: int | None = None,
    ) -> None:
        if output_retention is not None and not is_whole(output_retention, 1):
            raise ValueError(
                f"output_retention must be None or a whole number >= 1, got {output_retention!r}"
            )
        if not is_whole(checkpoint_every, 1):
            raise ValueError(
                f"checkpoint_every must be a whole number of records >= 1, got {checkpoint_every!r}"
            )
        self.path = path if path is not None else os.environ.get("RTML_HOME", ".rtml")
        self.checkpoint_every = checkpoint_every
        self.output_retention = output_retention
        self.store = Store(self.path)
        self._objects: dict[int, Any] = {}  # specs of this process's operations, by sequence
        # A memory store's checkpoint, pickled: each recovery unpickles its own copy.
        self._memory_checkpoint: bytes | None = None
        try:
            self._recover()
        except BaseException:
            self.store.close()
            raise

    def close(self) -> None:
        """Write what waits in memory, checkpoint, and release the store."""
        if getattr(self, "store", None) is not None and not self.store.closed:
            self.checkpoint()
            self.store.close()

    def __repr__(self) -> str:
        return f"<LocalBackend {self.path!r}>"

    # ---- recovery -------------------------------------------------------------------------
    def _reset(self) -> None:
        self._datasets: dict[str, LocalDataset] = {}
        self._feature_sets: dict[str, _Materialized] = {}
        self._deployments: dict[str, LocalDeployment] = {}
        self._monitors: dict[str, LocalMonitor] = {}
        self._replaying = False
        self._since_checkpoint = 0
        # Derived rows (feature values, outputs, labelled pairs) wait here and are written in
        # batches; operations after ``derived_through`` have theirs recomputed on recovery.
        self._derived: list[tuple[str, pd.DataFrame, int]] = []
        self._derived_rows = 0
        self._write_derived = True

    @contextlib.contextmanager
    def _operation(
        self, op: str, name: str, detail: Any = None, history: bool = False
    ) -> Iterator[int]:
        """A logged operation that changes the in-memory state as it runs (its sequence number
        is yielded): if it fails, nothing of it was stored, so that state is rebuilt."""
        try:
            with self.store.operation(op, name, detail, history=history) as seq:
                yield seq
        except BaseException:
            self._derived, self._derived_rows = [], 0
            self._recover()
            raise

    def _recover(self) -> None:
        """Rebuild the in-memory state: the last checkpoint, then the operations after it."""
        self._reset()
        checkpoint = (
            pickle.loads(self._memory_checkpoint)
            if self._memory_checkpoint is not None
            else self.store.read_checkpoint()
        )
        covered = checkpoint["seq"] if checkpoint else 0
        derived_through = self.store.meta("derived_through")
        self._replaying = True
        try:
            restored = checkpoint is None
            for op in self.store.ops():
                if not restored and op.seq > covered:
                    self._restore(checkpoint)
                    restored = True
                self._write_derived = op.seq > derived_through
                self._apply(op, replay_effects=op.seq > covered)
            if not restored:
                self._restore(checkpoint)
        finally:
            self._replaying = False
            self._write_derived = True
        self.flush()

    def _restore(self, checkpoint: dict[str, Any] | None) -> None:
        if checkpoint is None:
            return
        for name, state in checkpoint["features"].items():
            if name in self._feature_sets:
                self._feature_sets[name].engine.restore(state)
        for name, state in checkpoint["deployments"].items():
            if name in self._deployments:
                self._deployments[name].restore(state)
        for name, state in checkpoint.get("monitors", {}).items():
            if name in self._monitors:
                self._monitors[name].restore(state)

    def _apply(self, op: Op, replay_effects: bool) -> None:
        """Redo one logged operation in memory (its records are already stored)."""
        detail = op.detail
        if op.op == "create_dataset":
            schema = {c: Column.parse(t) for c, t in detail["schema"].items()}
            self._datasets[op.name] = LocalDataset(self, op.name, detail["key"], schema)
        elif op.op == "push" and replay_effects:
            dataset = self._datasets[op.name]
            self._propagate(dataset, dataset.to_rows(op.seq), op.seq, op.history)
        elif op.op == "materialize":
            with reading_stored():
                spec = self._objects.get(op.seq) or FeatureSet.from_dict(detail)
            assert isinstance(spec, FeatureSet)
            self._feature_sets[spec.name] = (
                self._backfill(spec, before=op.seq)
                if replay_effects
                else _Materialized(spec, self._engine(spec))
            )
        elif op.op == "deploy":
            deployment = self._objects.get(op.seq) or self._deployment_from(op.name, detail)
            deployment.predict_only = bool(detail.get("predict_only", False))
            self._deployments[op.name] = deployment
            if replay_effects and detail.get("pretrain"):
                self._pretrain(deployment, before=op.seq)
            if replay_effects and deployment.labels is not None:
                events = self._events_of(deployment.inputs)
                stored = self.labels_awaiting_events(events, deployment.labels, op.seq)
                self._await_labels(deployment, stored)
        elif op.op in ("pause", "resume") and op.name in self._deployments:
            deployment = self._deployments[op.name]
            deployment.set_paused(op.op == "pause")
            self._flush(deployment, op.seq)  # what a resume learned, as when it was made
        elif op.op == "delete" and op.name in self._deployments:
            self._deployments.pop(op.name).deleted = True
        elif op.op == "watch":
            with reading_stored():
                spec = Monitor.from_dict(detail["monitor"])
            monitor = LocalMonitor(self, spec, detail["key"])
            self._monitors[op.name] = monitor
            if replay_effects:
                self._backfill_monitor(monitor, before=op.seq)
        elif op.op == "unwatch" and op.name in self._monitors:
            self._monitors.pop(op.name).deleted = True

    # ---- checkpoints ----------------------------------------------------------------------
    def flush(self) -> None:
        """Write the derived rows waiting in memory (reads call this first)."""
        last = self.store.next_seq() - 1
        if not self._derived and self.store.meta("derived_through") >= last:
            return
        by_table: dict[str, list[pd.DataFrame]] = {}
        for table, frame, seq in self._derived:
            by_table.setdefault(table, []).append(frame.assign(_rtml_seq=seq))
        with self.store.transaction():
            for table, frames in by_table.items():
                # Derived tables are rtml's layout, not a user's schema: a store from an older
                # rtml gains the columns this one writes (a labelled pair's predicted class).
                self.store.append(table, stack_rows(frames), add_columns=True)
            if self.output_retention is not None:
                for d in self._deployments.values():
                    for table in (d.outputs_table, d.labelled_table):
                        self.store.keep_last(table, self.output_retention)
            self.store.set_meta("derived_through", last)
        self._derived, self._derived_rows = [], 0

    def _emit(self, table: str, frame: pd.DataFrame, seq: int) -> None:
        if not self._write_derived or not len(frame):
            return
        self._derived.append((table, frame, seq))
        self._derived_rows += len(frame)

    def _maybe_flush(self) -> None:
        # After an operation committed, never inside one (DuckDB does not nest transactions).
        if self._derived_rows >= 50_000 or len(self._derived) >= 2_000:
            self.flush()

    def checkpoint(self) -> None:
        """Save the in-memory state now (it is also saved every ``checkpoint_every`` records)."""
        self.flush()
        state = {
            "seq": self.store.next_seq() - 1,
            "features": {n: m.engine.snapshot() for n, m in self._feature_sets.items()},
            "deployments": {n: d.state() for n, d in self._deployments.items()},
            "monitors": {n: m.state() for n, m in self._monitors.items()},
        }
        if self.store.directory is None:
            # Kept as bytes, not objects: a restored model goes on learning, and a second
            # recovery from the same checkpoint must not start from what it became (a memory
            # store's model drifted after each refused push but the first).
            self._memory_checkpoint = pickle.dumps(state, protocol=5)
        else:
            self.store.write_checkpoint(state)
        self._since_checkpoint = 0

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
        columns = dataset_schema(name, key, df, schema)
        reserved = [c for c in columns if c.startswith("_rtml")]
        if reserved:
            raise SchemaError(f"dataset {name!r}: column names starting with _rtml are reserved")
        frame = checked_history(name, key, columns, df)
        history = conform(frame, columns) if len(frame) else None
        detail = {
            "key": key,
            "schema": {c: t.text for c, t in columns.items()},
        }
        dataset = LocalDataset(self, name, key, columns)
        with self.store.operation("create_dataset", name, detail):
            self.store.create_table(
                dataset.table, {c: SQL_TYPES[t.type] for c, t in columns.items()}, key=key
            )
        self._datasets[name] = dataset
        if history is not None:
            self._write_push(dataset, history, history=True)
        return dataset

    def dataset(self, name: str) -> LocalDataset:
        if name not in self._datasets:
            raise NotFound(f"no dataset named {name!r} (existing: {_names(self._datasets)})")
        return self._datasets[name]

    def datasets(self) -> list[str]:
        return list(self._datasets)

    def lateness_engines(self) -> list[FeatureEngine]:
        """The engines whose allowed lateness a push must respect (one per feature set)."""
        return [m.engine for m in self._feature_sets.values()]

    def label_learners(self, dataset: str) -> list[Learner]:
        """The deployments that learn from ``dataset``, as :func:`label_problems` reads them."""
        return [
            learner(d.name, d.spec, d.labels.field)
            for d in self._deployments.values()
            if d.labels is not None and d.labels.dataset == dataset
        ]

    def precheck(self, dataset: LocalDataset, frame: pd.DataFrame) -> list[Problem]:
        """Records the feature sets would refuse (too late) and labels a deployment's model
        cannot learn, as problems of the push."""
        problems = label_problems(frame, self.label_learners(dataset.name))
        for engine in self.lateness_engines():
            fs = engine.feature_set
            if fs.dataset != dataset.name or fs.timestamp not in frame.columns:
                continue
            try:
                engine.check(frame)
            except LateRecordsError as exc:
                problems += [Problem(r, fs.timestamp, exc.reason) for r in exc.rows]
            except EventTimeError as exc:
                problems += [Problem(r, fs.timestamp, why) for r, why in exc.reasons.items()]
            except (SchemaError, TypeError, ValueError):
                continue  # a wrong type or null here is reported by the schema check
        return problems

    def accept(
        self,
        dataset: LocalDataset,
        frame: pd.DataFrame,
        letters: list[tuple[dict[str, Any], str]],
    ) -> None:
        """Store validated records (and refused ones as dead letters) in one operation."""
        if not len(frame) and not letters:
            return
        self._write_push(dataset, frame, history=False, letters=letters)

    def history_open(self, name: str) -> bool:
        """Whether dataset ``name`` may still take history: no live push, nothing reads it."""
        readers = [m.spec for m in self._feature_sets.values()]
        if any(name == fs.dataset or name in fs.sources() for fs in readers):
            return False
        for d in self._deployments.values():
            if d.inputs.source == name or (d.labels is not None and d.labels.dataset == name):
                return False
        row = self.store.con.execute(
            "SELECT count(*) FROM rtml_ops WHERE op = 'push' AND name = ? AND NOT history",
            [name],
        ).fetchone()
        return not (row and row[0])

    def accept_history(self, dataset: LocalDataset, frame: pd.DataFrame) -> None:
        self._write_push(dataset, frame, history=True)

    def _write_push(
        self,
        dataset: LocalDataset,
        frame: pd.DataFrame,
        history: bool,
        letters: list[tuple[dict[str, Any], str]] | None = None,
    ) -> None:
        with self._operation("push", dataset.name, history=history) as seq:
            self.store.append(dataset.table, frame, seq)
            for record, reason in letters or []:
                self.store.con.execute(
                    "INSERT INTO rtml_dead_letters VALUES (?, ?, ?, ?)",
                    [seq, dataset.name, json.dumps(record), reason],
                )
            self._propagate(dataset, frame, seq, history)
        self._since_checkpoint += len(frame)
        if self._since_checkpoint >= self.checkpoint_every:
            self.checkpoint()
        else:
            self._maybe_flush()

    def _propagate(
        self, dataset: LocalDataset, frame: pd.DataFrame, seq: int, history: bool
    ) -> None:
        """A push's effects: joined sources, feature values, predictions, learning."""
        if not len(frame):
            return
        for m in self._feature_sets.values():
            if dataset.name in m.spec.sources():
                m.engine.apply_source(dataset.name, frame, dataset.key)
        for m in self._feature_sets.values():
            if m.spec.dataset == dataset.name:
                values = m.engine.process(frame, enforce_lateness=not history)
                self._keep_kinds(m, values, dataset)
                self._emit(m.table, values, seq)
                self._feed(m.spec.name, frame.join(values.drop(columns=[dataset.key])), seq)
        self._feed(dataset.name, frame, seq)
        for d in self._deployments.values():
            if d.labels is not None and d.labels.dataset == dataset.name:
                d.on_labels(frame, dataset.key)
                self._flush(d, seq)

    def _feed(self, source: str, frame: pd.DataFrame, seq: int) -> None:
        for d in self._deployments.values():
            if d.inputs.source == source:
                d.on_inputs(frame)
                self._flush(d, seq)
        for m in self._monitors.values():
            if m.spec.source == source:
                self._watch_rows(m, frame, seq)

    def _flush(self, deployment: LocalDeployment, seq: int) -> None:
        outputs, labelled = deployment.take_writes()
        if outputs is not None:
            self._emit(deployment.outputs_table, outputs, seq)
            for m in self._monitors.values():
                if m.spec.deployment == deployment.name:
                    self._watch_rows(m, outputs, seq)
        if labelled is not None:
            self._emit(deployment.labelled_table, labelled, seq)

    def _watch_rows(self, monitor: LocalMonitor, frame: pd.DataFrame, seq: int) -> None:
        changes = monitor.on_rows(frame)
        if changes is not None:
            self._emit(monitor.table, changes, seq)

    # ---- drift monitors ------------------------------------------------------------------
    def watch(self, monitor: Monitor) -> LocalMonitor:
        """Keep a drift monitor up to date from now on, after reading what is stored.

        It reads a dataset's records (with their feature values, for a feature set), or a
        deployment's outputs, in the order stored; see :class:`rtml.drift.Monitor`."""
        if not isinstance(monitor, Monitor):
            raise SpecError(f"watch takes an rtml.drift.Monitor, got {type(monitor).__name__}")
        if monitor.name in self._monitors:
            raise SpecError(f"monitor {monitor.name!r} already exists")
        key = watched_key(self, monitor)
        local = LocalMonitor(self, monitor, key)
        # What it reads first must be in the store, so a replay reads the same rows.
        self.flush()
        detail = {"monitor": monitor.model_dump(mode="json"), "key": key}
        with self._operation("watch", monitor.name, detail) as seq:
            self._backfill_monitor(local, before=seq)
            self._monitors[monitor.name] = local
        self.checkpoint()
        return local

    def _backfill_monitor(self, monitor: LocalMonitor, before: int) -> None:
        spec = monitor.spec
        if spec.deployment is not None:
            rows = self._stored_before(self.deployment(spec.deployment).outputs_table, before)
        else:
            assert spec.source is not None
            rows = self._rows_with_features(spec.source, before)
        if len(rows):
            self._watch_rows(monitor, rows, before)

    def monitor(self, name: str) -> LocalMonitor:
        if name not in self._monitors:
            raise NotFound(f"no monitor named {name!r} (existing: {_names(self._monitors)})")
        return self._monitors[name]

    def monitors(self) -> list[str]:
        return list(self._monitors)

    def delete_monitor(self, name: str) -> None:
        monitor = self.monitor(name)
        self.flush()
        with self.store.operation("unwatch", name):
            self.store.drop(monitor.table)
        self._monitors.pop(name)
        monitor.deleted = True

    # ---- feature sets --------------------------------------------------------------------
    def _engine(self, spec: FeatureSet) -> FeatureEngine:
        return FeatureEngine(spec, key=self.dataset(spec.dataset).key)

    def materialize(self, feature_set: FeatureSet) -> None:
        existing = self._feature_sets.get(getattr(feature_set, "name", ""))
        if already_materialized(feature_set, existing.spec if existing else None):
            return
        dataset = self.dataset(feature_set.dataset)
        sources = {s: self.dataset(s).schema for s in feature_set.sources()}
        feature_set.check_columns(dataset.schema, sources)
        # DuckDB runs them, on the columns as stored
        check_sql_features(feature_set, {c: SQL_TYPES[t.type] for c, t in dataset.schema.items()})
        detail = self._json_of(feature_set, f"feature set {feature_set.name!r}")
        with self._operation("materialize", feature_set.name, detail) as seq:
            self._objects[seq] = feature_set
            m = self._backfill(feature_set, before=seq)
            self._feature_sets[feature_set.name] = m
        self.checkpoint()  # a backfill is costly to replay

    def _json_of(self, spec: Any, what: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = spec.model_dump(mode="json")
        except Exception as exc:
            if self.store.directory is None:
                return {}  # a memory store never reopens: the object itself is kept
            raise SpecError(f"{what} cannot be stored: {exc}") from None
        return data

    def arrival_pushes(
        self, events: str, sources: tuple[str, ...], before: int | None = None
    ) -> list[tuple[int, str, bool]]:
        """The pushes of ``events`` and ``sources`` (before operation ``before``) as ``(seq,
        dataset, history)``, in the order a feature set over them processes them: the
        sources' history first, then the dataset's history, then the live pushes as they came."""
        ops = self.store.con.execute(
            "SELECT seq, name, history FROM rtml_ops WHERE op = 'push' AND seq < ? ORDER BY seq",
            [before if before is not None else self.store.next_seq()],
        ).fetchall()
        ordered = [o for o in ops if o[2] and o[1] in sources]
        ordered += [o for o in ops if o[2] and o[1] == events]
        ordered += [o for o in ops if not o[2] and (o[1] in sources or o[1] == events)]
        return ordered

    def _backfill(self, spec: FeatureSet, before: int) -> _Materialized:
        """Compute a feature set over the stored pushes before operation ``before``, in the
        order they arrived: sources' history first, then the dataset's history, then live."""
        m = _Materialized(spec, self._engine(spec))
        sources = spec.sources()
        for seq, name, history in self.arrival_pushes(spec.dataset, sources, before):
            dataset = self.dataset(name)
            frame = dataset.to_rows(seq)
            if name in sources:
                m.engine.apply_source(name, frame, dataset.key)
            if name == spec.dataset:
                # History arrives in row order and is never refused as late.
                try:
                    values = m.engine.process(frame, enforce_lateness=not history)
                except FeatureRowsError as exc:
                    row, (feature, why) = min(exc.failures.items())
                    more = len(exc.failures) - 1
                    raise FeatureRowsError(
                        f"{_at_stored(spec, dataset, frame, row)}feature {feature!r}: {why}"
                        + (f" (and {more} more stored record(s))" if more else ""),
                    ) from exc
                self._keep_kinds(m, values, dataset, backfill=True)
                self._emit(m.table, values, seq)
        return m

    def _keep_kinds(
        self, m: _Materialized, values: pd.DataFrame, dataset: LocalDataset, backfill: bool = False
    ) -> None:
        """Refuse feature values of another kind than the feature gave before (a UDF's text
        after its numbers): stored, they failed every later write of derived rows, or were
        silently converted. Replaying the log, only learn the kinds."""
        if m.kinds is None:
            m.kinds = self._stored_kinds(m)
        for name, dtype in values.dtypes.items():
            column = str(name)
            if column == dataset.key or (dtype_kind(dtype) or "") == m.kinds.get(column):
                continue  # a column of numbers where numbers were (most pushes): nothing to read
            series = values[column]
            kind, other = column_kind(series)
            known = m.kinds.setdefault(column, kind) if kind is not None else None
            if kind is None or (known == kind and other is None) or self._replaying:
                continue
            before = f"{_PLURAL[known or kind]} before it" + (
                " in the push" if known == kind else ""
            )
            if backfill:
                row = other if other is not None else int(series.notna().to_numpy().argmax())
                value = python_value(series.iloc[row])
                raise SpecError(
                    _at_stored(m.spec, dataset, values, row)
                    + _other_kind(column, m.spec, value, before)
                )
            # Every record of another kind is refused by row (or set aside as a dead letter).
            failures = {
                row: (column, _other_kind(column, m.spec, python_value(v), before))
                for row, v in enumerate(series.tolist())
                if kind_of(v) not in (None, known)
            }
            shown = [Problem(row, name, why) for row, (name, why) in failures.items()]
            raise FeatureRowsError(describe(dataset.name, shown, []), failures)

    def _stored_kinds(self, m: _Materialized) -> dict[str, str]:
        """The kind of each feature's stored values (those written, then those waiting)."""
        types = self.store.column_types(m.table)
        held = self.store.has_values(m.table, list(types))
        kinds = {c: k for c, t in types.items() if held[c] and (k := kind_of_type(t))}
        for table, frame, _ in self._derived:
            if table == m.table:
                for column in frame.columns:
                    kind, _ = column_kind(frame[column])
                    if kind is not None:
                        kinds.setdefault(column, kind)
        return kinds

    def features(self, name: str, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The feature values in the order computed (or ``limit`` rows from ``offset``)."""
        m = self._materialized(name)
        self.flush()
        stored = self.store.read(m.table, offset=offset, limit=limit)
        if stored.empty:
            columns = [self.dataset(m.spec.dataset).key, *(f.name for f in m.spec.features)]
            return pd.DataFrame(columns=columns)
        return stored

    def feature_sets(self) -> list[str]:
        return list(self._feature_sets)

    def feature_set(self, name: str) -> FeatureSet:
        """The definition of a materialized feature set."""
        return self._materialized(name).spec

    def feature_rows(self, name: str) -> int:
        """How many rows of feature values are stored (after writing what waits in memory)."""
        m = self._materialized(name)
        self.flush()
        return self.store.count(m.table)

    def feature_engine(self, name: str) -> FeatureEngine:
        """The live engine of a materialized feature set (state size, snapshots)."""
        return self._materialized(name).engine

    def _materialized(self, name: str) -> _Materialized:
        if name not in self._feature_sets:
            raise NotFound(
                f"no materialized feature set named {name!r} "
                f"(existing: {_names(self._feature_sets)})"
            )
        return self._feature_sets[name]

    def preview_rows(self, source: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each record with the feature values it would get now on its own, changing no state."""
        if source not in self._feature_sets:
            self.dataset(source)
            return [dict(r) for r in records]
        m = self._feature_sets[source]
        dataset = self.dataset(m.spec.dataset)
        types = {c: SQL_TYPES[t.type] for c, t in dataset.schema.items()}
        if len(records) <= 8:
            # A few records (a synchronous prediction): each on its own, without DataFrames.
            found = [m.engine.preview_record(r, types) for r in records]
            if all(values is not None for values in found):
                return [{**r, **v} for r, v in zip(records, found, strict=True)]  # type: ignore[dict-item]
        frame = pd.DataFrame.from_records(records, columns=list(dataset.schema))
        with contextlib.suppress(TypeError, ValueError):
            frame = conform(frame, dataset.schema)  # the dtypes a push would give them
        values = m.engine.preview(frame).drop(columns=[dataset.key]).to_dict("records")
        return [
            {**r, **{str(k): x for k, x in v.items()}} for r, v in zip(records, values, strict=True)
        ]

    # ---- deployments ---------------------------------------------------------------------
    def deploy(
        self,
        name: str,
        model: ModelSpec,
        inputs: Inputs,
        labels: Labels | None = None,
        pretrain: bool = False,
        predict_only: bool = False,
    ) -> LocalDeployment:
        check_deploy_call(name, model, labels, pretrain, exists=name in self._deployments)
        deployment = self._new_deployment(name, model, inputs, labels)
        events = self._events_of(inputs)
        check_input_names(name, inputs, labels, events)
        waiting = None  # read once: the deploy's operation is the store's next one
        if labels is not None:
            check_label_type(name, model, labels, self.dataset(labels.dataset).schema)
            if pretrain:
                self._check_stored_labels(name, model, labels)
            waiting = self.labels_awaiting_events(events, labels, self.store.next_seq())
            check_awaiting_labels(name, model, labels, waiting, self.dataset(labels.dataset).key)
        deployment.predict_only = predict_only
        detail = {
            "predict_only": predict_only,
            "model": self._json_of(model, f"model of {name!r}"),
            "inputs": inputs.model_dump(mode="json"),
            "labels": None if labels is None else labels.model_dump(mode="json"),
            "pretrain": pretrain,
        }
        with self._operation("deploy", name, detail) as seq:
            self._objects[seq] = deployment
            if pretrain:
                self._pretrain(deployment, before=seq)
            self._await_labels(deployment, waiting)
            self._deployments[name] = deployment
        self.checkpoint()
        return deployment

    def _check_stored_labels(self, name: str, model: ModelSpec, labels: Labels) -> None:
        """``pretrain`` learns the stored labels: refuse the deploy if its model cannot."""
        dataset = self.dataset(labels.dataset)
        stored = self._stored_before(dataset.table, self.store.next_seq())
        if not len(stored):
            return
        problems = label_problems(stored, [learner(name, model, labels.field)])
        if problems:
            key = python_value(or_none(stored[dataset.key].iloc[problems[0].row]))
            raise SpecError(
                f"cannot pretrain on {labels.dataset!r}, key {key!r}: {problems[0].reason} "
                f"({len(problems)} such label(s))"
            )

    def labels_awaiting_events(self, events: str, labels: Labels, before: int) -> pd.DataFrame:
        """The labels stored before operation ``before`` whose event was not stored in
        ``events`` before it (the labels' key and field, in arrival order). A deployment made
        at ``before`` waits for their events, as it does for a label pushed early after it,
        instead of taking them for history it never sees.

        >>> import rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> _ = backend.create_dataset("tx", key="id", df=pd.DataFrame({"id": [1], "x": [0.5]}))
        >>> _ = backend.create_dataset("lb", key="id", df=pd.DataFrame({"id": [1, 2], "y": [0, 1]}))
        >>> backend.labels_awaiting_events("tx", rtml.Labels("lb", field="y"), before=10)
           id  y
        0   2  1
        """
        label_set, event_set = self.dataset(labels.dataset), self.dataset(events)
        key, field = quote(label_set.key), quote(labels.field)
        if event_set.name == label_set.name or not self.store.has_table(label_set.table):
            return pd.DataFrame(columns=[label_set.key, labels.field])
        unmatched = ""
        if self.store.has_table(event_set.table):
            unmatched = (
                f"AND NOT EXISTS (SELECT 1 FROM {quote(event_set.table)} AS e "
                f"WHERE e._rtml_seq < $before AND e.{quote(event_set.key)} = l.{key})"
            )
        return self.store.con.execute(
            f"SELECT l.{key}, l.{field} FROM {quote(label_set.table)} AS l "
            f"WHERE l._rtml_seq < $before {unmatched} ORDER BY l.rowid",
            {"before": before},
        ).fetchdf()

    def _events_of(self, inputs: Inputs) -> str:
        """The dataset whose records a deployment on ``inputs`` scores."""
        m = self._feature_sets.get(inputs.source)
        return m.spec.dataset if m is not None else inputs.source

    def _await_labels(self, deployment: LocalDeployment, waiting: pd.DataFrame | None) -> None:
        """``deployment`` waits for the events of the labels stored before it (see
        :meth:`labels_awaiting_events`)."""
        if waiting is not None and len(waiting) and deployment.labels is not None:
            deployment.on_labels(waiting, self.dataset(deployment.labels.dataset).key)

    def _new_deployment(
        self, name: str, model: ModelSpec, inputs: Inputs, labels: Labels | None
    ) -> LocalDeployment:
        m = self._feature_sets.get(inputs.source)
        fs = m.spec if m is not None else None
        events = check_inputs_and_labels(
            name,
            inputs,
            labels,
            fs,
            lambda n: self.dataset(n).schema,
            key_of=lambda n: self.dataset(n).key,
        )
        dataset = self.dataset(events)
        timestamp = fs.timestamp if fs is not None else None
        deployment = LocalDeployment(self, name, model, inputs, labels, dataset.key, timestamp)
        if labels is not None:
            deployment.text_classes = holds_text(labels, self.dataset(labels.dataset).schema)
        return deployment

    def _deployment_from(self, name: str, detail: dict[str, Any]) -> LocalDeployment:
        labels = Labels(**detail["labels"]) if detail["labels"] else None
        inputs = Inputs(**detail["inputs"])
        return self._new_deployment(name, _model_from_json(detail["model"]), inputs, labels)

    def _pretrain(self, deployment: LocalDeployment, before: int) -> None:
        inputs, labels = deployment.inputs, deployment.labels
        assert labels is not None
        rows = self._rows_with_features(inputs.source, before)
        label_dataset = self.dataset(labels.dataset)
        label_frame = self._stored_before(label_dataset.table, before)
        if rows.empty or label_frame.empty:
            return
        joined = rows.merge(
            label_frame[[label_dataset.key, labels.field]],
            left_on=deployment.key,
            right_on=label_dataset.key,
            how="inner",
            suffixes=("", "__label"),
        )
        deployment.learn(joined, joined[labels.field])

    def _stored_before(self, table: str, before: int) -> pd.DataFrame:
        if not self.store.has_table(table):
            return pd.DataFrame()
        return self.store.con.execute(
            f"SELECT * EXCLUDE (_rtml_seq) FROM {quote(table)} WHERE _rtml_seq < ? ORDER BY rowid",
            [before],
        ).fetchdf()

    def _rows_with_features(self, source: str, before: int) -> pd.DataFrame:
        if source in self._datasets:
            return self._stored_before(self.dataset(source).table, before)
        m = self._materialized(source)
        dataset = self.dataset(m.spec.dataset)
        raw = self._stored_before(dataset.table, before)
        values = self._stored_before(m.table, before)
        if raw.empty or values.empty:
            return pd.DataFrame()
        return raw.merge(values, on=dataset.key, how="inner")

    def deployment(self, name: str) -> LocalDeployment:
        if name not in self._deployments:
            raise NotFound(f"no deployment named {name!r} (existing: {_names(self._deployments)})")
        return self._deployments[name]

    def deployments(self) -> list[str]:
        return list(self._deployments)

    def set_paused(self, name: str, paused: bool) -> None:
        deployment = self.deployment(name)
        with self._operation("pause" if paused else "resume", name) as seq:
            deployment.set_paused(paused)
            self._flush(deployment, seq)
        self._maybe_flush()

    def delete_deployment(self, name: str) -> None:
        deployment = self.deployment(name)
        watchers = sorted(n for n, m in self._monitors.items() if m.spec.deployment == name)
        if watchers:
            # A monitor follows the name: it would go on with a later deployment's scores
            # after this one's, and call the change of model a drift.
            raise SpecError(
                f"deployment {name!r} is watched by monitor(s) {', '.join(map(repr, watchers))}: "
                "delete them first (backend.monitor(name).delete())"
            )
        # Its outputs still waiting in memory are written first, then dropped with the rest:
        # written after the drop, they would make the tables again for a later deployment of
        # the same name.
        self.flush()
        with self.store.operation("delete", name):
            self.store.drop(deployment.outputs_table)
            self.store.drop(deployment.labelled_table)
        self._deployments.pop(name)
        deployment.deleted = True


def _at_stored(spec: FeatureSet, dataset: LocalDataset, frame: pd.DataFrame, row: int) -> str:
    """The start of a refusal naming a stored record by its key (a row number would be one
    within its push)."""
    k = python_value(frame[dataset.key].iloc[row])
    return (
        f"FeatureSet {spec.name!r}: at the record of {dataset.name!r} whose {dataset.key!r} "
        f"is {k!r}, "
    )


def _other_kind(column: str, spec: FeatureSet, value: Any, before: str) -> str:
    """Why a feature's value is refused: of another kind than ``before`` says it gave."""
    return (
        f"feature {column!r} of feature set {spec.name!r} gave {value!r} "
        f"({type(value).__name__}), but {before}: a feature keeps one kind of value"
    )
