"""How high any model on the handbook's 15 features can rank the frauds of a week: the ROC AUC
ceiling set by the 7-day label delay.

    python -m benchmarks.handbook_ceiling [PATH] [--weeks START,...]

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
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from benchmarks.common import take_option
from benchmarks.handbook import DEFAULT, DELAY, TEST_START, known_compromised_removed
from benchmarks.handbook_forest import VALIDATION

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


def main() -> None:
    arguments = sys.argv[1:]
    weeks = take_option(arguments, "--weeks", WEEKS)
    path = Path(arguments[0]) if arguments else DEFAULT
    data = pd.read_parquet(path)
    terminal_frauds = data[data["TX_FRAUD_SCENARIO"] == 2]
    for week in weeks.split(","):
        test = known_compromised_removed(data, pd.Timestamp(week))
        frauds = test[test["TX_FRAUD_SCENARIO"] == 2]
        blind = int((since_compromise(frauds, terminal_frauds) < DELAY).sum())
        total = int(test["TX_FRAUD"].sum())
        share = blind / total
        print(
            f"week {week}: {total} frauds, {blind} on terminals compromised less than "
            f"{DELAY.days} days before ({share:.1%}): AUC ceiling {1 - share / 2:.3f}"
        )


if __name__ == "__main__":
    main()
