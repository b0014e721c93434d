"""The handbook's 15 features as one FeatureSet, checked against an independent computation
(brute-force scans of the records in arrival order)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmarks.common import handbook_features, transactions

import rtml

DAY = 86400


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    events, labels = transactions(12_000, customers=300, terminals=500, seed=11)
    return events, labels


def expected_customer(events: pd.DataFrame, days: int) -> pd.DataFrame:
    """Per customer, the rows up to this one (arrival order) at most ``days`` older."""
    out = np.zeros((len(events), 2))
    for _, rows in events.groupby("CUSTOMER_ID"):
        ts = rows["TX_TS"].to_numpy()
        amounts = rows["TX_AMOUNT"].to_numpy()
        for i, position in enumerate(rows.index):
            inside = amounts[: i + 1][ts[: i + 1] >= ts[i] - days * DAY]
            out[position] = (len(inside), inside.mean())
    return pd.DataFrame(out, columns=["count", "mean"], index=events.index)


def expected_terminal(events: pd.DataFrame, labels: pd.DataFrame, days: int) -> pd.DataFrame:
    fraud = labels.set_index("TRANSACTION_ID")["TX_FRAUD"]
    out = np.zeros((len(events), 2))
    for _, rows in events.groupby("TERMINAL_ID"):
        ts = rows["TX_TS"].to_numpy()
        y = fraud.loc[rows["TRANSACTION_ID"]].to_numpy()
        for position, t in zip(rows.index, ts, strict=True):
            inside = (ts > t - 7 * DAY - days * DAY) & (ts <= t - 7 * DAY)
            out[position] = (inside.sum(), y[inside].sum())
    return pd.DataFrame(out, columns=["count", "fraud"], index=events.index)


@pytest.mark.parametrize("live", [False, True], ids=["backfill", "live"])
def test_handbook_features_match_an_independent_computation(data, live) -> None:
    events, labels = data
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset(
        "transactions", key="TRANSACTION_ID", df=events.iloc[:0] if live else events
    )
    lb = backend.create_dataset(
        "labels", key="TRANSACTION_ID", df=labels.iloc[:0] if live else labels
    )
    fs = handbook_features()
    assert len(fs.features) == 17  # the 15 features, and the 2 label counts behind the risks
    backend.materialize(fs)
    if live:
        rng = np.random.default_rng(0)
        position = 0
        while position < len(events):
            size = int(rng.choice([1, 7, 300, 2000]))
            tx.push(events.iloc[position : position + size])
            lb.push(labels.iloc[position : position + size])  # a label right after its event
            position += size
    got = backend.features("handbook").set_index("TRANSACTION_ID").loc[events["TRANSACTION_ID"]]
    got.index = events.index
    for days in (1, 7, 30):
        want = expected_customer(events, days)
        np.testing.assert_array_equal(got[f"CUSTOMER_ID_NB_TX_{days}DAY_WINDOW"], want["count"])
        np.testing.assert_allclose(
            got[f"CUSTOMER_ID_AVG_AMOUNT_{days}DAY_WINDOW"], want["mean"], rtol=1e-12
        )
        terminal = expected_terminal(events, labels, days)
        np.testing.assert_array_equal(got[f"TERMINAL_ID_NB_TX_{days}DAY_WINDOW"], terminal["count"])
        risk = np.where(terminal["count"] > 0, terminal["fraud"] / terminal["count"].clip(1), 0.0)
        np.testing.assert_allclose(got[f"TERMINAL_ID_RISK_{days}DAY_WINDOW"], risk, rtol=1e-12)
    when = pd.to_datetime(events["TX_TS"], unit="s")
    np.testing.assert_array_equal(got["TX_DURING_WEEKEND"], (when.dt.weekday >= 5).astype(int))
    np.testing.assert_array_equal(got["TX_DURING_NIGHT"], (when.dt.hour <= 6).astype(int))
