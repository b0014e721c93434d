"""rtml's local feature values beside what turboml-sdk's own LocalDataset computes.

    python -m benchmarks.turboml_parity [--sdk MODULE] [DAYS]

The fraud example's features that TurboML can compute (``fraud_features(turboml=True)``: SQL
flags and per-customer windows) over synthetic transactions, computed (a) by rtml's local engine,
backfill, and (b) by the SDK's ``LocalDataset`` feature engineering, through the calls the TurboML
backend makes. Needs ``pip install "rtml[turboml]"`` (Python 3.11, a system whose libstdc++ the
SDK's bindings accept); ``--sdk tests.turboml.double`` runs it on the test double instead.
Prints, per feature, the rows that differ and how many of those share their key's event time
with another record (the one documented difference).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

import rtml
from benchmarks.common import take_option
from rtml.backends.turboml.backend import sdk_local_features


def main() -> None:
    arguments = sys.argv[1:]
    sdk_name = take_option(arguments, "--sdk", "turboml")
    days = int(arguments[0]) if arguments else 10
    sdk = importlib.import_module(sdk_name)
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "fraud"))
    from features import fraud_features

    fs = fraud_features(turboml=True)
    events, _ = rtml.simulate.SyntheticFraudSimulator(
        n_customers=1000, n_terminals=2000, days=days, seed=3
    ).generate()
    local = rtml.connect("local", path=":memory:")
    local.create_dataset("transactions", key="transactionID", df=events)
    local.materialize(fs)
    ours = local.features("fraud_features").sort_values("transactionID").reset_index(drop=True)
    theirs = sdk_local_features(fs, events, "transactionID", sdk)
    by_id = events.set_index("transactionID").loc[ours["transactionID"]]
    tied = by_id.duplicated(["accountID", "timestamp"], keep=False).to_numpy()
    print(f"{len(events):,} transactions, {len(fs.features)} features, SDK module {sdk_name!r}")
    worst = 0
    for f in fs.features:
        a = ours[f.name].astype(float).to_numpy()
        b = theirs[f.name].astype(float).to_numpy()
        same = np.isclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
        differing = int((~same).sum())
        worst = max(worst, int((~same & ~tied).sum()))
        print(
            f"  {f.name:20s} rows differing: {differing:6,d} (of which with tied event times: "
            f"{int((~same & tied).sum()):,d})"
        )
    print(
        "summary: "
        + (
            "equal value by value except at tied event times"
            if worst == 0
            else f"{worst} rows differ without a tie"
        )
    )


if __name__ == "__main__":
    main()
