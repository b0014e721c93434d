"""The fraud pipeline on Flink's local mini-cluster beside the local engine, on the same events.

    python -m benchmarks.flink [N] [PARALLELISM...]      (make bench-flink; needs rtml[flink])

N handbook-like transactions (default 10,000) and their labels, the 15 handbook features and a
LogisticRegression deployed on them, pushed live in batches of 1,000 (each batch's labels one
batch later). The local engine computes while pushes arrive; Flink computes when the outputs
are read, as one job over the log. Both give the same outputs (checked here). Printed: events/s
of the whole pipeline (features, scoring, learning), the job's fixed cost (a job over 10
events), Flink's rate as a ratio of the local engine's, and memory.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import rtml
from benchmarks.common import TreePeakRss, handbook_logistic_regression, transactions

BATCH = 1000


def pipeline(backend: rtml.Backend, events: pd.DataFrame, labels: pd.DataFrame) -> float:
    """Deploy, push everything live; seconds until the outputs are all there."""
    model = handbook_logistic_regression(
        backend, events.iloc[:0], labels.iloc[:0], name="lr", pretrain=False
    )
    start = time.perf_counter()
    for lo in range(0, len(events), BATCH):
        backend.dataset("transactions").push(events.iloc[lo : lo + BATCH])
        if lo >= BATCH:
            backend.dataset("labels").push(labels.iloc[lo - BATCH : lo])
    outputs = model.outputs()
    elapsed = time.perf_counter() - start
    assert len(outputs) == len(events)
    pipeline.outputs = outputs  # type: ignore[attr-defined]
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    parallelisms = [int(p) for p in sys.argv[2:]] or [1, 2]
    events, labels = transactions(n, customers=2000, terminals=4000)
    print(f"{n:,} transactions, 15 features, LogisticRegression, pushes of {BATCH:,}")
    with rtml.connect("local", path=":memory:") as local, TreePeakRss() as local_memory:
        local_s = pipeline(local, events, labels)
        want = pipeline.outputs  # type: ignore[attr-defined]
    print(
        f"  local engine            {local_s:7.1f} s  {n / local_s:8,.0f} events/s  "
        f"(peak RSS {local_memory.peak_mb:,.0f} MB)"
    )
    summary = []
    for p in parallelisms:
        with rtml.connect("flink", parallelism=p) as small:
            fixed = pipeline(small, events.iloc[:10], labels.iloc[:10])
        with rtml.connect("flink", parallelism=p) as flink, TreePeakRss() as memory:
            flink_s = pipeline(flink, events, labels)
            got = pipeline.outputs  # type: ignore[attr-defined]
        same = got["key"].tolist() == want["key"].tolist() and np.allclose(
            got["score"].to_numpy(float), want["score"].to_numpy(float), rtol=1e-9
        )
        rate = n / flink_s
        summary.append(f"p={p} {rate:,.0f}/s ({rate / (n / local_s):.2f}x)")
        print(
            f"  Flink, parallelism {p}    {flink_s:7.1f} s  {rate:8,.0f} events/s  "
            f"({rate / (n / local_s):.2f}x the local engine; a 10-event job takes {fixed:.1f} s; "
            f"outputs equal to the local engine's: {same}; peak RSS of the process tree, "
            f"JVM and Python workers included, {memory.peak_mb:,.0f} MB)"
        )
    print(f"summary: local {n / local_s:,.0f} events/s; Flink mini-cluster " + ", ".join(summary))


if __name__ == "__main__":
    main()
