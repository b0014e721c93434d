"""One-record pushes on a durable store: what each push costs beside the same records in one.

    python -m benchmarks.one_record [HISTORY_EVENTS] [LIVE_EVENTS]

A durable store gets HISTORY_EVENTS handbook-like transactions and their labels (5,000 by
default), the 15 handbook features and a LogisticRegression. Then LIVE_EVENTS more (400 by
default) are pushed twice, on two copies of that store, in the same run:

1. one record per push: each transaction, then its label (what a live source sending one
   event at a time does);
2. the same transactions in one push, then their labels in one push (the baseline).

The ratio is what the fixed costs of a push take (its transaction and commit, validation, a
SQL query per stage of SQL features, pandas bookkeeping). The scores differ, and are printed
as a check that both runs scored every event: one record at a time, the model learns each
label before the next event; in one push, it scores all the events before any label comes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time

import pandas as pd

import rtml
from benchmarks.common import peak_rss_mb, transactions
from benchmarks.pipeline import store_with_model

HISTORY = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
LIVE = int(sys.argv[2]) if len(sys.argv) > 2 else 400


def live_store(events: pd.DataFrame, labels: pd.DataFrame, path: str) -> tuple:
    """A durable store with the features, the model and the history pushed."""
    backend, tx, lb = store_with_model(rtml.models.LogisticRegression(), events, labels, path)
    tx.push(events.iloc[:HISTORY])
    lb.push(labels.iloc[:HISTORY])
    backend.flush()
    return backend, tx, lb


def pushed(events: pd.DataFrame, labels: pd.DataFrame, one_by_one: bool) -> tuple[float, list]:
    """Seconds to push the live records (one by one, or all at once), and the scores."""
    path = tempfile.mkdtemp()
    try:
        backend, tx, lb = live_store(events, labels, path)
        live = range(HISTORY, HISTORY + LIVE)
        start = time.perf_counter()
        if one_by_one:
            for i in live:
                tx.push(events.iloc[i : i + 1])
                lb.push(labels.iloc[i : i + 1])
        else:
            tx.push(events.iloc[live.start : live.stop])
            lb.push(labels.iloc[live.start : live.stop])
        backend.flush()
        seconds = time.perf_counter() - start
        scores = backend.deployment("model").outputs()["score"].tolist()
        backend.close()
        return seconds, scores
    finally:
        shutil.rmtree(path)


def main() -> None:
    events, labels = transactions(HISTORY + LIVE)
    print(
        f"one-record pushes, durable store: {HISTORY:,} events of history, then {LIVE:,} live "
        "events and their labels; 15 handbook features, LogisticRegression"
    )
    single, single_scores = pushed(events, labels, one_by_one=True)
    batch, batch_scores = pushed(events, labels, one_by_one=False)
    print(
        f"one record per push:  {LIVE / single:8,.1f} events/s ({1000 * single / LIVE:.1f} ms an event and its label)"
    )
    print(f"all in one push:      {LIVE / batch:8,.1f} events/s")
    print(f"ratio (one push / one record per push): {single / batch:.1f}x")
    print(
        f"outputs, history included: {len(single_scores):,} and {len(batch_scores):,}; peak "
        f"memory "
        f"{peak_rss_mb():,.0f} MB"
    )


if __name__ == "__main__":
    main()
