"""Scoring on demand in process: ``predict_many`` against a loop of ``predict`` on the same records.

    python -m benchmarks.predict_many [HISTORY_EVENTS] [RECORDS]

A store in memory gets HISTORY_EVENTS handbook-like transactions (default 100,000), the 15
handbook features and a LogisticRegression pre-trained on them; then RECORDS more transactions
(default 1,000) are scored both ways, in the same process, three times. Prints the times, their
ratio, the largest difference between the two scores of a record (they must agree) and the
peak memory.
"""

from __future__ import annotations

import sys

import rtml
from benchmarks.common import handbook_logistic_regression, peak_rss_mb, timed, transactions

HISTORY = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000


def main() -> None:
    events, labels = transactions(HISTORY + RECORDS)
    backend = rtml.connect("local", path=":memory:")
    model = handbook_logistic_regression(backend, events.iloc[:HISTORY], labels.iloc[:HISTORY])
    batch = events.iloc[HISTORY:]
    records = [
        {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}
        for row in batch.to_dict("records")
    ]
    print(f"{HISTORY:,} transactions of history; scoring {len(records):,} more")
    for run in range(3):
        loop, one_by_one = timed(lambda: [model.predict(r)["score"] for r in records])
        bulk, together = timed(lambda: model.predict_many(batch)["score"].tolist())
        gap = max(abs(a - b) for a, b in zip(one_by_one, together, strict=True))
        print(
            f"run {run + 1}: predict loop {loop * 1000:,.0f} ms, predict_many {bulk * 1000:,.0f} ms"
            f" ({loop / bulk:.1f}x); largest score difference {gap:.1e}"
        )
    print(f"peak memory {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
