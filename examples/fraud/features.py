"""The fraud features: the handbook's customer spending windows and delayed terminal risk,
written over TurboML's fraud column names.

TurboML has no delayed windows and no aggregates over another dataset (the labels), so on
TurboML the terminal-risk features are left out (``turboml=True``): rtml refuses them there
rather than compute something else.
"""

from __future__ import annotations

import rtml

A, SQL = rtml.features.Aggregate, rtml.features.SQL


def fraud_features(turboml: bool = False) -> rtml.FeatureSet:
    features: list[rtml.Feature] = [
        SQL(name="night", expr='CASE WHEN "localHour" <= 6 THEN 1 ELSE 0 END'),
        SQL(
            name="weekend",
            expr='CASE WHEN dayofweek(to_timestamp("timestamp")) IN (0, 6) THEN 1 ELSE 0 END',
        ),
    ]
    for days in (1, 7, 30):
        features += [
            A(
                name=f"customer_tx_{days}d",
                column="transactionAmount",
                op="count",
                by="accountID",
                window=f"{days}d",
            ),
            A(
                name=f"customer_avg_{days}d",
                column="transactionAmount",
                op="avg",
                by="accountID",
                window=f"{days}d",
            ),
        ]
        if turboml:
            continue
        features += [
            # Terminal risk over the window ending 7 days ago: labels are known by then.
            A(
                name=f"terminal_tx_{days}d",
                column="transactionAmount",
                op="count",
                by="terminalID",
                window=f"{days}d",
                delay="7d",
                closed="right",
            ),
            A(
                name=f"terminal_fraud_{days}d",
                column="is_fraud",
                op="sum",
                by="terminalID",
                window=f"{days}d",
                delay="7d",
                closed="right",
                source="labels",
            ),
            SQL(
                name=f"terminal_risk_{days}d",
                expr=f'CASE WHEN "terminal_tx_{days}d" > 0 THEN '
                f'coalesce("terminal_fraud_{days}d", 0) / "terminal_tx_{days}d" ELSE 0 END',
            ),
        ]
    features.append(
        SQL(name="amount_vs_30d", expr='"transactionAmount" / NULLIF("customer_avg_30d", 0)')
    )
    return rtml.FeatureSet(
        name="fraud_features", dataset="transactions", timestamp="timestamp", features=features
    )


def model_inputs(turboml: bool = False) -> list[str]:
    """The numerical inputs of the models: raw fields and the features above."""
    inputs = [
        "transactionAmount",
        "night",
        "weekend",
        "isProxyIP",
        "digitalItemCount",
        "physicalItemCount",
        "amount_vs_30d",
        *(f"customer_{k}_{d}d" for d in (1, 7, 30) for k in ("tx", "avg")),
    ]
    if not turboml:
        inputs += [f"terminal_{k}_{d}d" for d in (1, 7, 30) for k in ("tx", "risk")]
    return inputs
