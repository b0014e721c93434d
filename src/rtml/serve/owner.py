"""The store's one owner inside the server: opens it, and lets one request use it at a time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from rtml.backends.local import LocalBackend
from rtml.errors import RtmlError

__all__ = ["NotReady", "StoreOwner"]


class NotReady(RtmlError):
    """The store is still opening (recovering), or failed to open."""


class StoreOwner:
    """Holds the :class:`LocalBackend` of a server.

    Opening replays the operation log after the last checkpoint, which can take a while on a
    large store, so :meth:`open` runs on a thread while ``/health`` already answers and
    ``/ready`` says 503. The engine is not thread-safe: requests take turns through one lock,
    which also makes each push atomic with respect to predictions.
    """

    def __init__(self, path: str | None, **options: Any) -> None:
        self.path = path
        self.options = options
        self.backend: LocalBackend | None = None
        self.error: BaseException | None = None
        self.lock = threading.RLock()
        self._opened = threading.Event()

    def open(self) -> None:
        try:
            self.backend = LocalBackend(path=self.path, **self.options)
        except BaseException as exc:  # reported by /ready and every request
            self.error = exc
        finally:
            self._opened.set()

    def open_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.open, name="rtml-store-open", daemon=True)
        thread.start()
        return thread

    def wait(self, timeout: float | None = None) -> bool:
        return self._opened.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._opened.is_set() and self.backend is not None

    @property
    def status(self) -> str:
        if not self._opened.is_set():
            return "opening the store (replaying its log)"
        if self.error is not None:
            return f"the store could not be opened: {self.error}"
        return "ready"

    @contextlib.contextmanager
    def use(self) -> Iterator[LocalBackend]:
        if not self.ready:
            raise NotReady(self.status)
        with self.lock:
            assert self.backend is not None
            yield self.backend

    def close(self) -> None:
        with self.lock:
            if self.backend is not None:
                self.backend.close()
                self.backend = None
