"""``rtml.compare``: a metric over time for several deployments, aligned, as a table and chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rtml.backends.base import Deployment
from rtml.backends.local.deployment import evaluate_pairs
from rtml.charts import graph_objects, save_chart_or_table

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    """A metric for several deployments: ``table`` has one column per deployment, one row per
    labelled prediction (row ``i``: the metric over the window ending at the i-th label).

    ``labelled`` counts each deployment's labelled predictions, ``compared`` those its column
    holds: fewer when the deployments did not all score the same events (one deployed later),
    as only the events every one of them scored are compared.

    >>> import pandas as pd
    >>> c = Comparison("WindowedAUC", 100, pd.DataFrame({"a": [0.5, 0.7], "b": [0.6, None]}))
    >>> c.summary()
       last  mean  labelled  compared
    a   0.7   0.6         2         2
    b   0.6   0.6         1         1
    """

    metric: str
    window: int
    table: pd.DataFrame
    labelled: dict[str, int] | None = None  # labelled predictions per deployment
    compared: dict[str, int] | None = None  # of which in the table
    by_event: bool = False  # rows line up the same events (the ones every deployment scored)

    def summary(self) -> pd.DataFrame:
        """Per deployment: the latest value, the mean over time, how many labelled predictions
        it made and how many of them are compared."""
        # (without counts, the number of points where the metric is defined)
        defined = self.table.notna().sum()
        return pd.DataFrame(
            {
                "last": {
                    c: self.table[c].dropna().iloc[-1] if self.table[c].notna().any() else None
                    for c in self.table
                },
                "mean": self.table.mean(),
                "labelled": pd.Series(self.labelled) if self.labelled else defined,
                "compared": pd.Series(self.compared) if self.compared else defined,
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
            xaxis_title=(
                "labelled predictions of the events every model scored"
                if self.by_event
                else "labelled predictions"
            ),
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
    """The metric over time for each deployment, over the same events, aligned.

    When the deployments keep the events' keys with their labelled predictions (local and
    Flink) and learn from the same labels dataset, each column reads only the labelled
    predictions of the events that every deployment scored, in the order their labels joined:
    a challenger deployed later is compared with the champion over the events both saw, not
    with the champion's first days. Otherwise (TurboML; models of different streams) the
    columns are aligned by the number of labelled predictions.

    >>> import rtml
    >>> backend = rtml.connect("local", path=":memory:")
    >>> tx = backend.create_dataset("tx", key="id", schema={"id": "int", "x": "float"})
    >>> labels = backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
    >>> kw = dict(inputs=rtml.Inputs("tx", numerical=["x"]), labels=rtml.Labels("labels", field="y"))
    >>> a = backend.deploy("a", rtml.models.GaussianNB(), **kw)
    >>> for i in range(60):
    ...     if i == 40:  # a challenger, deployed 40 events later
    ...         b = backend.deploy("b", rtml.models.LogisticRegression(), **kw)
    ...     _ = tx.push([{"id": i, "x": float(i % 2)}])
    ...     _ = labels.push([{"id": i, "y": i % 2}])
    >>> comparison = rtml.compare([a, b], metric="WindowedAUC", window=10)
    >>> comparison.table.columns.tolist(), len(comparison.table)
    (['a', 'b'], 20)
    >>> comparison.summary()[["labelled", "compared"]]
       labelled  compared
    a        60        20
    b        20        20

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
    keyed = _keyed_pairs(deployments)
    if keyed is None:
        columns = {}
        for deployment in deployments:
            columns[deployment.name] = deployment.evaluate(metric, window=window)["value"]
        labelled = {name: len(column) for name, column in columns.items()}
        return _comparison(metric, window, columns, labelled, labelled, by_event=False)
    everywhere = set.intersection(*(set(pairs["key"].tolist()) for pairs in keyed.values()))
    columns, labelled, compared = {}, {}, {}
    for name, pairs in keyed.items():
        common = pairs[pairs["key"].isin(everywhere)].reset_index(drop=True)
        columns[name] = evaluate_pairs(metric, window, common, name)["value"]
        labelled[name], compared[name] = len(pairs), len(common)
    return _comparison(metric, window, columns, labelled, compared, by_event=True)


def _keyed_pairs(deployments: Sequence[Deployment]) -> dict[str, pd.DataFrame] | None:
    """Each deployment's labelled predictions, when every one keeps them with the events' keys
    and all learn from one labels dataset (so a key is one event for all of them); ``None``
    otherwise: a backend without keys, pairs stored before rtml kept them, or models of
    different streams, whose keys may collide."""
    sources = {getattr(getattr(d, "labels", None), "dataset", None) for d in deployments}
    if len(sources) != 1 or None in sources:
        return None
    pairs = {}
    for deployment in deployments:
        read = getattr(deployment, "labelled", None)
        if read is None:
            return None
        frame = read()
        if "key" not in frame.columns or frame["key"].isna().any():
            return None
        pairs[deployment.name] = frame
    return pairs


def _comparison(
    metric: str,
    window: int,
    columns: dict[str, pd.Series],
    labelled: dict[str, int],
    compared: dict[str, int],
    by_event: bool,
) -> Comparison:
    table = pd.DataFrame({n: c.reset_index(drop=True) for n, c in columns.items()})
    table = table.astype("float64")
    table.index = pd.RangeIndex(1, len(table) + 1, name="labelled")
    return Comparison(metric, window, table, labelled, compared, by_event)
