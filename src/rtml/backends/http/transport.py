"""JSON over HTTP/1.1 with the standard library: one keep-alive connection per thread, and the
server's refusals turned back into rtml's errors."""

from __future__ import annotations

import http.client
import json
import os
import threading
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from rtml.errors import (
    BackendUnavailable,
    FeatureRowsError,
    NotFound,
    RtmlError,
    SchemaError,
    SpecError,
)

__all__ = ["Transport"]

_ERRORS: dict[str, type[RtmlError]] = {
    "FeatureRowsError": FeatureRowsError,
    "NotFound": NotFound,
    "SchemaError": SchemaError,
    "SpecError": SpecError,
}
# Failures of a kept-alive connection the server had already closed: the request never reached
# it, so sending again on a fresh connection is safe.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _failures(answer: Any) -> dict[int, tuple[str, str]]:
    """The server's list of {row, feature, why} as FeatureRowsError.failures; an answer from
    a server too old to send it gives none."""
    if not isinstance(answer, list):
        return {}
    return {
        int(f["row"]): (str(f["feature"]), str(f["why"]))
        for f in answer
        if isinstance(f, dict) and {"row", "feature", "why"} <= f.keys()
    }


def _error(status: int, body: bytes, what: str) -> RtmlError:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {"detail": body.decode(errors="replace")}
    detail = payload.get("detail") if isinstance(payload, dict) else payload
    kind = payload.get("error") if isinstance(payload, dict) else None
    if status == 401:
        return RtmlError(f"{what}: the server wants an API key: set RTML_API_KEY (or api_key=)")
    if status == 404:
        return NotFound(str(detail))
    if status == 422 and not isinstance(detail, str):
        # FastAPI's own validation answer: a list of {loc, msg}; name the fields.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
            for d in (detail if isinstance(detail, list) else [])
            if isinstance(d, dict)
        )
        return SchemaError(f"{what}: {problems or detail}")
    if status in (413, 422):
        if kind == "FeatureRowsError":
            return FeatureRowsError(str(detail), _failures(payload.get("failures")))
        return _ERRORS.get(str(kind), SchemaError)(str(detail))
    if status == 503:
        return BackendUnavailable(f"{what}: the server is not ready: {detail}")
    return _ERRORS.get(str(kind), RtmlError)(f"{what}: HTTP {status}: {detail}")


class Transport:
    """Requests to one rtml server.

    >>> Transport("http://127.0.0.1:1").base
    'http://127.0.0.1:1'
    """

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendUnavailable(
                f"expected a server address like http://host:port, got {url!r}"
            )
        self.base = url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        key = api_key if api_key is not None else os.environ.get("RTML_API_KEY")
        self.headers = {"Accept": "application/json"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        con = getattr(self._local, "con", None)
        if con is not None:
            return con, True
        factory = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        con = factory(self.host, self.port, timeout=self.timeout)
        self._local.con = con
        return con, False

    def _drop(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
        self._local.con = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        what: str = "",
    ) -> Any:
        """Send one request; the decoded JSON answer, or the matching rtml error."""
        target = self.prefix + path
        if params:
            # A list is the parameter repeated (?key=1&key=2).
            target += "?" + urlencode(
                {k: v for k, v in params.items() if v is not None}, doseq=True
            )
        payload = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            con, reused = self._connection()
            try:
                con.request(method, target, body=payload, headers=headers)
                response = con.getresponse()
                data = response.read()
            except _STALE:
                self._drop()
                if reused and attempt == 1:
                    continue
                raise BackendUnavailable(
                    f"the rtml server at {self.base} closed the connection"
                ) from None
            except OSError as exc:
                self._drop()
                raise BackendUnavailable(
                    f"no rtml server answers at {self.base} ({exc}); start one with "
                    f"`rtml serve --port {self.port}`"
                ) from None
            if response.getheader("connection", "").lower() == "close":
                self._drop()
            if response.status >= 400:
                raise _error(response.status, data, what or f"{method} {path}")
            if response.status == 204 or not data:
                return None
            return json.loads(data)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self._drop()


def segment(name: str) -> str:
    """A name as one URL path segment."""
    return quote(name, safe="")
