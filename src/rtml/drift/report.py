"""``DriftReport``: what a drift detector saw, record by record, as a table and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rtml.charts import graph_objects, save_chart_or_table

__all__ = ["DriftReport"]


@dataclass
class DriftReport:
    """A detector's trace over a stream, one row per record it scored (records with a
    missing value are skipped), in stream order.

    ``table`` columns: ``row`` (the record's position in the stream), the key when one was
    given, ``value`` (the monitored value: a field, or the multivariate reconstruction error),
    ``mean`` and ``width`` (the mean and length of ADWIN's window after the record) and
    ``drift`` (True where ADWIN found the window's older part different and dropped it).
    A categorical report (:func:`~rtml.drift.categorical`) has ``distance`` and ``p_value``
    (of the latest chi-square test) instead of ``mean`` and ``width``.

    >>> table = pd.DataFrame({"row": [0, 1, 2], "value": [1.0, 1.0, 5.0],
    ...                       "mean": [1.0, 1.0, 5.0], "width": [1, 2, 1],
    ...                       "drift": [False, False, True]})
    >>> report = DriftReport("x", table)
    >>> report.drifts
    [2]
    >>> report.summary()
    {'monitored': 'x', 'records': 3, 'drifts': 1, 'first_drift': 2, 'last_mean': 5.0}
    """

    monitored: str  # what the value is: a field, "score", or the reconstruction of fields
    table: pd.DataFrame
    details: dict[str, Any] | None = None  # e.g. the multivariate reference and components

    @property
    def drifts(self) -> list[int]:
        """The stream positions (``row``) where a change was detected."""
        return [int(r) for r in self.table.loc[self.table["drift"], "row"].tolist()]

    def summary(self) -> dict[str, Any]:
        """Records read, changes detected, the first one's position and the latest mean."""
        drifts = self.drifts
        latest = "distance" if self.categorical else "mean"
        last = self.table[latest].iloc[-1] if len(self.table) else None
        return {
            "monitored": self.monitored,
            "records": len(self.table),
            "drifts": len(drifts),
            "first_drift": drifts[0] if drifts else None,
            f"last_{latest}": None if last is None or pd.isna(last) else float(last),
        }

    @property
    def categorical(self) -> bool:
        """Whether the trace is a chi-square test's over categories (not ADWIN's)."""
        return "distance" in self.table.columns

    def figure(self) -> Any:
        """A plotly figure: the values and ADWIN's window mean (a categorical report: the
        distance to the reference), a line at each detected change (needs the ``plot``
        extra)."""
        go = graph_objects()
        t = self.table
        fig = go.Figure()
        if self.categorical:
            fig.add_trace(go.Scatter(x=t["row"], y=t["distance"], mode="lines", name="distance"))
            title = f"Shares of {self.monitored}"
            y_title = "distance to the reference (total variation)"
        else:
            fig.add_trace(
                go.Scattergl(
                    x=t["row"],
                    y=t["value"],
                    mode="markers",
                    name=self.monitored,
                    marker={"size": 3, "opacity": 0.3},
                )
            )
            fig.add_trace(go.Scatter(x=t["row"], y=t["mean"], mode="lines", name="ADWIN mean"))
            title, y_title = f"Drift of {self.monitored}", self.monitored
        for row in self.drifts:
            fig.add_vline(x=row, line_dash="dash", line_color="firebrick")
        fig.update_layout(
            title=f"{title}: {len(self.drifts)} change(s) detected",
            xaxis_title="records",
            yaxis_title=y_title,
            template="plotly_white",
        )
        return fig

    def save(self, path: str | Path) -> Path:
        """Write the chart (``.html``, or ``.png`` with kaleido) or the table (``.csv``)."""
        return save_chart_or_table(
            path, self.figure, lambda target: self.table.to_csv(target, index=False)
        )
