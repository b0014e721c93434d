"""Step 4: live data. The simulator pushes the transactions after the history, and each label
``LABEL_DELAY`` after its transaction, in event-time order.

Stopped part way (Ctrl-C, a crash, or ``LIVE_LIMIT`` records per run), it resumes where the
store says it stopped: run it again."""

from __future__ import annotations

import time

from config import connect, settings, simulator


def main() -> None:
    backend = connect()
    try:
        history, history_labels, live, live_labels = simulator().split(settings.history_days)
        # What earlier runs already pushed, per dataset: skipped, the rest replayed in order.
        already = {
            "transactions": len(backend.dataset("transactions")) - len(history),
            "labels": len(backend.dataset("labels")) - len(history_labels),
        }
        if already["transactions"] >= len(live) and already["labels"] >= len(live_labels):
            print("the live data is already in the store (`make clean` to start over)")
            return
        if any(already.values()):
            print(
                f"resuming after {already['transactions']:,} live transactions and "
                f"{already['labels']:,} labels"
            )
        started = time.perf_counter()
        result = simulator().run(
            backend,
            from_day=settings.history_days,
            label_delay=settings.label_delay,
            batch_size=settings.batch_size,
            already=already,
            limit=settings.live_limit,
            progress=True,
        )
        seconds = time.perf_counter() - started
        pushed = result.pushed.get("transactions", 0)
        print(
            f"pushed {pushed:,} live transactions and {result.pushed.get('labels', 0):,} "
            f"labels in {seconds:.1f} s ({pushed / max(seconds, 1e-9):,.0f} transactions/s)"
        )
        if not result.finished:
            print("stopped at LIVE_LIMIT: run `make live-data` again to continue")
    finally:
        backend.close()


if __name__ == "__main__":
    main()
