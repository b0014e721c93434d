"""Step 4: live data. The simulator pushes the transactions after the history, and each label
``LABEL_DELAY`` after its transaction, in event-time order."""

from __future__ import annotations

import time

from config import connect, settings, simulator


def main() -> None:
    backend = connect()
    try:
        history, _, _, _ = simulator().split(settings.history_days)
        if len(backend.dataset("transactions")) > len(history):
            print("the live data is already in the store (`make clean` to start over)")
            return
        started = time.perf_counter()
        result = simulator().run(
            backend,
            from_day=settings.history_days,
            label_delay=settings.label_delay,
            batch_size=settings.batch_size,
            progress=True,
        )
        seconds = time.perf_counter() - started
        pushed = result.pushed.get("transactions", 0)
        print(
            f"pushed {pushed:,} live transactions and {result.pushed.get('labels', 0):,} "
            f"labels in {seconds:.1f} s ({pushed / max(seconds, 1e-9):,.0f} transactions/s)"
        )
    finally:
        backend.close()


if __name__ == "__main__":
    main()
