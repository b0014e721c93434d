"""``rtml replay``: files of events (and their labels) replayed into a store or a server as a
live stream, with :class:`~rtml.simulate.ReplaySimulator`."""

from __future__ import annotations

import os
import time
from typing import Any

import pandas as pd
import typer
from rich.console import Console

from rtml.errors import RtmlError

__all__ = ["replay"]

console = Console()


def replay(
    events: str = typer.Argument(..., help="Events: a CSV or Parquet file."),
    into: str = typer.Option(..., "--into", help="The dataset the events are pushed to."),
    timestamp: str = typer.Option(..., help="The events' time column."),
    labels: str = typer.Option(None, help="Labels: a CSV or Parquet file (joined by key)."),
    labels_into: str = typer.Option("labels", help="The dataset the labels are pushed to."),
    label_delay: str = typer.Option(
        "0s", help='How long after its event a label arrives ("7d"), or a column of the labels.'
    ),
    key: str = typer.Option(None, help="The key column (default: the events dataset's key)."),
    create: bool = typer.Option(
        False, help="Create missing datasets, their schema read from the files (needs --key)."
    ),
    batch_size: int = typer.Option(1000, help="Records per batch."),
    order: str = typer.Option("exact", help="exact: stream order; batch: events, then labels."),
    limit: int = typer.Option(None, help="Stop after this many records."),
    duration: str = typer.Option(None, help='Stop after this much stream time ("2d").'),
    speed: float = typer.Option(
        None, help="Stream seconds per second (1: real time); as fast as possible if unset."
    ),
    resume: bool = typer.Option(
        False, help="Skip the records of these files the datasets already hold (after a stop)."
    ),
    on_error: str = typer.Option(
        "raise",
        "--on-error",
        help="raise: stop at the first refused record; dead_letter: set it aside and go on.",
    ),
    path: str = typer.Option(None, help="The store (default: $RTML_HOME, else ./.rtml)."),
    url: str = typer.Option(
        None, help="A server (rtml serve) instead of a store; its key in RTML_API_KEY."
    ),
) -> None:
    """Replay files of events, and of labels arriving later, into datasets as a live stream:
    in event-time order, in batches, at a speed, resumable."""
    import rtml

    started = time.perf_counter()
    try:
        backend = (
            rtml.connect(url, api_key=os.environ.get("RTML_API_KEY") or None)
            if url
            else rtml.connect("local", path=path)
        )
    except RtmlError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    try:
        event_frame = rtml.sources.FileSource(events).read()
        label_frame = rtml.sources.FileSource(labels).read() if labels else None
        sim = rtml.simulate.ReplaySimulator(
            event_frame,
            into,
            timestamp=timestamp,
            labels=label_frame,
            labels_dataset=labels_into if label_frame is not None else None,
            label_delay=label_delay,
            key=key,
            order=order,
        )
        # Every option is checked before a dataset is created: a refused replay leaves the
        # store as it found it.
        sim.check_options(batch_size, None, limit, duration, speed, on_error)
        if create:
            _create_missing(backend, into, key, event_frame)
            if label_frame is not None:
                _create_missing(backend, labels_into, key, label_frame)
        already = _held(backend, sim, key) if resume else None
        result = sim.run(
            backend,
            batch_size=batch_size,
            already=already,
            limit=limit,
            duration=duration,
            speed=speed,
            progress=True,
            on_error=on_error,  # type: ignore[arg-type]  # checked by check_options
        )
    except (RtmlError, ValueError, TypeError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        backend.close()
    pushed = ", ".join(f"{n:,} to {name}" for name, n in result.pushed.items()) or "nothing"
    seconds = time.perf_counter() - started
    console.print(f"pushed {pushed} in {seconds:.1f} s")
    for name, n in result.set_aside.items():
        console.print(
            f"set aside {n:,} record(s) of {name} as dead letters: see its dead_letters()"
        )
    if not result.finished:
        console.print("stopped before the end: run again with --resume to go on")


def _create_missing(backend: Any, name: str, key: str | None, frame: pd.DataFrame) -> None:
    """An empty dataset ``name`` with ``frame``'s columns and types, unless it exists."""
    if name in backend.datasets():
        return
    if key is None:
        raise ValueError(f"creating dataset {name!r} needs --key: the column that names a record")
    backend.create_dataset(name, key=key, df=frame.iloc[:0])
    console.print(f"created dataset {name!r} (key {key!r})")


def _held(backend: Any, sim: Any, key: str | None) -> dict[str, int]:
    """How many of the replay's records each of its datasets holds already (by key), those it
    set aside as dead letters included."""
    held = {}
    for name, frame in ((sim.dataset, sim.events), (sim.labels_dataset, sim.labels)):
        if name is None or frame is None:
            continue
        column = key or backend.dataset(sim.dataset).key
        dataset = backend.dataset(name)
        stored = dataset.to_pandas()
        keys = set(stored[column].tolist()) if len(stored) else set()
        keys |= {r.get(column) for r in dataset.dead_letters()["record"].tolist()}
        held[name] = int(frame[column].isin(keys).sum())
    return held
