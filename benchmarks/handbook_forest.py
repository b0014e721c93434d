"""Choosing ``WindowedRandomForest``'s window and leaf size on weeks before the handbook's test
week, with a bare scikit-learn loop (no rtml deployment) that refits at each day's start on the
transactions whose labels are known by then (7 days late) within the last N days.

    python -m benchmarks.handbook_forest [--weeks START,...] [--seeds N] [CANDIDATE ...]

A candidate is ``DAYS:MIN_LEAF`` (the last DAYS days of labels, leaves of MIN_LEAF records),
``DAYS:MIN_LEAF:RECENCY`` (each record weighted by exp(-age / RECENCY days), as
``WindowedRandomForest(recency=...)``), either with ``xTREES`` after it for a forest of TREES
trees instead of 100 (``21:5x300``) and with ``/`` options after that, ``WindowedRandomForest``'s
settings: ``bal`` for ``class_weight="balanced_subsample"``, ``fX`` for ``max_features=X`` (a
fraction of the inputs; ``sqrt`` by default), ``sX`` for ``max_samples=X`` (``21:5/bal/f0.5``),
and ``et`` for extremely randomized trees instead (scikit-learn's ``ExtraTreesClassifier``,
``21:5/et``); ``ratios`` adds the amount over the card's 1, 7 and 30-day mean amounts to the
inputs and ``hN`` refits every N hours instead of every 24 (both also for boosting:
``21:5/ratios``, ``21:5/h12``); ``gbDAYS`` for gradient-boosted trees refit the same way
instead of a forest (``HistGradientBoostingClassifier``, 100 iterations, no early stopping),
with ``/`` options
``dN`` (``max_depth``), ``lrX`` (``learning_rate``) and ``iN`` (``max_iter``): ``gb21/d6``,
an online learner of ``benchmarks.handbook_river``
(``lr-log``: scoring every transaction from 2018-05-01, learning each label 7 days on), or
members joined by ``+``, whose probabilities are averaged (``SoftVoting``): ``21:5+21:5:7``,
``21:5+lr-log``; a member written twice weighs twice (``21:5+21:5+21:5+lr-log``).

Default: the four weeks before the test week (2018-07-11 to 2018-08-01) as validation weeks,
candidates 7:1 14:1 14:5 21:1 21:5 28:5. Prints each candidate's metrics per week, their mean
over the weeks, and the candidate whose mean ranks best over the three; ``--weeks 2018-08-08``
scores the test week itself (what ``benchmarks/handbook.py`` then runs inside rtml). Same data,
features, label delay and metrics as ``benchmarks/handbook.py``.

``--seeds N`` runs each candidate with the forest's seeds 0 to N-1 and prints the spread of the
metrics over seeds: how far one run (``benchmarks/handbook.py`` uses seed 0) can land from the
candidate's typical figures by the luck of the bootstrap alone.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)

from benchmarks.common import HANDBOOK_INPUTS, take_option
from benchmarks.handbook import DEFAULT, DELAY, handbook_data, known_compromised_removed, metrics
from benchmarks.handbook_river import CANDIDATES as RIVER
from benchmarks.handbook_river import prequential_scores

DAY = pd.Timedelta(days=1)
VALIDATION = "2018-07-11,2018-07-18,2018-07-25,2018-08-01"
CANDIDATES = ["7:1", "14:1", "14:5", "21:1", "21:5", "28:5"]


class Refit(NamedTuple):
    """How a batch member is refit: on the labels of the last ``days`` days, by
    ``make_model()`` (a scikit-learn classifier), every ``hours`` hours from the week's start,
    records weighted by exp(-age / ``recency`` days) when given, reading ``inputs``."""

    days: int
    make_model: Callable[[], Any]
    recency: float | None = None
    hours: int = 24
    inputs: tuple[str, ...] = tuple(HANDBOOK_INPUTS)


def refit_scores(data: pd.DataFrame, start: pd.Timestamp, refit: Refit) -> pd.Series:
    """Scores of the week from ``start``, each period scored by a model fitted at its start on
    the labels known by then (transactions at least 7 days old) within ``refit.days`` days."""
    when = data["TX_DATETIME"]
    inputs = list(refit.inputs)
    period = pd.Timedelta(hours=refit.hours)
    scores = pd.Series(np.nan, index=data["TRANSACTION_ID"].to_numpy())
    for offset in range(-(-7 * 24 // refit.hours)):
        at = start + offset * period
        known = at - DELAY
        train = data[(when >= known - refit.days * DAY) & (when < known)]
        weights = None
        if refit.recency is not None:
            weights = np.exp(-((known - train["TX_DATETIME"]) / DAY).to_numpy() / refit.recency)
        model = refit.make_model().fit(train[inputs], train["TX_FRAUD"], sample_weight=weights)
        scored = data[(when >= at) & (when < min(at + period, start + 7 * DAY))]
        scores.loc[scored["TRANSACTION_ID"].to_numpy()] = model.predict_proba(scored[inputs])[:, 1]
    return scores


_ONLINE: dict[str, pd.Series] = {}  # an online learner's scores: one run serves every week
_FORESTS: dict[tuple[pd.Timestamp, str, int], pd.Series] = {}


def online_scores(data: pd.DataFrame, name: str) -> pd.Series:
    """Scores by transaction of ``handbook_river``'s learner ``name``, run prequentially."""
    if name not in _ONLINE:
        stream = data[data["TX_DATETIME"] >= pd.Timestamp("2018-05-01")].sort_values(
            "TX_DATETIME", kind="stable"
        )
        scores = prequential_scores(stream, RIVER[name]())
        _ONLINE[name] = pd.Series(scores, index=stream["TRANSACTION_ID"].to_numpy())
    return _ONLINE[name]


# The card's spending against its habit (the handbook's third kind of fraud multiplies a card's
# amounts by five): ratios a forest can only approach by many thresholds on the two inputs.
RATIOS = {
    f"AMOUNT_OVER_CUSTOMER_AVG_{d}DAY": f"CUSTOMER_ID_AVG_AMOUNT_{d}DAY_WINDOW" for d in (1, 7, 30)
}


def with_ratios(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with the ``RATIOS`` columns: 1 where the card has no mean yet."""
    data = data.copy()
    for ratio, mean in RATIOS.items():
        data[ratio] = (data["TX_AMOUNT"] / data[mean].replace(0, np.nan)).fillna(1.0)
    return data


def forest_settings(options: list[str]) -> dict[str, Any]:
    """scikit-learn settings from a candidate's ``/`` options (see the module's docstring)."""
    settings: dict[str, Any] = {}
    for option in options:
        if option == "bal":
            settings["class_weight"] = "balanced_subsample"
        elif option[:1] == "f":
            settings["max_features"] = float(option[1:])
        elif option[:1] == "s":
            settings["max_samples"] = float(option[1:])
        else:
            raise SystemExit(f"unknown forest option {option!r}: expected bal, fX or sX")
    return settings


def batch_member(member: str, seed: int) -> Refit:
    """How a forest or boosting member is refit (see the module's docstring)."""
    sized, *options = member.split("/")
    common: dict[str, Any] = {}
    for option in [o for o in options if o == "ratios" or o[:1] == "h"]:
        options.remove(option)
        if option == "ratios":
            common["inputs"] = (*HANDBOOK_INPUTS, *RATIOS)
        else:
            common["hours"] = int(option[1:])
    if sized.startswith("gb"):
        settings = boosting_settings(options)
        return Refit(
            int(sized[2:]),
            lambda: HistGradientBoostingClassifier(
                early_stopping=False, random_state=seed, **settings
            ),
            **common,
        )
    shape, _, trees = sized.partition("x")
    days, leaf, *recency = shape.split(":")
    forest = ExtraTreesClassifier if "et" in options else RandomForestClassifier
    settings = forest_settings([o for o in options if o != "et"])
    return Refit(
        int(days),
        lambda: forest(
            n_estimators=int(trees or 100),
            min_samples_leaf=int(leaf),
            n_jobs=2,
            random_state=seed,
            **settings,
        ),
        float(recency[0]) if recency else None,
        **common,
    )


def boosting_settings(options: list[str]) -> dict[str, Any]:
    """scikit-learn settings of a ``gb`` member's ``/`` options (see the module's docstring)."""
    settings: dict[str, Any] = {}
    for option in options:
        if option[:2] == "lr":
            settings["learning_rate"] = float(option[2:])
        elif option[:1] == "d":
            settings["max_depth"] = int(option[1:])
        elif option[:1] == "i":
            settings["max_iter"] = int(option[1:])
        else:
            raise SystemExit(f"unknown boosting option {option!r}: expected dN, lrX or iN")
    return settings


def candidate_scores(
    data: pd.DataFrame, start: pd.Timestamp, candidate: str, seed: int
) -> pd.Series:
    """The week's scores of a candidate: the mean of its members' (one unless joined by +)."""
    members: dict[str, pd.Series] = {}
    for member in candidate.split("+"):
        if member in members:
            continue
        if member in RIVER:
            members[member] = online_scores(data, member)
            continue
        fitted = (start, member, seed)  # a model in several candidates is fitted once
        if fitted not in _FORESTS:
            _FORESTS[fitted] = refit_scores(data, start, batch_member(member, seed))
        members[member] = _FORESTS[fitted]
    parts = [members[m] for m in candidate.split("+")]  # aligned by transaction
    return sum(parts[1:], parts[0]) / len(parts)


def main() -> None:
    arguments = sys.argv[1:]
    weeks = take_option(arguments, "--weeks", VALIDATION)
    seeds = int(take_option(arguments, "--seeds", "1"))
    data, _ = handbook_data(DEFAULT)
    data = with_ratios(data)
    rows = []
    for week in weeks.split(","):
        start = pd.Timestamp(week)
        test = known_compromised_removed(data, start)
        for candidate in arguments or CANDIDATES:
            for seed in range(seeds):
                started = time.perf_counter()
                scores = candidate_scores(data, start, candidate, seed)
                auc, ap, cp = metrics(test, scores.loc[test["TRANSACTION_ID"]].to_numpy())
                rows.append((candidate, week, seed, auc, ap, cp))
                print(
                    f"week {week}, {candidate}, seed {seed}: "
                    f"AUC {auc:.4f}  AP {ap:.4f}  CP@100 {cp:.4f}  "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
    names = ["ROC AUC", "AP", "CP@100"]
    table = pd.DataFrame(rows, columns=["candidate", "week", "seed", *names])
    means = table.groupby("candidate", sort=False)[names].mean()
    print(f"mean over {table['week'].nunique()} week(s) and {seeds} seed(s):")
    print(means.round(4).to_string())
    if seeds > 1:
        # Each seed's mean over the weeks: the spread one run of a candidate can show.
        by_seed = table.groupby(["candidate", "seed"], sort=False)[names].mean()
        spread = by_seed.groupby(level=0, sort=False).agg(["min", "max", "std"])
        print("over seeds (min, max, standard deviation of the mean over weeks):")
        print(spread.round(4).to_string())
    # The targets are on all three metrics: the best candidate ranks best on them together.
    rank = means.rank(ascending=False).mean(axis=1)
    best = rank.idxmin()
    print(
        f"summary: best mean rank over ROC AUC, AP and CP@100: {best}, "
        f"mean {means.loc[best].round(4).tolist()}"
    )


if __name__ == "__main__":
    main()
