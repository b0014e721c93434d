"""Steps 5-6: monitoring and comparison — the windowed AUC of each deployed model over time."""

from __future__ import annotations

from pathlib import Path

from config import connect, settings

import rtml


def main() -> None:
    backend = connect()
    try:
        deployments = [backend.deployment(name) for name in backend.deployments()]
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


if __name__ == "__main__":
    main()
