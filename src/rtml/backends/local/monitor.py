"""A drift monitor on the local engine: a :class:`~rtml.drift.DriftTracker` fed every push of
what it watches, the changes it finds stored like outputs (exactly once)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from rtml.backends.base import DriftMonitor
from rtml.column_types import type_of
from rtml.drift.categorical import CategoryTracker
from rtml.drift.monitor import Monitor
from rtml.drift.tracker import DriftTracker
from rtml.errors import SpecError

if TYPE_CHECKING:
    from rtml.backends.local.backend import LocalBackend

__all__ = [
    "CATEGORY_CHANGE_COLUMNS",
    "CHANGE_COLUMNS",
    "SCORE_TRACE_COLUMNS",
    "LocalMonitor",
    "change_columns",
    "watched_key",
]

# A stored change: where it was found, the record's key and value, ADWIN's window after it;
# for categories, the value as text and the test that found it.
CHANGE_COLUMNS = ["row", "key", "value", "mean", "width"]
CATEGORY_CHANGE_COLUMNS = ["row", "key", "value", "distance", "p_value"]
# A deployment's score drift (``deployment.drift()``): every output, changes flagged.
SCORE_TRACE_COLUMNS = [*CHANGE_COLUMNS, "drift"]


def change_columns(spec: Monitor) -> list[str]:
    """The columns of the changes ``spec``'s monitor finds."""
    return CATEGORY_CHANGE_COLUMNS if spec.categorical else CHANGE_COLUMNS


class LocalMonitor(DriftMonitor):
    """A registered :class:`~rtml.drift.Monitor`: its tracker and the changes not yet stored.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> monitor = backend.watch(rtml.drift.Monitor("x_drift", source="tx", fields=["x"]))
    >>> _ = tx.push([{"id": i, "x": float(i >= 500)} for i in range(1000)])
    >>> status = monitor.status()
    >>> first = int(monitor.changes()["row"].iloc[0])
    >>> status["records"], status["changes"] >= 1, 500 <= first < 600
    (1000, True, True)
    """

    def __init__(self, backend: LocalBackend, spec: Monitor, key: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.key = key
        self.deleted = False
        self._backend = backend
        source = f"monitor {spec.name!r} of {spec.stream}"
        self.tracker: DriftTracker | CategoryTracker
        if spec.categorical:
            self.tracker = CategoryTracker(
                spec.fields[0],
                key=key,
                reference=spec.reference,
                window=spec.window,
                alpha=spec.alpha,
                clock=spec.clock,
                missing=spec.missing,
                time=spec.time,
                source=source,
            )
        else:
            self.tracker = DriftTracker(
                spec.fields,
                key=key,
                delta=spec.delta,
                clock=spec.clock,
                reference=int(spec.reference),  # a number: durations are categorical's
                variance=spec.variance,
                source=source,
            )

    @property
    def table(self) -> str:
        return f"drift__{self.name}"

    def on_rows(self, frame: pd.DataFrame) -> pd.DataFrame | None:
        """Read the next records of the watched stream; the changes found among them, for the
        backend to store (``None`` when there are none)."""
        trace = self.tracker.update(frame)
        found = trace[trace["drift"]]
        if not len(found):
            return None
        found = found.rename(columns={self.key: "key"})[change_columns(self.spec)]
        if self.spec.categorical:  # one type for the stored column, whatever the categories
            text = pd.Series([None if v is None else str(v) for v in found["value"]], dtype=object)
            found = found.assign(value=text.to_numpy())
        return found.reset_index(drop=True)

    def state(self) -> dict[str, Any]:
        return {"tracker": self.tracker}

    def restore(self, state: dict[str, Any]) -> None:
        self.tracker = state["tracker"]

    def status(self) -> dict[str, Any]:
        """Records read, scored and waiting, changes found, and the detector now: ADWIN's
        ``mean`` and ``width``, or the latest test's ``distance``, ``p_value`` and window."""
        t = self.tracker
        return {
            "name": self.name,
            "watches": self.spec.stream,
            "records": t.rows,
            "scored": t.rows_scored,
            "waiting": t.waiting,
            "changes": t.changes,
            **t.status(),
            "details": t.details or None,
        }

    def changes(self) -> pd.DataFrame:
        """Every change found, in the order found: ``row`` (the record's position in the
        watched stream), ``key``, ``value``, and ADWIN's ``mean`` and ``width`` after it (a
        categorical monitor: the test's ``distance`` and ``p_value``)."""
        self._backend.flush()
        stored = self._backend.store.read(self.table)
        return stored if not stored.empty else pd.DataFrame(columns=change_columns(self.spec))

    def delete(self) -> None:
        self._backend.delete_monitor(self.name)


def watched_key(backend: LocalBackend, spec: Monitor) -> str:
    """The key column of the stream ``spec`` watches, once its source and fields are checked
    against what the backend holds."""
    if spec.deployment is not None:
        backend.deployment(spec.deployment)  # NotFound when it does not exist
        return "key"
    assert spec.source is not None
    if spec.source in backend.feature_sets():
        fs = backend.feature_set(spec.source)
        dataset = backend.dataset(fs.dataset)
        columns = [*dataset.schema, *(f.name for f in fs.features)]
    else:
        dataset = backend.dataset(spec.source)  # NotFound when neither exists
        columns = list(dataset.schema)
    missing = [f for f in (*spec.fields, *([spec.time] if spec.time else [])) if f not in columns]
    if missing:
        raise SpecError(
            f"monitor {spec.name!r}: {spec.source!r} has no field {missing[0]!r} "
            f"(fields: {', '.join(columns)})"
        )
    if not spec.categorical:
        # ADWIN reads numbers: on text or times it would refuse every later push to the
        # dataset (its rows reach the monitor inside the push), so it is refused here.
        for field in spec.fields:
            kind = type_of(dataset.schema.get(field))
            if kind in ("string", "timestamp"):
                raise SpecError(
                    f"monitor {spec.name!r}: field {field!r} of {spec.source!r} holds {kind} "
                    f"values, and a numeric monitor reads numbers"
                    f"{' (watch it with categorical=True)' if kind == 'string' else ''}"
                )
    return dataset.key
