"""Candidate online learners under the handbook protocol, as bare River loops (no rtml
deployment): which model class could reach the issue's targets before it becomes an rtml kind.

    python -m benchmarks.handbook_river [NAME ...]     (default: lr lr-adam)

The 15 features computed by rtml (backfill) over the handbook's data; from 2018-05-01 each
transaction is scored, then learned when its label arrives 7 days later; metrics on the
handbook's test week (known-compromised cards removed), as in ``benchmarks/handbook.py``.
Names: lr, lr-adam, lr-log (raw and log1p inputs), ht-under, amf (5 trees; about 17 min here).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from river import compose, forest, imblearn, linear_model, optim, preprocessing, tree

from benchmarks.common import HANDBOOK_INPUTS
from benchmarks.handbook import DEFAULT, handbook_data, known_compromised_removed, metrics

DELAY_SECONDS = 7 * 86_400


def _with_logs(x: dict[str, float]) -> dict[str, float]:
    return {**x, **{f"log_{k}": math.log1p(max(v, 0.0)) for k, v in x.items()}}


def _scaled_lr(optimizer: Any, transform: Callable[..., Any] | None = None) -> Any:
    steps = [preprocessing.StandardScaler(), linear_model.LogisticRegression(optimizer=optimizer)]
    if transform is not None:
        steps.insert(0, compose.FuncTransformer(transform))
    return compose.Pipeline(*steps)


CANDIDATES: dict[str, Callable[[], Any]] = {
    "lr": lambda: _scaled_lr(optim.SGD(0.01)),
    "lr-adam": lambda: _scaled_lr(optim.Adam(0.001)),
    "lr-log": lambda: _scaled_lr(optim.Adam(0.001), _with_logs),
    "ht-under": lambda: imblearn.RandomUnderSampler(
        tree.HoeffdingTreeClassifier(grace_period=100, delta=1e-4),
        desired_dist={0: 0.8, 1: 0.2},
        seed=1,
    ),
    "amf": lambda: forest.AMFClassifier(n_estimators=5, seed=1),
}


def prequential_scores(stream: pd.DataFrame, model: Any) -> np.ndarray:
    """Each transaction's score before learning anything about it; labels learned 7 days on."""
    x = stream[HANDBOOK_INPUTS].to_numpy(dtype="float64")
    y = stream["TX_FRAUD"].to_numpy(dtype="int64")
    seconds = stream["TX_DATETIME"].astype("datetime64[ns]").astype("int64").to_numpy() // 10**9
    scores = np.empty(len(x))
    learned = 0
    for i in range(len(x)):
        while learned < i and seconds[learned] + DELAY_SECONDS <= seconds[i]:
            model.learn_one(dict(zip(HANDBOOK_INPUTS, x[learned], strict=True)), int(y[learned]))
            learned += 1
        p = model.predict_proba_one(dict(zip(HANDBOOK_INPUTS, x[i], strict=True)))
        scores[i] = p.get(1, p.get(True, 0.0)) if p else 0.0
    return scores


def main() -> None:
    names = sys.argv[1:] or ["lr", "lr-adam"]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise SystemExit(f"unknown: {unknown}; choose from {', '.join(CANDIDATES)}")
    data, _ = handbook_data(DEFAULT)
    test = known_compromised_removed(data)
    stream = data[data["TX_DATETIME"] >= pd.Timestamp("2018-05-01")].sort_values(
        "TX_DATETIME", kind="stable"
    )
    for name in names:
        started = time.perf_counter()
        scores = pd.Series(prequential_scores(stream, CANDIDATES[name]()), index=stream.index)
        by_id = pd.Series(scores.to_numpy(), index=stream["TRANSACTION_ID"].to_numpy())
        auc, ap, cp = metrics(test, by_id.loc[test["TRANSACTION_ID"]].to_numpy())
        print(
            f"{name:10s} AUC {auc:.3f}  AP {ap:.3f}  CP@100 {cp:.3f}  "
            f"({time.perf_counter() - started:.0f} s; targets 0.87 / 0.65 / 0.29)"
        )


if __name__ == "__main__":
    main()
