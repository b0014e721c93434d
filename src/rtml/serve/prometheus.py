"""The server's own metrics, rendered in Prometheus' text exposition format (version 0.0.4).

Small enough to keep here rather than depend on a client library: counters and one latency
histogram, updated under a lock (requests are handled on several threads).

>>> m = ServerMetrics()
>>> m.observe_request("GET", "/health", 200, 0.002)
>>> m.count_events("tx", 5)
>>> text = m.render(ready=True)
>>> 'rtml_http_requests_total{method="GET",route="/health",status="200"} 1' in text
True
>>> 'rtml_events_processed_total{dataset="tx"} 5' in text
True
>>> 'rtml_http_request_duration_seconds_bucket{route="/health",le="0.0025"} 1' in text
True
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from typing import Any

__all__ = ["BUCKETS", "ServerMetrics", "monitor_gauges"]

# Seconds; dense around the 10 ms a single prediction should take.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break
        else:
            self.counts[-1] += 1
        self.total += seconds
        self.n += 1


class ServerMetrics:
    """Request counts and latencies by route, events pushed by dataset, predictions by model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, _Histogram] = defaultdict(_Histogram)
        self.events: dict[str, int] = defaultdict(int)
        self.predictions: dict[str, int] = defaultdict(int)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.latency[route].observe(seconds)

    def count_events(self, dataset: str, n: int) -> None:
        with self._lock:
            self.events[dataset] += n

    def count_predictions(self, model: str, n: int) -> None:
        with self._lock:
            self.predictions[model] += n

    def render(self, ready: bool) -> str:
        with self._lock:
            lines = [
                "# HELP rtml_up_seconds Seconds since the server started.",
                "# TYPE rtml_up_seconds gauge",
                f"rtml_up_seconds {time.time() - self.started:.3f}",
                "# HELP rtml_ready 1 when the store is open and recovered.",
                "# TYPE rtml_ready gauge",
                f"rtml_ready {int(ready)}",
                "# HELP rtml_http_requests_total HTTP requests answered.",
                "# TYPE rtml_http_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'rtml_http_requests_total{{method="{_label(method)}",'
                    f'route="{_label(route)}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP rtml_http_request_duration_seconds Time to answer a request.",
                "# TYPE rtml_http_request_duration_seconds histogram",
            ]
            for route, h in sorted(self.latency.items()):
                label = f'route="{_label(route)}"'
                cumulative = 0
                for bound, n in zip((*BUCKETS, float("inf")), h.counts, strict=True):
                    cumulative += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(
                        f'rtml_http_request_duration_seconds_bucket{{{label},le="{le}"}} '
                        f"{cumulative}"
                    )
                lines.append(f"rtml_http_request_duration_seconds_sum{{{label}}} {h.total:.6f}")
                lines.append(f"rtml_http_request_duration_seconds_count{{{label}}} {h.n}")
            lines += [
                "# HELP rtml_events_processed_total Records accepted into a dataset.",
                "# TYPE rtml_events_processed_total counter",
            ]
            lines += [
                f'rtml_events_processed_total{{dataset="{_label(d)}"}} {n}'
                for d, n in sorted(self.events.items())
            ]
            lines += [
                "# HELP rtml_predictions_total Predictions answered on request.",
                "# TYPE rtml_predictions_total counter",
            ]
            lines += [
                f'rtml_predictions_total{{model="{_label(m)}"}} {n}'
                for m, n in sorted(self.predictions.items())
            ]
        return "\n".join(lines) + "\n"


def monitor_gauges(statuses: list[dict[str, Any]]) -> str:
    """Each drift monitor's records read, changes found and ADWIN mean (or categorical
    distance), as Prometheus lines
    (alert on ``increase(rtml_drift_changes_total[1h]) > 0``).

    >>> text = monitor_gauges([{"name": "amounts", "records": 10, "changes": 1, "mean": 2.5}])
    >>> 'rtml_drift_changes_total{monitor="amounts"} 1' in text
    True
    """
    if not statuses:
        return ""
    series = (
        ("records", "rtml_drift_records_total", "counter", "Records a drift monitor has read."),
        ("changes", "rtml_drift_changes_total", "counter", "Changes a drift monitor has found."),
        ("mean", "rtml_drift_mean", "gauge", "The mean of a drift monitor's ADWIN window."),
        (
            "distance",
            "rtml_drift_distance",
            "gauge",
            "A categorical drift monitor's latest distance to its reference.",
        ),
    )
    lines: list[str] = []
    for field, metric, kind, text in series:
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}"]
        for s in statuses:
            value = s.get(field)
            if value is not None and math.isfinite(value):  # no mean before a first score
                lines.append(f'{metric}{{monitor="{_label(s["name"])}"}} {value!r}')
    return "\n".join(lines) + "\n"
