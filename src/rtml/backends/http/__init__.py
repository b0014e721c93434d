"""The HTTP client backend (``rtml.connect("http://host:port")``), for ``rtml serve``."""

from rtml.backends.http.backend import HttpBackend, HttpDataset, HttpDeployment

__all__ = ["HttpBackend", "HttpDataset", "HttpDeployment"]
