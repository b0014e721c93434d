"""``rtml.compare``: a metric over time for several deployments, aligned, as a table and chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rtml.backends.base import Deployment
from rtml.charts import graph_objects, save_chart_or_table

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    """A metric for several deployments: ``table`` has one column per deployment, one row per
    labelled prediction (row ``i``: the metric over the window ending at the i-th label).

    >>> import pandas as pd
    >>> c = Comparison("WindowedAUC", 100, pd.DataFrame({"a": [0.5, 0.7], "b": [0.6, None]}))
    >>> c.summary()
       last  mean  labelled
    a   0.7   0.6         2
    b   0.6   0.6         1
    """

    metric: str
    window: int
    table: pd.DataFrame
    labelled: dict[str, int] | None = None  # labelled predictions per deployment

    def summary(self) -> pd.DataFrame:
        """Per deployment: the latest value, the mean over time and how many labels it saw."""
        return pd.DataFrame(
            {
                "last": {
                    c: self.table[c].dropna().iloc[-1] if self.table[c].notna().any() else None
                    for c in self.table
                },
                "mean": self.table.mean(),
                # (without counts, the number of points where the metric is defined)
                "labelled": pd.Series(self.labelled) if self.labelled else self.table.notna().sum(),
            }
        )

    def figure(self) -> Any:
        """A plotly figure of the metric over time (needs the ``plot`` extra)."""
        go = graph_objects()
        fig = go.Figure()
        for name in self.table.columns:
            fig.add_trace(
                go.Scatter(x=self.table.index, y=self.table[name], mode="lines", name=name)
            )
        fig.update_layout(
            title=f"{self.metric} over the last {self.window:,} labelled predictions",
            xaxis_title="labelled predictions",
            yaxis_title=self.metric,
            template="plotly_white",
        )
        return fig

    def save(self, path: str | Path) -> Path:
        """Write the chart (``.html``, or ``.png`` when kaleido is installed) or the table
        (``.csv``)."""
        return save_chart_or_table(
            path, self.figure, lambda target: self.table.to_csv(target, index_label="labelled")
        )


def compare(
    deployments: Sequence[Deployment], metric: str = "WindowedAUC", window: int = 1000
) -> Comparison:
    """The metric over time for each deployment, aligned by number of labelled predictions.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    >>> kw = dict(inputs=rtml.Inputs("tx", numerical=["x"]), labels=rtml.Labels("labels", field="y"))
    >>> a = backend.deploy("a", rtml.models.GaussianNB(), **kw)
    >>> b = backend.deploy("b", rtml.models.LogisticRegression(), **kw)
    >>> _ = labels.push([{"id": i, "y": i % 2} for i in range(40)])
    >>> _ = tx.push([{"id": i, "x": float(i % 2)} for i in range(40)])
    >>> rtml.compare([a, b], metric="WindowedAUC", window=10).table.columns.tolist()
    ['a', 'b']

    Each deployment is a column, by name: none, or two of one name, is a mistake.

    >>> rtml.compare([a, a])
    Traceback (most recent call last):
    ...
    ValueError: compare: deployment 'a' is given twice (each deployment is a column, by name)
    """
    names = [d.name for d in deployments]
    if not names:
        raise ValueError("compare needs at least one deployment")
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ValueError(
            f"compare: deployment {twice!r} is given twice (each deployment is a column, by name)"
        )
    columns, labelled = {}, {}
    for deployment in deployments:
        values = deployment.evaluate(metric, window=window)
        columns[deployment.name] = values["value"].reset_index(drop=True)
        labelled[deployment.name] = len(values)
    table = pd.DataFrame(columns).astype("float64")
    table.index = pd.RangeIndex(1, len(table) + 1, name="labelled")
    return Comparison(metric, window, table, labelled)
