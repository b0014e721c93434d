"""What records a feature fails for cost a push that sets them aside as dead letters.

    python -m benchmarks.dead_letters [HISTORY_EVENTS] [PUSH] [BAD]

A durable store gets HISTORY_EVENTS handbook-like transactions (20,000 by default) with the 15
handbook features, a UDF feature that raises on an amount of exactly 0 and a
LogisticRegression. Then one push of PUSH records (1,000) is timed on two copies of that store,
in the same run:

1. the baseline: the records as they are (no amount is 0);
2. the same records with BAD of them (10) given an amount of 0, pushed with
   ``on_error="dead_letter"``.

The second push fails once as a batch, finds the failing records one by one, rebuilds the
engine's state from its last checkpoint (nothing of the failed attempt was written), and
pushes the rest again: the ratio is what that costs.
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

HISTORY = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
PUSH = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
BAD = int(sys.argv[3]) if len(sys.argv) > 3 else 10


def per_unit(amount: float) -> float:
    """A feature that cannot be computed for an amount of 0 (raises ZeroDivisionError)."""
    return 1.0 / amount


def pushed(events: pd.DataFrame, labels: pd.DataFrame, live: pd.DataFrame) -> tuple[float, int]:
    """Seconds to push ``live`` (dead letters on) into a fresh copy of the store, and how
    many records were set aside."""
    path = tempfile.mkdtemp()
    try:
        backend, tx, lb = store_with_model(rtml.models.LogisticRegression(), events, labels, path)
        backend.materialize(
            rtml.FeatureSet(
                name="per_unit",
                dataset="transactions",
                timestamp="TX_TS",
                features=[rtml.features.UDF("per_unit", fn=per_unit, args=["TX_AMOUNT"])],
            )
        )
        tx.push(events.iloc[:HISTORY])
        lb.push(labels.iloc[:HISTORY])
        backend.checkpoint()
        start = time.perf_counter()
        accepted = tx.push(live, on_error="dead_letter")
        backend.flush()
        seconds = time.perf_counter() - start
        backend.close()
        return seconds, len(live) - accepted
    finally:
        shutil.rmtree(path)


def main() -> None:
    events, labels = transactions(HISTORY + PUSH)
    events["TX_AMOUNT"] = events["TX_AMOUNT"].clip(lower=0.01)
    live = events.iloc[HISTORY:].reset_index(drop=True)
    bad = live.copy()
    spread = range(0, PUSH, max(1, PUSH // BAD))
    bad.loc[list(spread)[:BAD], "TX_AMOUNT"] = 0.0
    print(
        f"dead letters, durable store: {HISTORY:,} events of history, one push of {PUSH:,}; "
        "15 handbook features, a UDF, LogisticRegression"
    )
    clean, none = pushed(events, labels, live)
    messy, aside = pushed(events, labels, bad)
    print(f"clean push:                 {1000 * clean:8.1f} ms ({none} set aside)")
    print(f"push with bad records:      {1000 * messy:8.1f} ms ({aside} set aside)")
    print(f"ratio (with / clean): {messy / clean:.1f}x; peak memory {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
