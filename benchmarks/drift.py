"""Drift detection: the on-demand detectors against River's ADWIN fed the same values in a
bare loop, and what drift monitors add to pushes on the local engine.

    python -m benchmarks.drift [N]        (default 200,000 transactions)

Baselines run in this process: a bare ``river.drift.ADWIN`` loop over the same amounts (the
detector itself, no frame in or out), and the same pushes into a store with no monitor.
"""

from __future__ import annotations

import sys
import tracemalloc

from river.drift import ADWIN

import rtml
from benchmarks.common import handbook_features, peak_rss_mb, timed, transactions

BATCH = 1000


def bare_adwin(values: list[float]) -> int:
    detector, found = ADWIN(), 0
    for value in values:
        detector.update(value)
        found += detector.drift_detected
    return found


def pushes(n: int, monitors: list[rtml.drift.Monitor]) -> tuple[float, int]:
    """Seconds to push ``n`` transactions and labels in batches, and the changes found."""
    events, labels = transactions(n)
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("transactions", key="TRANSACTION_ID", df=events.iloc[:0])
    backend.create_dataset("labels", key="TRANSACTION_ID", df=labels.iloc[:0])
    backend.materialize(handbook_features())
    for monitor in monitors:
        backend.watch(monitor)

    def run() -> None:
        tx, lb = backend.dataset("transactions"), backend.dataset("labels")
        for lo in range(0, n, BATCH):
            tx.push(events.iloc[lo : lo + BATCH])
            lb.push(labels.iloc[lo : lo + BATCH])

    seconds, _ = timed(run)
    changes = sum(backend.monitor(m.name).status()["changes"] for m in monitors)
    backend.close()
    return seconds, changes


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    events, _ = transactions(n)
    amounts = events["TX_AMOUNT"].astype(float).tolist()
    base, found = timed(lambda: bare_adwin(amounts))
    ours, report = timed(lambda: rtml.drift.univariate(events, "TX_AMOUNT"))
    assert len(report.drifts) == found  # the same detector over the same values
    # Memory in a second run: tracing allocations slows Python several times over.
    tracemalloc.start()
    rtml.drift.univariate(events, "TX_AMOUNT")
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{n:,} amounts: bare ADWIN loop {n / base:,.0f} values/s; rtml.drift.univariate "
        f"{n / ours:,.0f} values/s ({base / ours:.2f}x the bare loop), peak memory of a "
        f"report {traced / 2**20:,.0f} MB; {found} change(s) found by both"
    )
    fields = ["TX_AMOUNT", "CUSTOMER_ID", "TERMINAL_ID"]
    multi, _ = timed(lambda: rtml.drift.multivariate(events, fields, reference=5000))
    print(
        f"rtml.drift.multivariate over {len(fields)} fields: {n / multi:,.0f} records/s "
        f"({base / multi:.2f}x the bare univariate loop)"
    )

    features = ["CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW", "TERMINAL_ID_RISK_7DAY_WINDOW"]
    cases = {
        "no monitor": [],
        "1 monitor (an amount)": [
            rtml.drift.Monitor(name="amount", source="transactions", fields=["TX_AMOUNT"])
        ],
        "3 monitors (amount, a feature, two features together)": [
            rtml.drift.Monitor(name="amount", source="transactions", fields=["TX_AMOUNT"]),
            rtml.drift.Monitor(name="avg_1d", source="handbook", fields=features[:1]),
            rtml.drift.Monitor(name="together", source="handbook", fields=features),
        ],
    }
    baseline = None
    for name, monitors in cases.items():
        seconds, changes = pushes(n, monitors)
        baseline = seconds if baseline is None else baseline
        print(
            f"pushes of {BATCH:,} with the 15 handbook features, {name}: {n / seconds:,.0f} "
            f"transactions/s ({baseline / seconds:.2f}x no monitor), {changes} change(s)"
        )
    print(f"peak RSS of the process {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
