"""Draws what ``make compare`` saved as small SVG line charts, for the docs:

- ``comparison.csv``: the windowed AUC of each model as the labels arrive;
- ``drift.csv``: ADWIN's mean of a watched transaction field over the days, with a dashed line
  at each change it found.

    python drift_chart.py [comparison.csv] [../../docs/assets/fraud-drift.svg]
                          [drift.csv] [../../docs/assets/fraud-field-drift.svg]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

WIDTH, HEIGHT, MARGIN = 720, 360, 50
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


class Canvas:
    """An SVG chart with a y range, gridlines at ``ticks`` and x positions from 0 to ``span``."""

    def __init__(
        self,
        title: str,
        low: float,
        high: float,
        span: float,
        ticks: Sequence[float],
        tick_format: str = "g",
    ):
        self.low, self.high, self.span = low, high, max(span, 1e-12)
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
        ]
        for tick in ticks:
            y = self.y(tick)
            self.parts.append(
                f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#ddd"/>'
            )
            self.parts.append(
                f'<text x="{MARGIN - 8}" y="{y + 4:.1f}" text-anchor="end">'
                f"{tick:{tick_format}}</text>"
            )

    def x(self, position: float) -> float:
        return MARGIN + (WIDTH - 2 * MARGIN) * position / self.span

    def y(self, value: float) -> float:
        clipped = min(max(value, self.low), self.high)
        return (
            HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (clipped - self.low) / (self.high - self.low)
        )

    def line(self, points: Iterable[tuple[float, float]], colour: str, label: str, n: int) -> None:
        text = " ".join(f"{self.x(p):.1f},{self.y(v):.1f}" for p, v in points)
        self.parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{text}"/>'
        )
        self.parts.append(
            f'<text x="{MARGIN + 10}" y="{MARGIN + 16 * n}" fill="{colour}">{label}</text>'
        )

    def mark(self, position: float, colour: str, dash: str = "4,3") -> None:
        x = self.x(position)
        self.parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN}" y2="{HEIGHT - MARGIN}" '
            f'stroke="{colour}" stroke-dasharray="{dash}"/>'
        )

    def caption(self, text: str) -> None:
        self.parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">{text}</text>'
        )

    def text(self) -> str:
        return "\n".join([*self.parts, "</svg>"])


def auc_svg(table: pd.DataFrame, title: str, low: float = 0.5, high: float = 1.0) -> str:
    """Each column of ``table`` (one per model) as a line over the labelled predictions."""
    step = max(1, len(table) // 300)  # a few hundred points are plenty for the eye
    sample = table.iloc[::step]
    canvas = Canvas(title, low, high, len(table), (0.5, 0.6, 0.7, 0.8, 0.9, 1.0), ".1f")
    canvas.caption(f"labelled predictions (0 to {len(table):,})")
    for n, column in enumerate(table.columns):
        values = sample[column].dropna()
        points = zip(values.index, values, strict=True)
        canvas.line(points, COLOURS[n % len(COLOURS)], str(column), n)
    return canvas.text()


def field_drift_svg(table: pd.DataFrame, field: str, drift_day: float) -> str:
    """ADWIN's mean of ``field`` by day, a red dash at each change, grey at ``drift_day``."""
    # The range of the settled means: ADWIN's first few records say little.
    settled = table["mean"].iloc[min(1000, len(table) // 10) :]
    low, high = float(settled.quantile(0.001)), float(settled.quantile(0.999))
    pad = (high - low) * 0.1 or 1.0
    low, high = low - pad, high + pad
    span = float(table["day"].max())
    ticks = [round(low + (high - low) * i / 4, 3) for i in range(5)]
    changes = len(table[table["drift"]])
    title = f"ADWIN mean of {field}: {changes} change(s) found; new pattern from day {drift_day:g}"
    canvas = Canvas(title, low, high, span, ticks)
    canvas.caption(f"days (0 to {span:.0f})")
    step = max(1, len(table) // 600)
    sample = table.iloc[::step]
    canvas.line(zip(sample["day"], sample["mean"], strict=True), COLOURS[0], "ADWIN mean", 0)
    for day in table.loc[table["drift"], "day"]:
        canvas.mark(float(day), "#d62728")
    canvas.mark(drift_day, "#888", dash="1,0")
    return canvas.text()


def main() -> None:
    args = sys.argv[1:]
    auc_source = Path(args[0] if len(args) > 0 else "comparison.csv")
    auc_target = Path(args[1] if len(args) > 1 else "../../docs/assets/fraud-drift.svg")
    drift_source = Path(args[2] if len(args) > 2 else "drift.csv")
    drift_target = Path(args[3] if len(args) > 3 else "../../docs/assets/fraud-field-drift.svg")
    table = pd.read_csv(auc_source, index_col="labelled")
    auc_target.parent.mkdir(parents=True, exist_ok=True)
    auc_target.write_text(
        auc_svg(table, "Windowed AUC (last 5,000 labels); new fraud pattern from day 30")
    )
    print(f"chart: {auc_target.resolve()}")
    drift = pd.read_csv(drift_source)
    field, drift_day = str(drift["field"].iloc[0]), float(drift["drift_day"].iloc[0])
    drift_target.write_text(field_drift_svg(drift, field, drift_day))
    print(f"chart: {drift_target.resolve()}")


if __name__ == "__main__":
    main()
