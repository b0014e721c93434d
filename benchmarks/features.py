"""Feature engine throughput: the handbook feature set, backfill and live, beside baselines.

    python benchmarks/features.py [N_EVENTS]

Prints rows/s for the backfill (history at creation + materialize) and for live pushes at
micro-batches of 1, 100 and 10,000, each beside DuckDB's window SQL recomputing the same
customer features and River's ``feature_extraction.Agg`` on the same rows, in the same run.
Live runs at small micro-batches are timed on a prefix of the stream (they would take long).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import duckdb
import numpy as np

import rtml
from benchmarks.common import handbook_features, peak_rss_mb, timed, transactions

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
LIVE_LIMIT = {1: 5_000, 100: 50_000, 10_000: N}


def backfill(events, labels) -> float:
    backend = rtml.connect("local", path=":memory:")
    backend.create_dataset("transactions", key="TRANSACTION_ID", df=events)
    backend.create_dataset("labels", key="TRANSACTION_ID", df=labels)
    seconds, _ = timed(lambda: backend.materialize(handbook_features()))
    assert len(backend.features("handbook")) == len(events)
    return seconds, backend.feature_engine("handbook").state_size()


def live(events, labels, batch: int) -> tuple[int, float]:
    n = min(len(events), LIVE_LIMIT[batch])
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("transactions", key="TRANSACTION_ID", df=events.iloc[:0])
    lb = backend.create_dataset("labels", key="TRANSACTION_ID", df=labels.iloc[:0])
    backend.materialize(handbook_features())

    def run() -> None:
        for lo in range(0, n, batch):
            tx.push(events.iloc[lo : lo + batch])
            lb.push(labels.iloc[lo : lo + batch])  # labels right after: the 7-day delay hides them

    seconds, _ = timed(run)
    return n, seconds


def duckdb_sql(events) -> float:
    con = duckdb.connect()
    con.register("tx", events)
    windows = ", ".join(
        f'count("TX_AMOUNT") OVER (PARTITION BY "CUSTOMER_ID" ORDER BY "TX_TS" RANGE BETWEEN '
        f'{d * 86400} PRECEDING AND CURRENT ROW) AS n{d}, avg("TX_AMOUNT") OVER (PARTITION BY '
        f'"CUSTOMER_ID" ORDER BY "TX_TS" RANGE BETWEEN {d * 86400} PRECEDING AND CURRENT ROW) AS a{d}'
        for d in (1, 7, 30)
    )
    seconds, _ = timed(lambda: con.execute(f"SELECT {windows} FROM tx").fetchnumpy())
    return seconds


def river_agg(events, limit: int) -> tuple[int, float]:
    import datetime as dt

    from river import feature_extraction, stats, utils

    def rolling(stat: type, days: int) -> Any:
        period = dt.timedelta(days=days)
        # River 0.26 takes the statistic's class (an instance is deprecated); earlier ones an
        # instance.
        if "cls" in inspect.signature(utils.TimeRolling).parameters:
            return utils.TimeRolling(stat, period=period)
        return utils.TimeRolling(stat(), period=period)

    # A rolling count is a rolling sum of ones (River's Count cannot be reverted).
    aggs = [
        feature_extraction.Agg(on=on, by="CUSTOMER_ID", how=how)
        for days in (1, 7, 30)
        for on, how in (("ONE", rolling(stats.Sum, days)), ("TX_AMOUNT", rolling(stats.Mean, days)))
    ]
    rows = events.iloc[:limit].assign(ONE=1).to_dict("records")

    def run() -> None:
        for row in rows:
            t = dt.datetime.utcfromtimestamp(row["TX_TS"])
            for agg in aggs:
                agg.learn_one(row, t=t)
                agg.transform_one(row)

    seconds, _ = timed(run)
    return len(rows), seconds


def main() -> None:
    events, labels = transactions(N)
    print(
        f"handbook feature set: 15 features, {N:,} events, "
        f"{events.CUSTOMER_ID.nunique():,} customers, {events.TERMINAL_ID.nunique():,} terminals"
    )
    sql_s = duckdb_sql(events)
    print(f"DuckDB window SQL (6 customer features only): {N / sql_s:,.0f} rows/s")
    rn, rs = river_agg(events, 100_000)
    print(f"River Agg + TimeRolling (6 customer features, {rn:,} rows): {rn / rs:,.0f} rows/s")
    bs, state = backfill(events, labels)
    print(
        f"rtml backfill (15 features): {N / bs:,.0f} rows/s  = {sql_s / bs:.2f}x DuckDB SQL "
        f"(which computes 6), {rn / rs and (N / bs) / (rn / rs):.2f}x River"
    )
    print(
        f"window state after the backfill: {max(state.values()):,} records per group at most "
        f"(bounded by the 30-day windows, not the {N:,} events)"
    )
    for batch in (1, 100, 10_000):
        n, s = live(events, labels, batch)
        print(f"rtml live, micro-batch {batch:>6,}: {n / s:,.0f} events/s ({n:,} events)")
    print(
        f"peak RSS of the process {peak_rss_mb():,.0f} MB (the events themselves: "
        f"{events.memory_usage(deep=True).sum() / 1e6:,.0f} MB)"
    )
    print(
        f"summary: backfill {N / bs:,.0f} rows/s over {N:,} events; "
        f"DuckDB SQL {N / sql_s:,.0f} rows/s; River {rn / rs:,.0f} rows/s"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
