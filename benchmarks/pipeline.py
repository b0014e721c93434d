"""The full fraud pipeline on a durable store: push -> features -> predict -> label -> learn.

    python -m benchmarks.pipeline [N_EVENTS]

Events/s at micro-batches of 1, 100 and 10,000 (the 1-record case on a prefix), with a Hoeffding
tree and with the vectorised learner, beside the bare model loop on the same feature rows in the
same run; then the time to reopen (recover) a store holding N events and N labels.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd

import rtml
from benchmarks.common import HANDBOOK_INPUTS as INPUTS
from benchmarks.common import handbook_features, peak_rss_mb, transactions

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
LIMIT = {1: 2_000, 100: 50_000, 10_000: N}


def store_with_model(
    spec: Any, events: pd.DataFrame, labels: pd.DataFrame, path: str
) -> tuple[Any, Any, Any]:
    """An empty durable store with the datasets, the handbook features and ``spec`` deployed."""
    backend = rtml.connect("local", path=path)
    tx = backend.create_dataset("transactions", key="TRANSACTION_ID", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="TRANSACTION_ID", df=labels.iloc[:0])
    backend.materialize(handbook_features())
    backend.deploy(
        "model",
        spec,
        inputs=rtml.Inputs("handbook", numerical=INPUTS),
        labels=rtml.Labels("labels", field="TX_FRAUD"),
    )
    return backend, tx, lb


def pipeline(spec: Any, events: pd.DataFrame, labels: pd.DataFrame, batch: int, path: str) -> float:
    backend, tx, lb = store_with_model(spec, events, labels, path)
    n = min(len(events), LIMIT[batch])
    start = time.perf_counter()
    for lo in range(0, n, batch):
        tx.push(events.iloc[lo : lo + batch])
        lb.push(labels.iloc[lo : lo + batch])
    backend.flush()
    seconds = time.perf_counter() - start
    assert len(backend.deployment("model").outputs()) == n
    backend.close()
    return n / seconds


def bare(spec: Any, rows: pd.DataFrame, y: np.ndarray) -> float:
    model = spec.build()
    start = time.perf_counter()
    if hasattr(model, "predict_many"):
        for lo in range(0, len(rows), 10_000):
            model.predict_many(rows.iloc[lo : lo + 10_000])
            model.learn_many(rows.iloc[lo : lo + 10_000], y[lo : lo + 10_000])
    else:
        for x, label in zip(rows.to_dict("records"), y.tolist(), strict=True):
            model.predict_one(x)
            model.learn_one(x, label)
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    events, labels = transactions(N)
    print(
        f"fraud pipeline, durable store: {N:,} events, handbook features, labels pushed right "
        "after their events"
    )
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("transactions", key="TRANSACTION_ID", df=events)
    backend.create_dataset("labels", key="TRANSACTION_ID", df=labels)
    backend.materialize(handbook_features())
    rows = backend.features("handbook").merge(events, on="TRANSACTION_ID")[INPUTS]
    y = labels["TX_FRAUD"].to_numpy()
    models = {
        "HoeffdingTree": rtml.models.HoeffdingTreeClassifier(),
        "OnlineLinear": rtml.models.OnlineLinearClassifier(),
    }
    for name, spec in models.items():
        loop = bare(spec, rows.iloc[: min(N, 200_000)], y[: min(N, 200_000)])
        print(f"{name}: bare model loop {loop:,.0f} rows/s")
        for batch in (1, 100, 10_000):
            path = tempfile.mkdtemp()
            try:
                rate = pipeline(spec, events, labels, batch, path)
            finally:
                shutil.rmtree(path)
            print(
                f"  micro-batch {batch:>6,}: {rate:,.0f} events/s end to end "
                f"({rate / loop:.2f}x the bare model loop)"
            )
    path = tempfile.mkdtemp()
    try:
        store, tx, lb = store_with_model(models["OnlineLinear"], events, labels, path)
        for lo in range(0, N, 10_000):
            tx.push(events.iloc[lo : lo + 10_000])
            lb.push(labels.iloc[lo : lo + 10_000])
        store.flush()
        store.store.close()  # a crash: no final checkpoint
        start = time.perf_counter()
        reopened = rtml.connect("local", path=path)
        recovery = time.perf_counter() - start
        assert len(reopened.dataset("transactions")) == N
        reopened.close()
    finally:
        shutil.rmtree(path)
    print(
        f"reopen after a crash, {2 * N:,} records in the log (checkpoint every 100,000): "
        f"{recovery:.1f} s"
    )
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
