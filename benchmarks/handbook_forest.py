"""Choosing ``WindowedRandomForest``'s window and leaf size on weeks before the handbook's test
week, with a bare scikit-learn loop (no rtml deployment) that refits at each day's start on the
transactions whose labels are known by then (7 days late) within the last N days.

    python -m benchmarks.handbook_forest [--weeks START,...] [DAYS:MIN_LEAF ...]

Default: the four weeks before the test week (2018-07-11 to 2018-08-01) as validation weeks,
candidates 7:1 14:1 14:5 21:1 21:5 28:5. Prints each candidate's metrics per week, their mean
over the weeks, and the candidate whose mean ranks best over the three; ``--weeks 2018-08-08``
scores the test week itself (what ``benchmarks/handbook.py`` then runs inside rtml). Same data,
features, label delay and metrics as ``benchmarks/handbook.py``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from benchmarks.common import HANDBOOK_INPUTS
from benchmarks.handbook import DEFAULT, DELAY, handbook_data, known_compromised_removed, metrics

DAY = pd.Timedelta(days=1)
VALIDATION = "2018-07-11,2018-07-18,2018-07-25,2018-08-01"
CANDIDATES = ["7:1", "14:1", "14:5", "21:1", "21:5", "28:5"]


def daily_refits(data: pd.DataFrame, start: pd.Timestamp, days: int, leaf: int) -> pd.Series:
    """Scores of the week from ``start``: each day scored by a forest fitted at its start."""
    when = data["TX_DATETIME"]
    scores = pd.Series(np.nan, index=data["TRANSACTION_ID"].to_numpy())
    for offset in range(7):
        day = start + offset * DAY
        known = day - DELAY
        train = data[(when >= known - days * DAY) & (when < known)]
        forest = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=leaf, n_jobs=2, random_state=0
        ).fit(train[HANDBOOK_INPUTS], train["TX_FRAUD"])
        today = data[(when >= day) & (when < day + DAY)]
        scores.loc[today["TRANSACTION_ID"].to_numpy()] = forest.predict_proba(
            today[HANDBOOK_INPUTS]
        )[:, 1]
    return scores


def main() -> None:
    arguments = sys.argv[1:]
    weeks = VALIDATION
    if "--weeks" in arguments:
        at = arguments.index("--weeks")
        weeks = arguments[at + 1]
        del arguments[at : at + 2]
    data, _ = handbook_data(DEFAULT)
    rows = []
    for week in weeks.split(","):
        start = pd.Timestamp(week)
        test = known_compromised_removed(data, start)
        for candidate in arguments or CANDIDATES:
            days, leaf = (int(v) for v in candidate.split(":"))
            started = time.perf_counter()
            scores = daily_refits(data, start, days, leaf)
            auc, ap, cp = metrics(test, scores.loc[test["TRANSACTION_ID"]].to_numpy())
            rows.append((candidate, week, auc, ap, cp))
            print(
                f"week {week}, last {days} days, min_samples_leaf {leaf}: AUC {auc:.3f}  "
                f"AP {ap:.3f}  CP@100 {cp:.3f}  ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    table = pd.DataFrame(rows, columns=["DAYS:MIN_LEAF", "week", "ROC AUC", "AP", "CP@100"])
    means = table.groupby("DAYS:MIN_LEAF", sort=False)[["ROC AUC", "AP", "CP@100"]].mean()
    print(f"mean over {table['week'].nunique()} week(s):")
    print(means.round(3).to_string())
    # The targets are on all three metrics: the best candidate ranks best on them together.
    rank = means.rank(ascending=False).mean(axis=1)
    best = rank.idxmin()
    print(
        f"summary: best mean rank over ROC AUC, AP and CP@100: {best} "
        f"(days of labels : min_samples_leaf), mean {means.loc[best].round(3).tolist()}"
    )


if __name__ == "__main__":
    main()
