"""Online models: prequential predict-then-learn through a deployment vs the bare River loop.

    python -m benchmarks.models [N_ROWS]

For every River-backed kind: rows/s of a deployment on the local engine (labels pushed before
their rows, rows pushed in micro-batches of 1,000, so each row is predicted then learned) beside
River's own loop over the same rows in the same process — the ratio is rtml's overhead — and
the exact AUC of each. Slow kinds run on a prefix of the rows (the count is printed).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd

import rtml
from benchmarks.common import peak_rss_mb
from rtml.metrics import exact_auc

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
FEATURES = ["a", "b", "c", "d", "e", "f"]
M = rtml.models
KINDS: list[tuple[Any, int]] = [
    (M.LogisticRegression(), N),
    (M.GaussianNB(), N),
    (M.HoeffdingTreeClassifier(), N),
    (M.RandomSampler(base_model=M.HoeffdingTreeClassifier(), desired_dist=[0.8, 0.2], seed=1), N),
    (M.HoeffdingAdaptiveTreeClassifier(seed=1), N // 4),
    (M.AMFClassifier(n_estimators=5, seed=1), N // 20),
    (M.AdaptiveRandomForestClassifier(n_models=5, seed=1), N // 20),
    (M.LeveragingBaggingClassifier(base_model=M.GaussianNB(), n_models=5, seed=1), N // 10),
    (M.HST(seed=1), N // 4),
]


def fraud_like(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    logit = -4.8 + 1.4 * x[:, 0] - 1.1 * x[:, 1] + 0.8 * x[:, 2] * (x[:, 3] > 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(x, columns=FEATURES).assign(id=np.arange(n)), y


def bare_river(spec: Any, rows: list[dict[str, float]], y: np.ndarray) -> tuple[float, np.ndarray]:
    estimator = spec.build().estimator
    anomaly = spec.task == "anomaly_detection"
    scores = np.empty(len(rows))
    start = time.perf_counter()
    for i, (x, label) in enumerate(zip(rows, y.tolist(), strict=True)):
        if anomaly:
            scores[i] = estimator.score_one(x)
            estimator.learn_one(x)
        else:
            scores[i] = estimator.predict_proba_one(x).get(1, 0.0)
            estimator.learn_one(x, label)
    return time.perf_counter() - start, scores


def deployed(
    spec: Any, events: pd.DataFrame, y: np.ndarray, batch: int
) -> tuple[float, np.ndarray]:
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("tx", key="id", df=events.iloc[:0])
    labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    model = backend.deploy(
        "m",
        spec,
        inputs=rtml.Inputs("tx", numerical=FEATURES),
        labels=rtml.Labels("labels", field="y"),
    )
    label_frame = pd.DataFrame({"id": events["id"], "y": y})
    start = time.perf_counter()
    for lo in range(0, len(events), batch):
        labels.push(label_frame.iloc[lo : lo + batch])
        tx.push(events.iloc[lo : lo + batch])
    seconds = time.perf_counter() - start
    return seconds, model.outputs()["score"].to_numpy(dtype="float64")


def main() -> None:
    events, y = fraud_like(N)
    print(
        f"{N:,} fraud-like rows, {y.mean():.2%} positive, {len(FEATURES)} features; "
        "micro-batches of 1,000"
    )
    print(
        f"{'kind':<32}{'rows':>9}{'River rows/s':>14}{'rtml rows/s':>13}{'ratio':>7}"
        f"{'AUC River':>11}{'AUC rtml':>10}"
    )
    ratios = []
    for spec, n in KINDS:
        rows = events.iloc[:n][FEATURES].to_dict("records")
        river_s, river_scores = bare_river(spec, rows, y[:n])
        rtml_s, rtml_scores = deployed(spec, events.iloc[:n], y[:n], batch=1000)
        ratio = river_s / rtml_s
        ratios.append(ratio)
        print(
            f"{spec.kind:<32}{n:>9,}{n / river_s:>14,.0f}{n / rtml_s:>13,.0f}{ratio:>7.2f}"
            f"{exact_auc(y[:n], river_scores):>11.4f}{exact_auc(y[:n], rtml_scores):>10.4f}"
        )
    lr_s, lr_scores = bare_river(M.LogisticRegression(), events[FEATURES].to_dict("records"), y)
    fast = M.OnlineLinearClassifier()
    fast_s, fast_scores = deployed(fast, events, y, batch=1000)
    print(
        f"{'OnlineLinearClassifier (vector)':<32}{N:>9,}{N / lr_s:>14,.0f}{N / fast_s:>13,.0f}"
        f"{lr_s / fast_s:>7.2f}{exact_auc(y, lr_scores):>11.4f}{exact_auc(y, fast_scores):>10.4f}"
        "   (River column: River's LogisticRegression)"
    )
    learner = fast.build()
    frame = events[FEATURES]
    start = time.perf_counter()
    for lo in range(0, N, 1000):
        learner.predict_many(frame.iloc[lo : lo + 1000])
        learner.learn_many(frame.iloc[lo : lo + 1000], y[lo : lo + 1000])
    raw = N / (time.perf_counter() - start)
    print(f"OnlineLinearClassifier alone (no store), micro-batch 1,000: {raw:,.0f} rows/s")
    print(f"peak RSS {peak_rss_mb():,.0f} MB")
    print(
        f"summary: rtml/River throughput ratio {min(ratios):.2f}..{max(ratios):.2f} over "
        f"{len(ratios)} River kinds; vectorised learner {N / fast_s:,.0f} rows/s end to end"
    )


if __name__ == "__main__":
    main()
