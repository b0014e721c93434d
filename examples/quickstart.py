"""rtml end to end in one file: datasets, streaming features, two online models, live data,
monitoring and comparison, on the embedded engine.

    python examples/quickstart.py

The data is generated here (card transactions where fraud shows as unusually high spending
for the card); the full fraud example with the handbook's features lives in examples/fraud.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

import rtml

console = Console()


def generate(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Card transactions over 20 days; a fraud is a burst of large amounts on one card."""
    rng = np.random.default_rng(seed)
    cards = rng.integers(0, 300, n)
    usual = rng.gamma(2.0, 20.0, 300)  # each card's usual amount
    ts = np.sort(rng.integers(1_700_000_000, 1_700_000_000 + 20 * 86400, n))
    fraud = rng.random(n) < 0.02
    amount = np.where(
        fraud, usual[cards] * rng.uniform(3, 8, n), usual[cards] * rng.gamma(4, 0.25, n)
    )
    events = pd.DataFrame(
        {
            "transactionID": np.arange(n),
            "accountID": cards,
            "timestamp": ts,
            "transactionAmount": amount.round(2),
            "localHour": (ts // 3600) % 24,
        }
    )
    return events, pd.DataFrame({"transactionID": np.arange(n), "is_fraud": fraud.astype(int)})


def main() -> None:
    started = time.perf_counter()
    events, labels = generate(30_000)
    history, live = events.iloc[:10_000], events.iloc[10_000:]

    console.rule("1. datasets")
    backend = rtml.connect("local", path=":memory:")
    tx = backend.create_dataset("transactions", key="transactionID", df=history)
    backend.create_dataset(
        "labels", key="transactionID", df=labels[labels.transactionID.isin(history.transactionID)]
    )
    console.print(f"transactions: {len(tx)} records of history")

    console.rule("2. feature pipeline")
    features = rtml.FeatureSet(
        name="fraud_features",
        dataset="transactions",
        timestamp="timestamp",
        features=[
            rtml.features.Aggregate(
                "avg_amount_7d", column="transactionAmount", op="avg", by="accountID", window="7d"
            ),
            rtml.features.Aggregate(
                "n_tx_1d", column="transactionAmount", op="count", by="accountID", window="1d"
            ),
            rtml.features.SQL("amount_ratio", '"transactionAmount" / NULLIF("avg_amount_7d", 0)'),
            rtml.features.SQL("night", 'CASE WHEN "localHour" <= 6 THEN 1 ELSE 0 END'),
        ],
    )
    backend.materialize(features)
    console.print(backend.features("fraud_features").tail(3))

    console.rule("3. models")
    inputs = rtml.Inputs(
        "fraud_features", numerical=["transactionAmount", "amount_ratio", "n_tx_1d", "night"]
    )
    label_source = rtml.Labels("labels", field="is_fraud")
    models = {
        "logistic": backend.deploy(
            "logistic",
            rtml.models.LogisticRegression(),
            inputs=inputs,
            labels=label_source,
            pretrain=True,
        ),
        "naive_bayes": backend.deploy(
            "naive_bayes",
            rtml.models.GaussianNB(),
            inputs=inputs,
            labels=label_source,
            pretrain=True,
        ),
    }

    console.rule("4. live data (labels one day after their transaction)")
    sim = rtml.simulate.ReplaySimulator(
        live,
        "transactions",
        timestamp="timestamp",
        labels=labels[labels.transactionID.isin(live.transactionID)],
        labels_dataset="labels",
        label_delay="1d",
        order="batch",
    )
    result = sim.run(backend, batch_size=500)
    console.print(f"pushed {result.pushed}")

    console.rule("5. monitoring and comparison")
    table = Table("model", "outputs", "labelled", "WindowedAUC (last 2,000)", "accuracy")
    for name, model in models.items():
        auc = model.evaluate("WindowedAUC", window=2000)["value"].iloc[-1]
        accuracy = model.evaluate("WindowedAccuracy", window=2000)["value"].iloc[-1]
        table.add_row(
            name,
            str(len(model.outputs())),
            str(len(model.evaluate("WindowedAUC"))),
            f"{auc:.3f}",
            f"{accuracy:.3f}",
        )
    console.print(table)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
