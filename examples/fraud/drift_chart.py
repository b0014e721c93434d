"""Draws the comparison saved by ``make compare`` (comparison.csv) as a small SVG line chart,
for the docs: the windowed AUC of each model as the labels arrive.

    python drift_chart.py [comparison.csv] [../../docs/assets/fraud-drift.svg]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

WIDTH, HEIGHT, MARGIN = 720, 360, 50
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


def svg(table: pd.DataFrame, title: str, low: float = 0.5, high: float = 1.0) -> str:
    step = max(1, len(table) // 300)  # a few hundred points are plenty for the eye
    sample = table.iloc[::step]
    x_of = lambda i: MARGIN + (WIDTH - 2 * MARGIN) * i / max(len(table), 1)  # noqa: E731
    y_of = lambda v: HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (v - low) / (high - low)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
    ]
    for tick in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{MARGIN - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">labelled '
        f"predictions (0 to {len(table):,})</text>"
    )
    for n, column in enumerate(table.columns):
        values = sample[column].dropna()
        points = " ".join(
            f"{x_of(i):.1f},{y_of(min(max(v, low), high)):.1f}"
            for i, v in zip(values.index, values, strict=True)
        )
        colour = COLOURS[n % len(COLOURS)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        parts.append(
            f'<text x="{MARGIN + 10}" y="{MARGIN + 16 * n}" fill="{colour}">{column}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "comparison.csv")
    target = Path(sys.argv[2] if len(sys.argv) > 2 else "../../docs/assets/fraud-drift.svg")
    table = pd.read_csv(source, index_col="labelled")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(svg(table, "Windowed AUC (last 5,000 labels); new fraud pattern from day 30"))
    print(f"chart: {target.resolve()}")


if __name__ == "__main__":
    main()
