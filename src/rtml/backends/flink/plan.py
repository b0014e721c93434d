"""What a Flink job computes, as plain Python steps (no PyFlink here).

A job reads one stream: the records of the datasets it needs, in the order they arrived (the
log order of DESIGN.md section 2), each numbered by its position ``seq``. Records travel as
tuples ``(kind, seq, payload)``:

- ``EVENT`` ``(op, row, joined)``: a record of the feature set's (or deployment's) dataset;
  ``op`` is the store operation that brought it, ``row`` its values (features are added as the
  record passes the stages), ``joined`` the values of joined sources found for it;
- ``PROBE``: an event to score without learning or storing anything (``Deployment.predict``);
- ``SOURCE`` ``(dataset, op, row)``: a record of a joined dataset (labels, say);
- ``UPDATE`` ``(group, by_key, event_key, values)``: a joined value that arrived after its
  event, sent to the window group that holds the event;
- ``OUTPUT`` / ``LABELLED`` / ``ANSWER``: what a deployment makes (an output row, a
  ``(y, score)`` pair, a probe's prediction).

Each step is keyed (``key(record)``) and turns ``(state of that key, record)`` into records.
Flink runs every keyed step in ``seq`` order per key (:mod:`rtml.backends.flink.job`), so the
steps see exactly the order the local engine sees, whatever the parallelism. :func:`run_plan`
runs the same steps in one process, in order: the reference the Flink job is tested against.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rtml.backends.base import Inputs, Labels
from rtml.backends.local.deployment import LocalDeployment
from rtml.backends.local.schema import SQL_TYPES, Column, conform
from rtml.features.engine import FeatureEngine, kind_of
from rtml.features.featureset import FeatureSet
from rtml.features.sql_eval import evaluate_sql_row
from rtml.features.timestamps import nanos_of
from rtml.features.window_state import Group, record_key
from rtml.models.base import ModelSpec
from rtml.nulls import or_none, python_value

__all__ = [
    "FeaturePlan",
    "ModelStep",
    "Piece",
    "Plan",
    "Record",
    "in_log_order",
    "passes",
    "pieces",
    "run_plan",
    "stable_hash",
    "through_step",
]

EVENT, PROBE, SOURCE, UPDATE = "e", "p", "s", "u"
OUTPUT, LABELLED, ANSWER = "o", "l", "a"

Record = tuple[str, int, Any]
# What a step is sent at parallelism 2 and more: (key bucket, whether the records wait for
# the watermark, records in the order they were made).
Piece = tuple[int, bool, list[Record]]


@dataclass
class RowStep:
    """The row-wise features (SQL, UDF) of one stage, computed on each event."""

    engine: FeatureEngine
    stage: int
    schema: dict[str, Column]

    def __post_init__(self) -> None:
        self.sql, self.others, _ = self.engine.stages[self.stage]
        self.types = {c: SQL_TYPES[column.type] for c, column in self.schema.items()}

    def apply(self, record: Record) -> Record:
        kind, seq, payload = record
        if kind not in (EVENT, PROBE):
            return record
        op, row, joined = payload
        values = None
        if not self.others:  # SQL only: one query on the record's values, no DataFrame
            types = {c: self.types.get(c) or kind_of(v) for c, v in row.items()}
            values = evaluate_sql_row(self.sql, row, types)
        if values is not None:
            made = dict(zip((f.name for f in self.sql), values, strict=True))
        else:
            columns = self.engine.row_stage(self.stage, one_row_frame(row, self.schema))
            made = {name: python_value(np.asarray(v)[0]) for name, v in columns.items()}
        return kind, seq, (op, {**row, **made}, joined)

    def apply_many(self, records: list[Record]) -> list[Record]:
        """:meth:`apply` on many records, in their order, with one query per set of fields
        (the records of one dataset share theirs; a probe may lack some): the local engine's
        batch path, at a fraction of a query per record."""
        out = list(records)
        batches: dict[tuple[str, ...], list[int]] = {}
        for i, (kind, _, payload) in enumerate(records):
            if kind in (EVENT, PROBE):
                batches.setdefault(tuple(payload[1]), []).append(i)
        for positions in batches.values():
            rows = [records[i][2][1] for i in positions]
            columns = self.engine.row_stage(self.stage, rows_frame(rows, self.schema))
            made = {name: np.asarray(values) for name, values in columns.items()}
            for n, i in enumerate(positions):
                kind, seq, (op, row, joined) = records[i]
                values = {name: python_value(column[n]) for name, column in made.items()}
                out[i] = (kind, seq, (op, {**row, **values}, joined))
        return out


@dataclass
class JoinStep:
    """Joins a source dataset (labels) to events by the event key, for window group ``index``.

    A source value that comes before its event waits here and travels with the event; one
    that comes after is sent as an ``UPDATE`` to the window that holds the event.
    """

    index: int
    by: tuple[str, ...]
    event_key: str
    source: str
    source_key: str
    source_columns: tuple[str, ...]

    # It reads the events and its own source only (see :func:`takes`).
    def key(self, record: Record) -> Hashable:
        kind, _, payload = record
        if kind == SOURCE:
            return or_none(payload[2].get(self.source_key))
        return or_none(payload[1].get(self.event_key))

    def step(self, state: dict[str, Any] | None, record: Record) -> tuple[Any, list[Record]]:
        kind, seq, payload = record
        state = state if state is not None else {}
        if kind in (EVENT, PROBE):
            op, row, joined = payload
            if "values" in state:
                joined = {**joined, self.index: state["values"]}
            if kind == EVENT:
                state["by"] = record_key(row, self.by)
            return state, [(kind, seq, (op, row, joined))]
        row = payload[2]
        values = tuple(row.get(c) for c in self.source_columns)
        state["values"] = values
        if "by" in state:
            event = or_none(row.get(self.source_key))
            return state, [(UPDATE, seq, (self.index, state["by"], event, values))]
        return state, []


@dataclass
class WindowStep:
    """Window group ``index`` of a feature set: keyed by its ``by`` columns."""

    engine: FeatureEngine
    index: int
    timestamp: str
    timestamp_format: str
    extra_lateness: int = 0
    group: Group = field(init=False)

    def __post_init__(self) -> None:
        self.group = self.engine.group(self.index)
        self.names = [f.name for f in self.engine.members(self.index)]

    # It reads the events and the updates of its own join (the step just before it).
    def key(self, record: Record) -> Hashable:
        kind, _, payload = record
        if kind == UPDATE:
            return payload[1]
        return record_key(payload[1], self.group.by)

    def step(self, state: Any, record: Record) -> tuple[Any, list[Record]]:
        kind, seq, payload = record
        window, watermark = state if state is not None else (self.engine.group(self.index), None)
        if kind == UPDATE:
            _, _, event, values = payload
            if not window.join(event, values):
                window.pending[event] = values
            return (window, watermark), []
        op, row, joined = payload
        key = record_key(row, self.group.by)
        if self.index in joined:
            window.pending[or_none(row.get(self.group.columns[0]))] = joined[self.index]
        t = nanos_of(row.get(self.timestamp), self.timestamp_format)
        if t is None:
            raise ValueError(f"event {seq}: field {self.timestamp!r} is null")
        stored = [row.get(c) for c in self.group.columns]
        # A probe is previewed: the window and the watermark stay as they were, so probes
        # scored in one job do not see each other.
        commit = kind == EVENT
        values = self.engine.key_step(
            self.index, window, key, stored, t, watermark, self.extra_lateness, commit=commit
        )
        if commit:
            watermark = t if watermark is None else max(watermark, t)
        row = {**row, **dict(zip(self.names, values, strict=True))}
        return (window, watermark), [(kind, seq, (op, row, joined))]


@dataclass
class ModelStep:
    """A deployment: predicts on each event, learns when its label arrives (one model, so one
    key). Reuses :class:`LocalDeployment`'s prequential logic on one record at a time."""

    name: str
    spec: ModelSpec
    inputs: Inputs
    labels: Labels | None
    key_column: str
    timestamp: str | None
    deployed_at: int  # the store operation of the deploy: later events are scored
    paused: tuple[tuple[int, int], ...] = ()  # [from, to) operations while paused
    # The operation of a pause not resumed yet: labels since are held, not learned. A label
    # pushed during a pause that ended is learned where it comes, which leaves the model as
    # the local engine's learning it at the resume does: nothing else reaches the model between.
    held_from: int | None = None
    pretrain: bool = False
    predict_only: bool = False
    label_key: str = ""
    text_classes: bool = False  # the label field holds text (LocalDeployment.text_classes)
    # Labels stored before the deploy whose event was not (label_key and the field): they wait
    # for their events as on the local engine (LocalBackend.labels_awaiting_events).
    awaiting: pd.DataFrame | None = None

    def key(self, record: Record) -> Hashable:
        return 0

    def is_paused(self, op: int) -> bool:
        return any(lo <= op < hi for lo, hi in self.paused)

    def _new(self) -> dict[str, Any]:
        deployment = LocalDeployment(
            None,  # type: ignore[arg-type]  # no store: outputs travel as records
            self.name,
            self.spec,
            self.inputs,
            self.labels,
            self.key_column,
            self.timestamp,
        )
        deployment.predict_only = self.predict_only
        deployment.text_classes = self.text_classes
        if self.awaiting is not None and len(self.awaiting):
            deployment.on_labels(self.awaiting, self.label_key)
        return {"deployment": deployment, "rows": [], "labels": {}, "trained": False}

    def step(self, state: dict[str, Any] | None, record: Record) -> tuple[Any, list[Record]]:
        kind, seq, payload = record
        state = state if state is not None else self._new()
        deployment: LocalDeployment = state["deployment"]
        if kind in (EVENT, PROBE):
            op, row, _ = payload
            if kind == EVENT and op < self.deployed_at:
                if self.pretrain:
                    state["rows"].append(row)
                return state, []
            self._pretrain(state)
            if kind == PROBE:
                prediction = deployment.answer(deployment.features_of(row))
                return state, [(ANSWER, seq, dict(prediction))]
            if self.is_paused(op):
                return state, []
            output = deployment.on_record(row)
            made: list[Record] = [] if output is None else [(OUTPUT, seq, output)]
            return state, made + self._labelled(deployment, seq)
        # A label: the only source a deployment reads (see :func:`takes`).
        assert self.labels is not None
        _, op, row = payload
        if op < self.deployed_at:
            if self.pretrain:
                state["labels"][or_none(row.get(self.label_key))] = row.get(self.labels.field)
            return state, []
        self._pretrain(state)
        if self.held_from is not None and op >= self.held_from:
            return state, []
        deployment.on_label(or_none(row.get(self.label_key)), row.get(self.labels.field))
        return state, self._labelled(deployment, seq)

    def _pretrain(self, state: dict[str, Any]) -> None:
        """Learn the history before the deploy once, as the local engine does at deploy."""
        if state["trained"]:
            return
        state["trained"] = True
        rows, labels = state.pop("rows"), state.pop("labels")
        known = [r for r in rows if or_none(r.get(self.key_column)) in labels]
        if known and self.labels is not None:
            frame = pd.DataFrame(known)
            y = [labels[or_none(k)] for k in frame[self.key_column].tolist()]
            state["deployment"].learn(frame, y)

    @staticmethod
    def _labelled(deployment: LocalDeployment, seq: int) -> list[Record]:
        pairs, deployment.new_labelled = deployment.new_labelled, []
        return [(LABELLED, seq, (y, float(score), c, k)) for y, score, c, k in pairs]


Step = RowStep | JoinStep | WindowStep | ModelStep


@dataclass
class Plan:
    """The steps of one job, and the datasets its stream carries (events' and sources')."""

    steps: list[Step]
    events: str
    sources: tuple[str, ...] = ()


@dataclass
class FeaturePlan:
    """The steps computing a feature set, in an order that respects its dependencies."""

    feature_set: FeatureSet
    key: str
    schemas: dict[str, dict[str, Column]]
    keys: dict[str, str]
    extra_lateness: int = 0

    def steps(self) -> list[Step]:
        fs = self.feature_set
        engine = FeatureEngine(fs, key=self.key)
        steps: list[Step] = []
        for stage, (sql, rows, groups) in enumerate(engine.stages):
            if sql or rows:
                steps.append(RowStep(engine, stage, self.schemas[fs.dataset]))
            for index in groups:
                group = engine.group(index)
                if group.source is not None:
                    steps.append(
                        JoinStep(
                            index=index,
                            by=group.by,
                            event_key=self.key,
                            source=group.source,
                            source_key=self.keys[group.source],
                            source_columns=group.source_columns,
                        )
                    )
                steps.append(
                    WindowStep(
                        engine, index, fs.timestamp, fs.timestamp_format, self.extra_lateness
                    )
                )
        return steps


def one_row_frame(row: dict[str, Any], schema: dict[str, Column]) -> pd.DataFrame:
    """One record as a one-row DataFrame with the dataset's column types (what a push of that
    record would hold); computed columns keep the types of their values."""
    return rows_frame([row], schema)


def rows_frame(rows: list[dict[str, Any]], schema: dict[str, Column]) -> pd.DataFrame:
    """Records with the same fields as a DataFrame with the dataset's column types (what a
    push of those records would hold); computed columns keep the types of their values."""
    frame = pd.DataFrame(rows)
    base = [c for c in schema if c in frame.columns]
    typed = conform(frame[base], {c: schema[c] for c in base})
    for c in base:
        frame[c] = typed[c]
    return frame


def expected(plan: Plan, records: Iterable[Record]) -> dict[str, set[int]]:
    """The positions at which a run of ``plan`` over ``records`` must have made a record of
    each kind (a feature set: every event; a deployment: an output for every event it scores,
    an answer for the probe), to check that nothing was lost on the way."""
    last = plan.steps[-1] if plan.steps else None
    found: dict[str, set[int]] = {}
    for kind, seq, payload in records:
        if kind == PROBE and isinstance(last, ModelStep):
            found.setdefault(ANSWER, set()).add(seq)
        elif kind == EVENT and isinstance(last, ModelStep):
            op = payload[0]
            if op >= last.deployed_at and not last.is_paused(op):
                found.setdefault(OUTPUT, set()).add(seq)
        elif kind in (EVENT, PROBE):
            found.setdefault(kind, set()).add(seq)
    return found


def takes(step: Step, dataset: str) -> bool:
    """Whether ``step`` reads the records of ``dataset`` from the stream's sources."""
    if isinstance(step, JoinStep):
        return step.source == dataset
    if isinstance(step, ModelStep):
        return step.labels is not None and step.labels.dataset == dataset
    return False


def passes(step: Step, record: Record) -> bool:
    """Whether ``step`` hands ``record`` on untouched, reading nothing of it: a source record
    it does not read, a joined value meant for a window (by the step that holds it), or a
    result. A job whose steps all see one stream sends every record through every step."""
    kind, _, payload = record
    if kind == SOURCE:
        return not takes(step, payload[0])
    if kind == UPDATE:
        return not isinstance(step, WindowStep)
    return kind not in (EVENT, PROBE)


def through_step(step: Step, states: dict[Hashable, Any], chunk: list[Record]) -> list[Record]:
    """What ``step`` makes of a chunk of the one stream a job at parallelism 1 sends through
    every step, in log order: what it :func:`passes` as it came, and for each record it reads,
    what it made of it (then the record itself, if a source's: a later step may read it too).
    ``states`` holds the step's state of each key, updated in place; a row step keeps none and
    computes the chunk's events with one query.
    """
    if isinstance(step, RowStep):
        return step.apply_many(chunk)  # events only: every other record stays as it is
    out: list[Record] = []
    for record in chunk:
        if passes(step, record):
            out.append(record)
            continue
        key = step.key(record)
        states[key], made = step.step(states.get(key), record)
        out += made
        if record[0] == SOURCE:
            out.append(record)
    return out


def stable_hash(key: Hashable) -> int:
    """A key's hash, the same in every process: Python's ``hash`` of text is salted per
    process, and the subtasks of a job are processes that must agree on where a key lives.
    Keys that are equal in a step's state (``1``, ``1.0`` and ``True``) hash alike.

    >>> stable_hash("card-7") == stable_hash("card-7"), stable_hash(1) == stable_hash(1.0)
    (True, True)
    """

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
            number = float(value)
            return int(number) if number.is_integer() else number
        if isinstance(value, numbers.Integral):
            return int(value)
        return value

    return zlib.crc32(repr(plain(key)).encode())


def pieces(step: Step | None, records: list[Record], buckets: int) -> list[Piece]:
    """``records`` split for ``step`` at parallelism 2 and more: the records it reads by key in
    one piece per key bucket (of ``buckets``), to wait for the watermark and run in ``seq``
    order; the rest (what it :func:`passes`, all of a row step's, all when no step follows)
    in one piece that goes straight through. Each piece keeps the records' order.
    """
    spread = int(records[0][1]) % buckets if records else 0  # unkeyed work, spread by position
    if step is None or isinstance(step, RowStep):
        return [(spread, False, records)] if records else []
    keyed: dict[int, list[Record]] = {}
    straight: list[Record] = []
    for record in records:
        if passes(step, record):
            straight.append(record)
        else:
            keyed.setdefault(stable_hash(step.key(record)) % buckets, []).append(record)
    made: list[Piece] = [(bucket, True, part) for bucket, part in keyed.items()]
    return [(spread, False, straight), *made] if straight else made


def in_log_order(records: Iterable[Record]) -> list[Record]:
    """A job's results in log order: by position, and at one position an event before the
    output, labelled pair and answer made of it."""
    order = {kind: i for i, kind in enumerate((EVENT, OUTPUT, LABELLED, ANSWER))}
    return sorted(records, key=lambda r: (r[1], order.get(r[0], len(order))))


def run_plan(plan: Plan, records: Iterable[Record]) -> list[Record]:
    """The plan's steps over ``records`` (in ``seq`` order), one record at a time, in this
    process: what the Flink job computes, wired the same way (events enter at the first step,
    a source's records at each step that reads them), for reference and tests."""
    states: list[dict[Hashable, Any]] = [{} for _ in plan.steps]

    def one(i: int, record: Record) -> list[Record]:
        step = plan.steps[i]
        if isinstance(step, RowStep):
            return [step.apply(record)]
        key = step.key(record)
        states[i][key], out = step.step(states[i].get(key), record)
        return out

    def through(start: int, batch: list[Record]) -> list[Record]:
        for i in range(start, len(plan.steps)):
            batch = [made for record in batch for made in one(i, record)]
        return batch

    made: list[Record] = []
    for record in records:
        if record[0] != SOURCE:
            made += through(0, [record])
            continue
        for i, step in enumerate(plan.steps):
            if takes(step, record[2][0]):
                made += through(i + 1, one(i, record))
    return made
