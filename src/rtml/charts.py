"""Charts and their files, shared by comparisons and drift reports (plotly is an extra)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rtml.errors import BackendUnavailable

__all__ = ["graph_objects", "save_chart_or_table"]


def graph_objects() -> Any:
    """``plotly.graph_objects``, or an error that says which extra brings it."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise BackendUnavailable('charts need plotly: pip install "rtml[plot]"') from None
    return go


def save_chart_or_table(
    path: str | Path, figure: Callable[[], Any], write_csv: Callable[[Path], None]
) -> Path:
    """Write ``figure()`` to ``.html`` (or ``.png``, with kaleido), or the table to ``.csv``.

    >>> save_chart_or_table("chart.txt", lambda: None, lambda path: None)
    Traceback (most recent call last):
    ...
    ValueError: save to .html, .png or .csv, not '.txt'
    """
    target = Path(path)
    if target.suffix == ".csv":
        write_csv(target)
    elif target.suffix == ".html":
        figure().write_html(target, include_plotlyjs="cdn")
    elif target.suffix == ".png":
        try:
            figure().write_image(target)
        except (ValueError, ImportError, RuntimeError) as exc:
            # plotly 6 raises RuntimeError without kaleido 1 (and kaleido 1 needs a Chrome).
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BackendUnavailable(
                f"PNG export needs kaleido (pip install 'kaleido>=1'); save as .html or .csv "
                f"instead. plotly said: {first}"
            ) from None
    else:
        raise ValueError(f"save to .html, .png or .csv, not {target.suffix!r}")
    return target
