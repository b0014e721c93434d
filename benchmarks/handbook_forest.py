"""A random forest refit at the start of each test-week day on the last N days of labels, as a
bare scikit-learn loop (no rtml deployment): what a refit schedule aligned to event time gives,
beside ``WindowedRandomForest``'s count-based one in ``benchmarks/handbook.py``.

    python -m benchmarks.handbook_forest [DAYS:MIN_LEAF ...]     (default 14:1)

Same data, features, label delay (7 days) and metrics as ``benchmarks/handbook.py``; only the
test week is scored (one forest per day, trained on transactions whose labels are known by that
day's start).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from benchmarks.common import HANDBOOK_INPUTS
from benchmarks.handbook import (
    DEFAULT,
    TEST_START,
    handbook_data,
    known_compromised_removed,
    metrics,
)

DAY, DELAY = pd.Timedelta(days=1), pd.Timedelta(days=7)


def main() -> None:
    data, _ = handbook_data(DEFAULT)
    test = known_compromised_removed(data)
    when = data["TX_DATETIME"]
    for spec in sys.argv[1:] or ["14:1"]:
        days, leaf = (int(v) for v in spec.split(":"))
        started = time.perf_counter()
        scores = pd.Series(np.nan, index=data["TRANSACTION_ID"].to_numpy())
        for day in range(7):
            start = TEST_START + day * DAY
            known = start - DELAY
            train = data[(when >= known - pd.Timedelta(days=days)) & (when < known)]
            forest = RandomForestClassifier(
                n_estimators=100, min_samples_leaf=leaf, n_jobs=2, random_state=0
            ).fit(train[HANDBOOK_INPUTS], train["TX_FRAUD"])
            today = data[(when >= start) & (when < start + DAY)]
            scores.loc[today["TRANSACTION_ID"].to_numpy()] = forest.predict_proba(
                today[HANDBOOK_INPUTS]
            )[:, 1]
        auc, ap, cp = metrics(test, scores.loc[test["TRANSACTION_ID"]].to_numpy())
        print(
            f"last {days} days, min_samples_leaf {leaf}: AUC {auc:.3f}  AP {ap:.3f}  "
            f"CP@100 {cp:.3f}  ({time.perf_counter() - started:.0f} s)"
        )


if __name__ == "__main__":
    main()
