"""The Flink backend's datasets: the local engine's durable, validated store, used as the log.

Pushes are checked (schema, keys, lateness for the feature sets Flink computes, the features
each record gives on its own), written
atomically and never lost exactly as on the local engine; this store computes nothing itself.
A job reads the datasets it needs from here in arrival order (:func:`arrival_order`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from rtml.backends.base import Inputs
from rtml.backends.local.backend import LocalBackend
from rtml.backends.local.dataset import LocalDataset
from rtml.backends.local.labels import Learner
from rtml.backends.local.model_inputs import not_a_number_error
from rtml.backends.local.schema import conform
from rtml.backends.local.store import quote
from rtml.backends.local.value_kinds import dtype_kind
from rtml.errors import FeatureRowsError
from rtml.features.engine import FeatureEngine
from rtml.features.timestamps import to_nanos

__all__ = ["LogBackend", "arrival_order"]


class LogBackend(LocalBackend):
    """A local store whose pushes are also checked by ``gates`` (the lateness of the feature
    sets materialized on Flink) and whose history closes when ``readers`` says a dataset is
    read."""

    def __init__(
        self,
        path: str,
        readers: Callable[[str], bool],
        learners: Callable[[str], list[Learner]] = lambda dataset: [],
        scorers: Callable[[str], list[tuple[str, Inputs]]] = lambda source: [],
    ) -> None:
        self.gates: dict[str, FeatureEngine] = {}
        self.readers = readers
        self.learners = learners
        self.scorers = scorers  # the deployments reading a source: (name, inputs)
        super().__init__(path=path)

    def gate(self, engine: FeatureEngine) -> None:
        """Refuse records of ``engine``'s dataset that it would refuse as late; its watermark
        starts at the latest event time stored."""
        fs = engine.feature_set
        table = self.dataset(fs.dataset).table
        top = self.store.con.execute(
            f"SELECT max({quote(fs.timestamp)}) FROM {quote(table)}"
        ).fetchone()
        if top is not None and top[0] is not None:
            engine.advance(int(to_nanos(pd.Series([top[0]]), fs.timestamp_format)[0]))
        self.gates[fs.name] = engine

    def lateness_engines(self) -> list[FeatureEngine]:
        return list(self.gates.values())

    def label_learners(self, dataset: str) -> list[Learner]:
        # The deployments run on Flink; the log's own (none) would miss them.
        return self.learners(dataset)

    def _propagate(
        self, dataset: LocalDataset, frame: pd.DataFrame, seq: int, history: bool
    ) -> None:
        super()._propagate(dataset, frame, seq, history)
        for engine in self.gates.values():
            fs = engine.feature_set
            if fs.dataset == dataset.name and len(frame):
                # Records a SQL feature or a UDF fails for are refused here, by row, as on the
                # local engine; accepted, they would fail the feature set's job at every read.
                alone = engine.from_records_alone(frame)
                self._check_numbers(fs.name, alone)
                engine.advance(int(engine.event_times(frame).max()))

    def _check_numbers(self, source: str, alone: pd.DataFrame) -> None:
        """Records whose feature a deployment reads as a number but is not (a UDF that gave
        text) are refused by row, as the local engine refuses them; accepted, they would fail
        the deployment's job at every read."""
        failures: dict[int, tuple[str, str]] = {}
        for name, inputs in self.scorers(source):
            for column in inputs.numerical:
                if column not in alone.columns or dtype_kind(alone[column].dtype) is not None:
                    continue  # a window's value, or a column of numbers, booleans or times
                error = not_a_number_error(name, column, alone[column].tolist())
                for row, failure in error.failures.items():
                    failures.setdefault(row, failure)
        if failures:
            row, (column, why) = min(failures.items())
            raise FeatureRowsError(f"feature {column!r}, row {row}: {why}", failures)

    def history_open(self, name: str) -> bool:
        return not self.readers(name) and super().history_open(name)


def arrival_order(
    store: LocalBackend, events: str, sources: tuple[str, ...] = ()
) -> list[tuple[str, int, dict[str, Any]]]:
    """The records of ``events`` and ``sources`` as ``(dataset, operation, row)`` in the order
    the local engine processes them: the sources' history, the dataset's history, then every
    live push in the order it came (rows in push order)."""
    # The events' own dataset is read as events only (a deployment's labels come from a
    # dataset of their own).
    others = tuple(s for s in sources if s != events)
    ordered = store.arrival_pushes(events, others)
    wanted = {events, *others}
    rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for name in wanted:
        dataset = store.dataset(name)
        stored = store.store.con.execute(
            f"SELECT * FROM {quote(dataset.table)} ORDER BY rowid"
        ).fetchdf()
        ops_of = stored.pop("_rtml_seq").tolist()
        frame = conform(stored, dataset.schema) if len(stored) else stored
        columns = [frame[c].tolist() for c in frame.columns]
        names = list(frame.columns)
        for op, values in zip(ops_of, zip(*columns, strict=True), strict=True):
            rows.setdefault((name, int(op)), []).append(dict(zip(names, values, strict=True)))
    return [(name, op, row) for op, name, _ in ordered for row in rows.get((name, op), [])]
