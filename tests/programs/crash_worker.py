"""Pushes a fixed plan of transactions and labels into a store, resuming where it stopped.

    python crash_worker.py STORE_PATH [SEED]

Run it, kill it at any moment, run it again: the store must end exactly as after one
uninterrupted run. Each push is atomic, so the first push of the plan whose first key is not
in its dataset yet is where to resume.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import rtml

N = 3000


def data(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.integers(0, 20 * 86400, N)) + 1_700_000_000
    events = pd.DataFrame(
        {
            "id": np.arange(N),
            "card": rng.integers(0, 50, N),
            "ts": ts,
            "amount": np.round(rng.gamma(2.0, 30.0, N), 2),
        }
    )
    labels = pd.DataFrame({"id": np.arange(N), "y": (events["amount"] > 150).astype(int)})
    return events, labels


def plan(seed: int = 0) -> list[tuple[str, int, int]]:
    """(dataset, first row, end row) pushes of random sizes, labels a little behind events."""
    rng = np.random.default_rng(seed + 1)
    pushes, done_events, done_labels = [], 0, 0
    while done_labels < N:
        if done_events < N:
            size = int(rng.integers(1, 60))
            pushes.append(("tx", done_events, min(N, done_events + size)))
            done_events = min(N, done_events + size)
        lag = int(rng.integers(0, 120))
        target = max(done_labels, min(done_events - lag, N)) if done_events < N else N
        if target > done_labels:
            pushes.append(("labels", done_labels, target))
            done_labels = target
    return pushes


def features() -> rtml.FeatureSet:
    A = rtml.features.Aggregate
    return rtml.FeatureSet(
        name="f",
        dataset="tx",
        timestamp="ts",
        features=[
            A("spend_1d", column="amount", op="sum", by="card", window="1d"),
            A("n_7d", column="amount", op="count", by="card", window="7d"),
            A(
                "fraud_7d",
                column="y",
                op="sum",
                by="card",
                window="7d",
                delay="1d",
                source="labels",
            ),
        ],
    )


def setup(backend: rtml.Backend, events: pd.DataFrame, labels: pd.DataFrame) -> None:
    if "tx" not in backend.datasets():
        backend.create_dataset("tx", key="id", df=events.iloc[:0])
    if "labels" not in backend.datasets():
        backend.create_dataset("labels", key="id", df=labels.iloc[:0])
    backend.materialize(features())
    if "model" not in backend.deployments():
        backend.deploy(
            "model",
            rtml.models.LogisticRegression(),
            inputs=rtml.Inputs("f", numerical=["amount", "spend_1d", "n_7d"]),
            labels=rtml.Labels("labels", field="y"),
        )


MONITORS = [
    rtml.drift.Monitor("spend", source="f", fields=["spend_1d"], clock=8),
    rtml.drift.Monitor("amounts", source="f", fields=["amount", "spend_1d"], reference=200),
    rtml.drift.Monitor("scores", deployment="model", clock=8),
]


def watch(backend: rtml.Backend) -> None:
    """The drift monitors, registered half-way: they read what is stored, then every push."""
    for monitor in MONITORS:
        if monitor.name not in backend.monitors():
            backend.watch(monitor)


def run(backend: rtml.Backend, seed: int = 0) -> None:
    events, labels = data(seed)
    setup(backend, events, labels)
    frames = {"tx": events, "labels": labels}
    pushes = plan(seed)
    # This process is the store's only writer: what it holds now is what earlier runs pushed.
    stored = {name: set(backend.dataset(name).to_pandas()["id"]) for name in frames}
    for i, (name, lo, hi) in enumerate(pushes):
        if i == len(pushes) // 2:
            # After a restart the monitors may come later in the stream; reading what is
            # stored first, they end the same.
            watch(backend)
        if int(frames[name]["id"].iloc[lo]) in stored[name]:
            continue  # pushed before the last stop
        backend.dataset(name).push(frames[name].iloc[lo:hi])


if __name__ == "__main__":
    # Imported, nothing opened yet: the test times its kill from here, not from the
    # interpreter's start, so that no kill is spent on an import that touches no store.
    print("imported", flush=True)
    store = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    backend = rtml.connect("local", path=store, checkpoint_every=400)
    run(backend, seed)
    backend.close()
    print("done")
