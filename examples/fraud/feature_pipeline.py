"""Step 1-2: the datasets (history of transactions and labels) and the feature pipeline."""

from __future__ import annotations

from config import connect, on_turboml, settings, simulator
from features import fraud_features


def main() -> None:
    backend = connect()
    try:
        history, history_labels, _, _ = simulator().split(settings.history_days)
        if "transactions" not in backend.datasets():
            backend.create_dataset("transactions", key="transactionID", df=history)
        if "labels" not in backend.datasets():
            backend.create_dataset(
                "labels", key="transactionID", df=history_labels[["transactionID", "is_fraud"]]
            )
        backend.materialize(fraud_features(turboml=on_turboml))
        values = backend.features("fraud_features")
        print(
            f"datasets: {len(backend.dataset('transactions')):,} transactions, "
            f"{len(backend.dataset('labels')):,} labels; feature set 'fraud_features': "
            f"{len(values):,} rows of {values.shape[1] - 1} features"
        )
    finally:
        backend.close()


if __name__ == "__main__":
    main()
