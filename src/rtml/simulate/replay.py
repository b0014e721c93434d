"""``ReplaySimulator``: history replayed as a live stream, labels after their events."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from rtml.backends.base import Backend
from rtml.durations import parse_duration
from rtml.features.timestamps import to_nanos
from rtml.simulate.base import SimulationResult, Simulator

__all__ = ["ReplaySimulator"]


class ReplaySimulator(Simulator):
    """Replays events (and their labels, ``label_delay`` later in event time) in time order.

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
        events: pd.DataFrame,
        dataset: str,
        timestamp: str,
        labels: pd.DataFrame | None = None,
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
        self.events = events.sort_values(timestamp, kind="stable").reset_index(drop=True)
        self.dataset = dataset
        self.timestamp = timestamp
        self.labels = labels
        self.labels_dataset = labels_dataset
        self.delay_seconds = self._delays(label_delay)
        self.key = key

    def _delays(self, label_delay: str | pd.Series) -> float | np.ndarray:
        """One delay for every label (``"7d"``), or one per label: the name of a column of
        ``labels`` or a Series aligned with them, holding seconds or timedeltas."""
        if isinstance(label_delay, str) and self.labels is not None and label_delay in self.labels:
            label_delay = self.labels[label_delay]
        if isinstance(label_delay, str):
            return parse_duration(label_delay) / 1e9
        delays = pd.Series(label_delay)
        if self.labels is None or len(delays) != len(self.labels):
            raise ValueError("per-record label delays need one delay per label")
        if pd.api.types.is_timedelta64_dtype(delays.dtype):
            return delays.dt.total_seconds().to_numpy(dtype="float64")
        return delays.to_numpy(dtype="float64")

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
            when = dict(zip(self.events[key].tolist(), parts[0]["time"].tolist(), strict=True))
            label_times = self.labels[key].map(when).to_numpy(dtype="float64") + self.delay_seconds
            parts.append(
                pd.DataFrame({"time": label_times, "kind": 1, "row": np.arange(len(self.labels))})
            )
        stream = pd.concat(parts, ignore_index=True)
        # Events before labels at equal times; labels of unknown events go last.
        stream["time"] = stream["time"].fillna(np.inf)
        return stream.sort_values(["time", "kind"], kind="stable").reset_index(drop=True)

    def run(self, backend: Backend, **options: Any) -> SimulationResult:
        """Push the stream into ``backend``.

        Options: ``batch_size`` (records per batch, default 1000); ``start`` (the position to
        resume from: a previous result's ``position``); ``already`` (records of each dataset
        pushed by an earlier run that stopped at an unknown point, e.g. a crash: ``{"tx": 120,
        "labels": 80}`` — those are skipped, the rest replayed in order, so the datasets end as
        after one uninterrupted run); ``limit`` (at most this many records);
        ``duration`` (stop after this much stream time, e.g. ``"2d"``); ``speed`` (``None``: as
        fast as possible; ``1.0``: real time; ``60``: a minute of stream time per second);
        ``progress`` (a rich progress bar, default off).
        """
        batch_size = int(options.get("batch_size", 1000))
        start = int(options.get("start", 0))
        limit = options.get("limit")
        speed = options.get("speed")
        stream = self._stream(backend)
        already = options.get("already") or {}
        if already:
            # Each dataset's records are pushed in stream order, whatever the batching: the
            # first N of a dataset's stream entries are the N it already holds.
            names = {0: self.dataset, 1: self.labels_dataset}
            rank = stream.groupby("kind").cumcount()
            skip = [int(already.get(names[int(k)], 0)) for k in stream["kind"].tolist()]
            stream = stream[rank.to_numpy() >= np.asarray(skip)].reset_index(drop=True)
        end = len(stream) if limit is None else min(len(stream), start + int(limit))
        if options.get("duration") is not None and start < len(stream):
            until = stream["time"].iloc[start] + parse_duration(options["duration"]) / 1e9
            end = min(end, int(np.searchsorted(stream["time"].to_numpy(), until, side="right")))
        result = SimulationResult(position=start)
        targets = {0: (self.dataset, self.events), 1: (self.labels_dataset, self.labels)}
        wall_start, stream_start = time.monotonic(), None
        with _progress(options.get("progress", False), end - start) as advance:
            for lo in range(start, end, batch_size):
                chunk = stream.iloc[lo : min(lo + batch_size, end)]
                if speed:
                    stream_start = chunk["time"].iloc[0] if stream_start is None else stream_start
                    due = (chunk["time"].iloc[0] - stream_start) / float(speed)
                    time.sleep(max(0.0, due - (time.monotonic() - wall_start)))
                if self.order == "batch":
                    chunk = chunk.sort_values("kind", kind="stable")
                # Arrival order inside a batch: consecutive runs of one kind pushed in turn.
                run_id = (chunk["kind"] != chunk["kind"].shift()).cumsum()
                for _, run in chunk.groupby(run_id, sort=True):
                    name, frame = targets[int(run["kind"].iloc[0])]
                    assert name is not None and frame is not None
                    rows = frame.iloc[run["row"].to_numpy()]
                    pushed = backend.dataset(name).push(rows)
                    result.pushed[name] = result.pushed.get(name, 0) + pushed
                result.position = min(lo + batch_size, end)
                advance(len(chunk))
        result.finished = result.position >= len(stream)
        return result


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _: None
        return
    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task("replaying", total=total)
        yield lambda n: bar.advance(task, n)
