"""A real ``rtml serve`` server on a free loopback port, in a thread: for tests and benchmarks
of code that talks to a server (it needs the ``serve`` extra).

>>> import rtml
>>> with running_server(":memory:", api_key="k") as url:
...     rtml.connect(url, api_key="k").datasets()
[]
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["running_server"]


@contextlib.contextmanager
def running_server(path: str, api_key: str | None = None, **app_options: Any) -> Iterator[str]:
    """Serve the store at ``path`` on 127.0.0.1 (a free port) until the block ends; yields the
    server's URL. ``app_options`` go to :func:`rtml.serve.create_app`."""
    import uvicorn

    from rtml.serve import StoreOwner, create_app

    owner = StoreOwner(path)
    owner.open()
    if owner.error is not None:
        raise owner.error
    app = create_app(owner, api_key=api_key or "", **app_options)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="rtml-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
