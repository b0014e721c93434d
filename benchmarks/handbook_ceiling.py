"""How high any model on the handbook's 15 features can rank the frauds of a week: the ROC AUC
ceiling set by the 7-day label delay.

    python -m benchmarks.handbook_ceiling [PATH] [--weeks START,...] [--forest CANDIDATE]

A terminal compromised by the handbook's second scenario turns every transaction on it into
fraud for 28 days, but its delayed risk features only show it once the first of those labels
is 7 days old. Until then the fraud's features are a legitimate transaction's (normal amount,
normal customer, normal terminal counts and risk), so any model ranks it among the legitimate
transactions at random: on average it is worth 0.5 of AUC, not 1. With a share ``p`` of a
week's frauds in that blind spot, the expected AUC of a model that ranks every other fraud
first is ``1 - p/2``. A compromise is dated by its first scenario-2 fraud: the first label that
can show it (two compromises of one terminal less than 28 days apart count as one, a slight
underestimate of the blind spot). Default weeks: the validation weeks of
``benchmarks/handbook_forest.py`` and the test week of ``benchmarks/handbook.py``.

``--forest 21:5`` also scores each week with that daily-refit forest (a candidate as
``benchmarks/handbook_forest.py`` reads it, seed 0) and splits its AUC by kind of fraud: the AUC is the mean,
over frauds, of the share of legitimate transactions each is ranked above, so each kind's share
of frauds times its shortfall (against 1, or 0.5 for the blind ones) adds up to the distance
from the ceiling. A diagnosis of a chosen model, not a way to choose one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import take_option
from benchmarks.handbook import (
    DEFAULT,
    DELAY,
    TEST_START,
    handbook_data,
    known_compromised_removed,
)
from benchmarks.handbook_forest import VALIDATION, candidate_scores, with_ratios

WEEKS = f"{VALIDATION},{TEST_START.date()}"
COMPROMISE = pd.Timedelta(days=28)  # the handbook simulator's compromise length


def since_compromise(frauds: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """For each scenario-2 fraud, the time since its terminal's first scenario-2 fraud within
    the compromise length before it."""
    earlier = frauds[["TRANSACTION_ID", "TERMINAL_ID", "TX_DATETIME"]].merge(
        history[["TERMINAL_ID", "TX_DATETIME"]], on="TERMINAL_ID", suffixes=("", "_earlier")
    )
    gap = earlier["TX_DATETIME"] - earlier["TX_DATETIME_earlier"]
    earlier = earlier[(gap >= pd.Timedelta(0)) & (gap < COMPROMISE)]
    start = earlier.groupby("TRANSACTION_ID")["TX_DATETIME_earlier"].min()
    when = frauds.set_index("TRANSACTION_ID")["TX_DATETIME"]
    return when - start.reindex(when.index)


def auc_by_kind(test: pd.DataFrame, scores: np.ndarray, blind: pd.Series) -> pd.DataFrame:
    """Per kind of fraud: how many, the mean share of legitimate transactions ranked below
    them (ties count half: their AUC against the legitimate ones) and the AUC lost to them."""
    is_fraud = test["TX_FRAUD"].to_numpy() == 1
    legit = np.sort(scores[~is_fraud])
    fraud_scores = scores[is_fraud]
    below = np.searchsorted(legit, fraud_scores, side="left")
    ties = np.searchsorted(legit, fraud_scores, side="right") - below
    frauds = test[is_fraud].assign(above=(below + ties / 2) / len(legit))
    kind = frauds["TX_FRAUD_SCENARIO"].map(
        {1: "amount over 220", 2: "terminal, seen", 3: "compromised card"}
    )
    kind[frauds["TRANSACTION_ID"].isin(blind.index[blind]).to_numpy()] = "terminal, blind"
    table = frauds.groupby(kind.to_numpy())["above"].agg(frauds="size", auc="mean")
    best = np.where(table.index == "terminal, blind", 0.5, 1.0)
    table["AUC lost"] = table["frauds"] / len(frauds) * (best - table["auc"])
    return table


def main() -> None:
    arguments = sys.argv[1:]
    weeks = take_option(arguments, "--weeks", WEEKS)
    forest = take_option(arguments, "--forest", "")
    path = Path(arguments[0]) if arguments else DEFAULT
    data = with_ratios(handbook_data(path)[0]) if forest else pd.read_parquet(path)
    terminal_frauds = data[data["TX_FRAUD_SCENARIO"] == 2]
    for week in weeks.split(","):
        test = known_compromised_removed(data, pd.Timestamp(week))
        frauds = test[test["TX_FRAUD_SCENARIO"] == 2]
        is_blind = since_compromise(frauds, terminal_frauds) < DELAY
        blind = int(is_blind.sum())
        total = int(test["TX_FRAUD"].sum())
        share = blind / total
        print(
            f"week {week}: {total} frauds, {blind} on terminals compromised less than "
            f"{DELAY.days} days before ({share:.1%}): AUC ceiling {1 - share / 2:.3f}"
        )
        if forest:
            scores = candidate_scores(data, pd.Timestamp(week), forest, seed=0)
            table = auc_by_kind(test, scores.loc[test["TRANSACTION_ID"]].to_numpy(), is_blind)
            lost = table["AUC lost"].sum()
            print(f"  forest {forest}: AUC {1 - share / 2 - lost:.3f}, by kind of fraud:")
            print(table.round(4).to_string())


if __name__ == "__main__":
    main()
