"""Shared pieces of the benchmarks: generated handbook-like transactions, timing, memory."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import rtml

DAY = 86400


def transactions(
    n: int, customers: int = 5000, terminals: int = 10000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` card transactions in time order (epoch seconds) and their fraud labels."""
    rng = np.random.default_rng(seed)
    days = max(1, n // 9600)
    ts = np.sort(rng.integers(1_522_540_800, 1_522_540_800 + days * DAY, n))
    customer = rng.integers(0, customers, n)
    terminal = rng.integers(0, terminals, n)
    amount = np.round(rng.gamma(2.0, 25.0, n), 2)
    fraud = (rng.random(n) < 0.008) | (amount > 220)
    events = pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(n),
            "TX_TS": ts,
            "CUSTOMER_ID": customer,
            "TERMINAL_ID": terminal,
            "TX_AMOUNT": amount,
        }
    )
    labels = pd.DataFrame({"TRANSACTION_ID": np.arange(n), "TX_FRAUD": fraud.astype("int64")})
    return events, labels


def handbook_features(
    dataset: str = "transactions",
    labels: str = "labels",
    timestamp: str = "TX_TS",
    epoch: bool = True,
) -> rtml.FeatureSet:
    """The 15 features of the Fraud Detection Handbook protocol as one FeatureSet
    (``epoch=False`` when the timestamp column holds datetimes)."""
    A, SQL = rtml.features.Aggregate, rtml.features.SQL
    when = f'to_timestamp("{timestamp}")' if epoch else f'"{timestamp}"'
    features: list[Any] = [
        SQL(
            name="TX_DURING_WEEKEND",
            expr=f"CASE WHEN dayofweek({when}) IN (0, 6) THEN 1 ELSE 0 END",
        ),
        SQL(name="TX_DURING_NIGHT", expr=f"CASE WHEN hour({when}) <= 6 THEN 1 ELSE 0 END"),
    ]
    for days in (1, 7, 30):
        features += [
            A(
                name=f"CUSTOMER_ID_NB_TX_{days}DAY_WINDOW",
                column="TX_AMOUNT",
                op="count",
                by="CUSTOMER_ID",
                window=f"{days}d",
            ),
            A(
                name=f"CUSTOMER_ID_AVG_AMOUNT_{days}DAY_WINDOW",
                column="TX_AMOUNT",
                op="avg",
                by="CUSTOMER_ID",
                window=f"{days}d",
            ),
            A(
                name=f"TERMINAL_ID_NB_TX_{days}DAY_WINDOW",
                column="TX_AMOUNT",
                op="count",
                by="TERMINAL_ID",
                window=f"{days}d",
                delay="7d",
                closed="right",
            ),
            A(
                name=f"TERMINAL_ID_NB_FRAUD_{days}DAY_WINDOW",
                column="TX_FRAUD",
                op="sum",
                by="TERMINAL_ID",
                window=f"{days}d",
                delay="7d",
                closed="right",
                source=labels,
            ),
            SQL(
                name=f"TERMINAL_ID_RISK_{days}DAY_WINDOW",
                expr=f'CASE WHEN "TERMINAL_ID_NB_TX_{days}DAY_WINDOW" > 0 THEN '
                f'coalesce("TERMINAL_ID_NB_FRAUD_{days}DAY_WINDOW", 0) / '
                f'"TERMINAL_ID_NB_TX_{days}DAY_WINDOW" ELSE 0 END',
            ),
        ]
    return rtml.FeatureSet(name="handbook", dataset=dataset, timestamp=timestamp, features=features)


HANDBOOK_INPUTS = [
    "TX_AMOUNT",
    "TX_DURING_WEEKEND",
    "TX_DURING_NIGHT",
    *(f"CUSTOMER_ID_{k}_{d}DAY_WINDOW" for d in (1, 7, 30) for k in ("NB_TX", "AVG_AMOUNT")),
    *(f"TERMINAL_ID_{k}_{d}DAY_WINDOW" for d in (1, 7, 30) for k in ("NB_TX", "RISK")),
]


def handbook_logistic_regression(
    backend: rtml.Backend,
    events: pd.DataFrame,
    labels: pd.DataFrame,
    name: str = "model",
    pretrain: bool = True,
) -> rtml.Deployment:
    """Datasets "transactions" and "labels" holding ``events`` and ``labels`` (their history),
    the handbook features, and a LogisticRegression on them learning "TX_FRAUD", deployed as
    ``name`` (pre-trained on the history with ``pretrain``)."""
    backend.create_dataset("transactions", key="TRANSACTION_ID", df=events)
    backend.create_dataset("labels", key="TRANSACTION_ID", df=labels)
    backend.materialize(handbook_features())
    return backend.deploy(
        name,
        rtml.models.LogisticRegression(),
        inputs=rtml.Inputs("handbook", numerical=HANDBOOK_INPUTS),
        labels=rtml.Labels("labels", field="TX_FRAUD"),
        pretrain=pretrain,
    )


def take_option(arguments: list[str], name: str, default: str) -> str:
    """The value after ``name`` (``--weeks 2018-08-08``) in a script's arguments, removing
    both from ``arguments``; ``default`` without it."""
    if name not in arguments:
        return default
    at = arguments.index(name)
    if at + 1 == len(arguments):
        raise SystemExit(f"{name} needs a value")
    value = arguments[at + 1]
    del arguments[at : at + 2]
    return value


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


class TreePeakRss:
    """Peak resident memory (MB) of this process and all its descendants together (the JVM
    and Python workers of a Flink mini-cluster, say), sampled from /proc every ``every`` s."""

    def __init__(self, every: float = 0.25) -> None:
        import threading

        self.every = every
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreePeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import os

        while not self._stop.wait(self.every):
            self.peak_mb = max(self.peak_mb, _tree_rss_kb(os.getpid()) / 1024)


def _tree_rss_kb(root: int) -> int:
    import os

    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier += children
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total
