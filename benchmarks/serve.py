"""``rtml serve`` under load: single-record predict latency at fixed request rates, and ingest.

    python -m benchmarks.serve [HISTORY_EVENTS] [SECONDS_PER_RATE] [--ingest-only]

A durable store gets HISTORY_EVENTS handbook-like transactions, the 15 handbook features and a
LogisticRegression pre-trained on the history. The default, 400,000 (about 41 days), fills the
longest window (30 days after a 7-day delay): ingest is then measured at steady state, where each
push reads full windows, not on a young store whose windows are still short. Then, in the same run:

1. in-process ``deployment.predict(record)`` latency (the baseline, no HTTP);
2. ``rtml serve`` started as its own process (one worker, API key set, no access log), driven
   open-loop at fixed rates: each request is due at a fixed time and its latency counts from
   then, so a slow server cannot hide its queue (no coordinated omission);
3. ingest through the HTTP client in pushes of 1,000 records, beside the same pushes in process.

``--ingest-only`` measures only the in-process pushes, with no server started beside them.

Targets (issue 7): p99 <= 10 ms at 500 requests/s with no errors; ingest >= 20k records/s.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

import rtml
from benchmarks.common import handbook_logistic_regression, peak_rss_mb, transactions
from rtml.testing.server import serve_process

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
HISTORY = int(ARGS[0]) if ARGS else 400_000
SECONDS = float(ARGS[1]) if len(ARGS) > 1 else 10.0
RATES = (100, 250, 500, 1000)
INGEST = 50_000
KEY = "benchmark-key"


def build_store(path: str, events: pd.DataFrame, labels: pd.DataFrame) -> None:
    with rtml.connect("local", path=path) as backend:
        handbook_logistic_regression(backend, events, labels)


def quantiles(ms: list[float]) -> str:
    if not ms:
        return "no answers"
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms  max {max(ms):7.2f} ms"


def in_process_latency(path: str, records: list[dict[str, Any]]) -> list[float]:
    with rtml.connect("local", path=path) as backend:
        model = backend.deployment("model")
        for r in records[:50]:
            model.predict(r)  # warm up
        out = []
        for r in records:
            start = time.perf_counter()
            model.predict(r)
            out.append((time.perf_counter() - start) * 1000)
        return out


def server_peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def drive(port: int, records: list[dict[str, Any]], rate: int, seconds: float) -> tuple:
    """Open loop: request i is due at start + i/rate; latency counts from when it was due."""
    total = int(rate * seconds)
    bodies = [json.dumps(records[i % len(records)]).encode() for i in range(total)]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
    latencies: list[float] = []
    errors: list[str] = []
    counter = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def worker() -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter)
            if i >= total:
                break
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                con.request("POST", "/models/model/predict", body=bodies[i], headers=headers)
                response = con.getresponse()
                response.read()
                ok = response.status == 200
            except OSError as exc:
                ok = False
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                response = None
                errors.append(repr(exc))
            elapsed = (time.perf_counter() - due) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok and response is not None:
                    errors.append(f"HTTP {response.status}")
        con.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    achieved = total / (time.perf_counter() - start)
    return latencies, errors, achieved


def ingest(url: str, copy: str, events: pd.DataFrame) -> tuple[float, float]:
    """Records/s pushing ``events`` in batches of 1,000: over HTTP, then the same pushes in
    process on ``copy``, the store as it was before the server started."""
    client = rtml.connect(url, api_key=KEY)
    http_rate = push_rate(client, events)
    client.close()
    with rtml.connect("local", path=copy) as local:
        return http_rate, push_rate(local, events)


def push_rate(backend: Any, events: pd.DataFrame) -> float:
    """Records/s pushing ``events`` to the backend's transactions in batches of 1,000."""
    batches = [events.iloc[lo : lo + 1000] for lo in range(0, len(events), 1000)]
    tx = backend.dataset("transactions")
    start = time.perf_counter()
    for batch in batches:
        tx.push(batch)
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    events, labels = transactions(HISTORY + INGEST + 5_000)
    history, history_labels = events.iloc[:HISTORY], labels.iloc[:HISTORY]
    live = events.iloc[HISTORY : HISTORY + INGEST]
    probes = events.iloc[HISTORY + INGEST :].to_dict("records")
    probes = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in probes]
    root = tempfile.mkdtemp(prefix="rtml-serve-bench-")
    path = os.path.join(root, "store")
    try:
        t = time.perf_counter()
        build_store(path, history, history_labels)
        print(
            f"store: {HISTORY:,} events, 15 handbook features, LogisticRegression pre-trained "
            f"({time.perf_counter() - t:.1f} s)"
        )
        if "--ingest-only" in sys.argv:
            with rtml.connect("local", path=path) as local:
                rate = push_rate(local, live)
            print(f"ingest in process, pushes of 1,000, no server: {rate:,.0f} records/s")
            print(f"peak RSS {peak_rss_mb():,.0f} MB")
            return
        copy = os.path.join(root, "copy")
        shutil.copytree(path, copy)
        local_ms = in_process_latency(path, probes[:2000])
        print(f"in-process predict(record)        {quantiles(local_ms)}")
        options = ("--no-access-log", "--log-level", "warning")
        with serve_process(path, api_key=KEY, options=options) as (url, server):
            port = int(url.rsplit(":", 1)[1])
            print(
                f"rtml serve, one worker, {SECONDS:.0f} s per rate, 16 client threads, open loop:"
            )
            for rate in RATES:
                latencies, errors, achieved = drive(port, probes, rate, SECONDS)
                p99 = np.percentile(latencies, 99) if latencies else float("nan")
                in_p99 = np.percentile(local_ms, 99)
                print(
                    f"  {rate:5d} req/s (sent {achieved:6.0f}/s)  {quantiles(latencies)}  "
                    f"errors {len(errors)}  p99 / in-process p99 {p99 / in_p99:5.1f}x"
                )
            http_rate, local_rate = ingest(url, copy, live)
            print(
                f"ingest, pushes of 1,000: over HTTP {http_rate:,.0f} records/s, in process "
                f"{local_rate:,.0f} records/s (ratio {http_rate / local_rate:.2f})"
            )
            print(
                f"peak RSS: server {server_peak_rss_mb(server.pid):,.0f} MB, "
                f"this process {peak_rss_mb():,.0f} MB"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
