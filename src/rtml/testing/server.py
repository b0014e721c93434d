"""A real ``rtml serve`` server on a free loopback port, in a thread: for tests and benchmarks
of code that talks to a server (it needs the ``serve`` extra).

>>> import rtml
>>> with running_server(":memory:", api_key="k") as url:
...     rtml.connect(url, api_key="k").datasets()
[]
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["free_port", "running_server", "serve_process"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_process(
    path: str, api_key: str | None = None, options: tuple[str, ...] = (), timeout: float = 120
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``rtml serve`` as its own process, as a user starts it (the key in its environment);
    yields its URL and the process once ``/ready`` answers 200, and stops it with SIGINT
    (Ctrl-C: it checkpoints and releases the store) when the block ends."""
    port = free_port()
    env = {**os.environ, "RTML_API_KEY": api_key or ""}
    command = [sys.executable, "-m", "rtml.cli", "serve", "--path", path, "--port", str(port)]
    # Its output goes to a file: a pipe nobody reads would stall the server once full.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*command, *options], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + timeout
        while not _ready(port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                log.seek(0)
                raise RuntimeError(f"rtml serve did not become ready:\n{log.read()}")
            time.sleep(0.1)
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(60)


def _ready(port: int) -> bool:
    try:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        con.request("GET", "/ready")
        return con.getresponse().status == 200
    except OSError:
        return False


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
