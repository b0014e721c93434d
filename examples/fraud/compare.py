"""Steps 5-6: monitoring and comparison — the windowed AUC of each deployed model over time,
and where the transactions' fields and the models' scores changed (drift)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from config import connect, settings

import rtml


def main() -> None:
    backend = connect()
    try:
        deployments = [backend.deployment(name) for name in backend.deployments()]
        # Drift first (it needs no labels); the models' metrics and the chart end the run.
        print(
            f"Drift (ADWIN) in the stream; the new fraud pattern starts on day "
            f"{settings.drift_day}:"
        )
        print(drift_table(backend, deployments).to_string())
        comparison = rtml.compare(deployments, metric="WindowedAUC", window=settings.metric_window)
        summary = comparison.summary()
        try:
            precision = rtml.compare(
                deployments, metric="WindowedAveragePrecision", window=settings.metric_window
            ).summary()
            summary["average_precision_last"] = precision["last"]
        except rtml.NotFound:  # a backend without this metric (TurboML)
            pass
        summary["outputs"] = [len(d.outputs()) for d in deployments]
        print(f"WindowedAUC over the last {settings.metric_window:,} labelled predictions:")
        print(summary.round(4).to_string())
        chart = Path(settings.chart).resolve()
        comparison.save(chart)
        comparison.table.to_csv(chart.with_suffix(".csv"), index_label="labelled")
        print(f"chart: {chart}")
    finally:
        backend.close()


def drift_table(backend: rtml.Backend, deployments: list[rtml.Deployment]) -> pd.DataFrame:
    """Per watched field and per model score: how many changes ADWIN found, and the day of
    the first (days counted from the first transaction)."""
    transactions = backend.dataset("transactions").to_pandas()
    start = transactions["timestamp"].min()
    day_of_row = ((transactions["timestamp"] - start) // 86400).tolist()
    reports = {
        f"transactions.{field}": (rtml.drift.univariate(transactions, field), day_of_row)
        for field in settings.drift_fields
    }
    # One field's trace, by day, for drift_chart.py.
    traced = reports.get(f"transactions.{settings.drift_chart_field}")
    if traced is not None:
        trace = traced[0].table[["row", "mean", "drift"]]
        trace.assign(
            day=(transactions["timestamp"].to_numpy()[trace["row"]] - start) / 86400,
            field=settings.drift_chart_field,
            drift_day=settings.drift_day,
        ).to_csv(Path(settings.chart).resolve().with_name("drift.csv"), index=False)
    for deployment in deployments:
        outputs = deployment.outputs()
        days = ((outputs["event_time"] - start) // 86400).tolist()
        reports[f"score of {deployment.name}"] = (deployment.drift(), days)
    rows = {}
    for name, (report, days) in reports.items():
        first = report.drifts[0] if report.drifts else None
        rows[name] = {
            "records": len(report.table),
            "changes": len(report.drifts),
            "first change (record)": first,
            "on day": days[first] if first is not None else None,
        }
    return pd.DataFrame.from_dict(rows, orient="index").astype("Int64")


if __name__ == "__main__":
    main()
