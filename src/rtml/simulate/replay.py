"""``ReplaySimulator``: history replayed as a live stream, labels after their events."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from rtml.backends.base import Backend
from rtml.durations import parse_duration
from rtml.features.timestamps import time_problems, to_nanos
from rtml.simulate.base import SimulationResult, Simulator
from rtml.sources.base import DataSource
from rtml.whole_numbers import is_whole

__all__ = ["ReplaySimulator"]


class ReplaySimulator(Simulator):
    """Replays events (and their labels, ``label_delay`` later in event time) in time order.

    ``events`` and ``labels`` are DataFrames or bounded data sources (a CSV or Parquet file:
    :class:`~rtml.sources.FileSource`), read whole: the replay orders the stream by time first.

    ``label_delay`` is one duration for all labels, or per label: a column of ``labels`` (or a
    Series aligned with them) in seconds or timedeltas.

    Events and labels are merged into one stream ordered by event time (a label's time is its
    event's time plus the delay) and pushed in batches of ``batch_size`` records, each batch
    going to the dataset it belongs to. With ``order="exact"`` every run of events and labels
    is pushed in stream order (many small pushes when labels interleave finely); with
    ``order="batch"`` each batch pushes its events, then its labels (a label may then arrive up
    to one batch later than its time). ``start`` resumes a previous run at its position.

    >>> import pandas as pd, rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> _ = backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
    >>> _ = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    >>> events = pd.DataFrame({"id": [1, 2, 3], "ts": [0, 10, 20]})
    >>> labels = pd.DataFrame({"id": [1, 2, 3], "y": [0, 1, 0]})
    >>> sim = ReplaySimulator(events, "tx", timestamp="ts", labels=labels,
    ...                       labels_dataset="labels", label_delay="15s")
    >>> result = sim.run(backend, batch_size=2)
    >>> result.pushed, result.finished
    ({'tx': 3, 'labels': 3}, True)
    """

    def __init__(
        self,
        events: pd.DataFrame | DataSource,
        dataset: str,
        timestamp: str,
        labels: pd.DataFrame | DataSource | None = None,
        labels_dataset: str | None = None,
        label_delay: str | pd.Series = "0s",
        key: str | None = None,
        order: str = "exact",
    ) -> None:
        if order not in ("exact", "batch"):
            raise ValueError(f"order must be 'exact' or 'batch', got {order!r}")
        self.order = order
        if labels is not None and labels_dataset is None:
            raise ValueError("labels need labels_dataset: the dataset they are pushed to")
        events = _frame_of(events, f"replay into {dataset!r}: the events")
        if labels is not None:
            labels = _frame_of(labels, f"replay into {labels_dataset!r}: the labels")
        _need_column(events, timestamp, f"replay into {dataset!r}: the events")
        missing = np.flatnonzero(events[timestamp].isna().to_numpy()).tolist()
        if missing:
            raise ValueError(
                f"replay into {dataset!r}: the events' time {timestamp!r} is missing at "
                f"row(s) {', '.join(map(str, missing[:10]))}"
                f"{' ...' if len(missing) > 10 else ''}: a replay places each event at its time"
            )
        beyond = time_problems(events[timestamp], "auto")
        if beyond:
            row, reason = next(iter(beyond.items()))
            raise ValueError(
                f"replay into {dataset!r}: the events' time {timestamp!r} cannot be placed at "
                f"row(s) {', '.join(map(str, list(beyond)[:10]))}: row {row}: {reason}"
            )
        ordered = events.reset_index(drop=True).sort_values(timestamp, kind="stable")
        self._given_row = ordered.index.to_numpy()  # where each event was in what was given
        self.events = ordered.reset_index(drop=True)
        self.dataset = dataset
        self.timestamp = timestamp
        self.labels = labels
        self.labels_dataset = labels_dataset
        # A column of the labels named as their delays times them; it is pushed only if the
        # labels dataset has a field of its name.
        self.delay_column = (
            label_delay
            if isinstance(label_delay, str) and labels is not None and label_delay in labels
            else None
        )
        self.delay_seconds = self._delays(label_delay)
        self.key = key

    def _delays(self, label_delay: str | pd.Series) -> float | np.ndarray:
        """One delay for every label (``"7d"``), or one per label: the name of a column of
        ``labels`` or a Series aligned with them, holding seconds or timedeltas."""
        if isinstance(label_delay, str) and self.labels is not None and label_delay in self.labels:
            label_delay = self.labels[label_delay]
        if isinstance(label_delay, str):
            try:
                return parse_duration(label_delay) / 1e9
            except ValueError as exc:
                columns = (
                    ""
                    if self.labels is None
                    else f" (nor is it a column of the labels: {', '.join(map(str, self.labels))})"
                )
                raise ValueError(
                    f"replay into {self.labels_dataset!r}: label_delay {exc}{columns}"
                ) from None
        delays = pd.Series(label_delay)
        if self.labels is None or len(delays) != len(self.labels):
            raise ValueError("per-record label delays need one delay per label")
        if pd.api.types.is_timedelta64_dtype(delays.dtype):
            seconds = delays.dt.total_seconds().to_numpy(dtype="float64")
        else:
            seconds = pd.to_numeric(delays, errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~(np.isfinite(seconds) & (seconds >= 0))).tolist()
        if bad:
            shown = delays.tolist()
            raise ValueError(
                f"replay into {self.labels_dataset!r}: the label delay at row(s) "
                f"{', '.join(map(str, bad[:10]))} is {shown[bad[0]]!r}: expected a number of "
                f"seconds >= 0 or a timedelta, for every label"
            )
        return seconds

    def _stream(self, backend: Backend) -> pd.DataFrame:
        # Event times in seconds, whatever the column's unit (datetime64[us] included).
        seconds = pd.Series(to_nanos(self.events[self.timestamp], "auto") / 1e9)
        parts = [
            pd.DataFrame(
                {
                    "time": seconds.to_numpy(dtype="float64"),
                    "kind": 0,
                    "row": np.arange(len(self.events)),
                }
            )
        ]
        if self.labels is not None and self.labels_dataset is not None:
            key = self.key or backend.dataset(self.dataset).key
            _need_column(self.events, key, f"replay into {self.dataset!r}: the events")
            _need_column(self.labels, key, f"replay into {self.labels_dataset!r}: the labels")
            when = dict(zip(self.events[key].tolist(), parts[0]["time"].tolist(), strict=True))
            label_times = self.labels[key].map(when).to_numpy(dtype="float64") + self.delay_seconds
            parts.append(
                pd.DataFrame({"time": label_times, "kind": 1, "row": np.arange(len(self.labels))})
            )
        stream = pd.concat(parts, ignore_index=True)
        # Events before labels at equal times; labels of unknown events go last.
        stream["time"] = stream["time"].fillna(np.inf)
        return stream.sort_values(["time", "kind"], kind="stable").reset_index(drop=True)

    def run(
        self,
        backend: Backend,
        *,
        batch_size: int = 1000,
        start: int = 0,
        already: Mapping[str, int] | None = None,
        limit: int | None = None,
        duration: str | None = None,
        speed: float | None = None,
        progress: bool = False,
        on_error: Literal["raise", "dead_letter"] = "raise",
    ) -> SimulationResult:
        """Push the stream into ``backend``; the options are checked before anything is pushed.

        Args:
            batch_size: records per batch.
            start: the position to resume from (a previous result's ``position``).
            already: records of each dataset pushed by an earlier run that stopped at an
                unknown point, e.g. a crash (``{"tx": 120, "labels": 80}``): those are skipped
                and the rest replayed in order, so the datasets end as after one uninterrupted
                run.
            limit: at most this many records.
            duration: stop after this much stream time, e.g. ``"2d"``.
            speed: ``None`` as fast as possible; ``1.0`` real time; ``60`` a minute of stream
                time per second.
            progress: show a rich progress bar.
            on_error: ``"raise"`` stops at the first push refused; ``"dead_letter"`` sets the
                records a dataset refuses aside as its dead letters (``result.set_aside``
                counts them) and goes on. To resume such a run with ``already``, count each
                dataset's dead letters from it among what it pushed.

        >>> import pandas as pd, rtml
        >>> backend = rtml.connect("local", path=":memory:")
        >>> _ = backend.create_dataset("tx", key="id", schema={"id": "int", "ts": "int"})
        >>> sim = ReplaySimulator(pd.DataFrame({"id": [1, 2], "ts": [0, 5]}), "tx", timestamp="ts")
        >>> sim.run(backend, limit=-1)
        Traceback (most recent call last):
        ...
        ValueError: replay into 'tx': limit must be None or a whole number >= 0, got -1
        >>> sim.run(backend, limt=1)  # a misspelt option is refused, not ignored
        Traceback (most recent call last):
        ...
        TypeError: ReplaySimulator.run() got an unexpected keyword argument 'limt'
        """
        names = {0: self.dataset, 1: self.labels_dataset}
        for name in names.values():
            if name is not None:
                backend.dataset(name)  # a missing dataset fails here, before any push
        stream = self._stream(backend)
        self.check_options(batch_size, already, limit, duration, speed, on_error)
        self._check_keys(backend)
        if already:
            # Each dataset's records are pushed in stream order, whatever the batching: the
            # first N of a dataset's stream entries are the N it already holds.
            rank = stream.groupby("kind").cumcount()
            skip = [int(already.get(names[int(k)] or "", 0)) for k in stream["kind"].tolist()]
            stream = stream[rank.to_numpy() >= np.asarray(skip)].reset_index(drop=True)
        if not is_whole(start, 0) or start > len(stream):
            raise ValueError(
                f"replay into {self.dataset!r}: start must be a position from 0 to "
                f"{len(stream)} (what is left of the stream), got {start!r}"
            )
        end = len(stream) if limit is None else min(len(stream), start + int(limit))
        if duration is not None and start < len(stream):
            until = stream["time"].iloc[start] + parse_duration(duration) / 1e9
            end = min(end, int(np.searchsorted(stream["time"].to_numpy(), until, side="right")))
        result = SimulationResult(position=start)
        targets = {
            0: (self.dataset, self.events),
            1: (self.labels_dataset, self._pushed_labels(backend)),
        }
        wall_start, stream_start = time.monotonic(), None
        with _progress(progress, end - start) as advance:
            for lo in range(start, end, batch_size):
                chunk = stream.iloc[lo : min(lo + batch_size, end)]
                if speed:
                    stream_start = chunk["time"].iloc[0] if stream_start is None else stream_start
                    due = (chunk["time"].iloc[0] - stream_start) / speed
                    time.sleep(max(0.0, due - (time.monotonic() - wall_start)))
                if self.order == "batch":
                    chunk = chunk.sort_values("kind", kind="stable")
                # Arrival order inside a batch: consecutive runs of one kind pushed in turn.
                run_id = (chunk["kind"] != chunk["kind"].shift()).cumsum()
                for _, run in chunk.groupby(run_id, sort=True):
                    name, frame = targets[int(run["kind"].iloc[0])]
                    assert name is not None and frame is not None
                    rows = frame.iloc[run["row"].to_numpy()]
                    pushed = backend.dataset(name).push(rows, on_error=on_error)
                    result.pushed[name] = result.pushed.get(name, 0) + pushed
                    if pushed < len(rows):
                        aside = result.set_aside.get(name, 0) + len(rows) - pushed
                        result.set_aside[name] = aside
                result.position = min(lo + batch_size, end)
                advance(len(chunk))
        result.finished = result.position >= len(stream)
        return result

    def _pushed_labels(self, backend: Backend) -> pd.DataFrame | None:
        """The labels as pushed: without the column of their delays, unless the labels
        dataset has a field of its name."""
        if self.labels is None or self.labels_dataset is None or self.delay_column is None:
            return self.labels
        if self.delay_column in backend.dataset(self.labels_dataset).schema:
            return self.labels
        return self.labels.drop(columns=[self.delay_column])

    def _check_keys(self, backend: Backend) -> None:
        """Refuse, before anything is pushed, a key given twice in the events or the labels:
        its second record would stop the replay halfway."""
        key = self.key or backend.dataset(self.dataset).key
        # The events are checked in the order given, as their rows are named.
        checks = [(self.dataset, self.events.iloc[np.argsort(self._given_row)])]
        if self.labels is not None and self.labels_dataset is not None:
            checks.append((self.labels_dataset, self.labels))
        for name, frame in checks:
            if key not in frame.columns:
                continue  # reported by name where the key is read
            twice = np.flatnonzero(frame[key].duplicated().to_numpy()).tolist()
            if twice:
                keys = frame[key].tolist()
                value = keys[twice[0]]
                raise ValueError(
                    f"replay into {name!r}: key {key!r} repeats at row(s) "
                    f"{', '.join(map(str, twice[:10]))} ({value!r} is at row "
                    f"{keys.index(value)} too): each record of a dataset needs its own key"
                )

    def check_options(
        self,
        batch_size: int,
        already: Mapping[str, int] | None,
        limit: int | None,
        duration: str | None,
        speed: float | None,
        on_error: str = "raise",
    ) -> None:
        """Refuse options that would replay something else than asked, naming the option
        (:meth:`run` does it first; a caller may do it before it prepares anything)."""
        where = f"replay into {self.dataset!r}"
        if on_error not in ("raise", "dead_letter"):
            raise ValueError(
                f"{where}: on_error must be 'raise' or 'dead_letter', got {on_error!r}"
            )
        if not is_whole(batch_size, 1):
            raise ValueError(f"{where}: batch_size must be a whole number >= 1, got {batch_size!r}")
        if limit is not None and not is_whole(limit, 0):
            raise ValueError(f"{where}: limit must be None or a whole number >= 0, got {limit!r}")
        if speed is not None and not (
            isinstance(speed, int | float | np.integer | np.floating)
            and not isinstance(speed, bool)
            and speed > 0
        ):
            raise ValueError(f"{where}: speed must be None or a number > 0, got {speed!r}")
        if duration is not None:
            try:
                parse_duration(duration)
            except ValueError as exc:
                raise ValueError(f"{where}: duration {exc}") from None
        known = {n for n in (self.dataset, self.labels_dataset) if n is not None}
        for name, count in (already or {}).items():
            if name not in known:
                raise ValueError(
                    f"{where}: already names {name!r}, which this replay does not push to "
                    f"(it pushes to {sorted(known)})"
                )
            if not is_whole(count, 0):
                raise ValueError(
                    f"{where}: already[{name!r}] must be a whole number >= 0, got {count!r}"
                )


def _frame_of(records: pd.DataFrame | DataSource, what: str) -> pd.DataFrame:
    """The records as one DataFrame: a replay orders the whole stream by time first."""
    if isinstance(records, DataSource):
        return records.read()  # an unbounded source says it cannot be read whole
    if not isinstance(records, pd.DataFrame):
        raise TypeError(
            f"{what} must be a pandas DataFrame or a DataSource, got {type(records).__name__}"
        )
    return records


def _need_column(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise ValueError(f"{what} have no column {column!r} (columns: {list(frame.columns)})")


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _: None
        return
    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task("replaying", total=total)
        yield lambda n: bar.advance(task, n)
