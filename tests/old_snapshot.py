"""A feature engine's checkpoint written before label values moved into the windows
(commit c3af9ce): a store checkpointed then must reopen and go on as if never closed.

``python -m tests.old_snapshot`` rewrote ``tests/data/engine_snapshot_c3af9ce.pkl`` when run at
commit c3af9ce (it needs that commit's engine: later ones write the new layout).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import rtml

SNAPSHOT = Path(__file__).parent / "data" / "engine_snapshot_c3af9ce.pkl"
SPLIT = 300  # events before the snapshot


def feature_set() -> rtml.FeatureSet:
    A = rtml.features.Aggregate
    return rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[
            A("spend", column="amount", op="sum", by="card", window="10s"),
            A("risk", column="y", op="avg", by="shop", window="16s", delay="4s", source="labels"),
            A("frauds", column="y", op="sum", by="shop", window="40s", source="labels"),
            A("seen", column="y", op="count", by="shop", window="40s", source="labels"),
        ],
    )


def stream() -> list[tuple[str, pd.DataFrame]]:
    """Events in batches, each batch's labels arriving after the next batch (some never)."""
    rng = np.random.default_rng(7)
    n = 600
    events = pd.DataFrame(
        {
            "id": np.arange(n),
            "ts": np.sort(rng.integers(0, 400, n)),  # many records share a time
            "card": rng.integers(0, 15, n),
            "shop": rng.integers(0, 3, n),
            "amount": rng.gamma(2.0, 10.0, n).round(2),
        }
    )
    labels = pd.DataFrame({"id": np.arange(n), "y": (rng.random(n) < 0.2).astype("float64")})
    labels = labels[rng.random(n) < 0.9]
    log: list[tuple[str, pd.DataFrame]] = []
    for lo in range(0, n, 50):
        log.append(("tx", events.iloc[lo : lo + 50]))
        if lo >= 50:
            done = labels[(labels["id"] >= lo - 50) & (labels["id"] < lo)]
            log.append(("labels", done))
    # A few labels ahead of their events: they wait as pending values across the snapshot.
    early = labels[(labels["id"] >= SPLIT) & (labels["id"] < SPLIT + 10)]
    log.insert(1, ("labels", early))
    return log


def feed(engine: rtml.features.FeatureEngine, log: list[tuple[str, pd.DataFrame]]) -> list:
    out = []
    for name, frame in log:
        if name == "tx":
            out.append(engine.process(frame))
        else:
            engine.apply_source(name, frame, "id")
    return out


def split(log: list[tuple[str, pd.DataFrame]]) -> int:
    """Where the snapshot was taken: after the batch that ends at event SPLIT."""
    return (
        next(i for i, (name, f) in enumerate(log) if name == "tx" and f["id"].max() == SPLIT - 1)
        + 1
    )


if __name__ == "__main__":
    log = stream()
    engine = rtml.features.FeatureEngine(feature_set(), key="id")
    feed(engine, log[: split(log)])
    SNAPSHOT.write_bytes(engine.snapshot())
    print(f"wrote {SNAPSHOT} ({SNAPSHOT.stat().st_size:,} bytes)")
