"""The Flink backend (``rtml.connect("flink")``, extra ``rtml[flink]``).

Importing this package does not import PyFlink: only running a job does.
"""

from rtml.backends.flink.backend import FlinkBackend, FlinkDeployment

__all__ = ["FlinkBackend", "FlinkDeployment"]
