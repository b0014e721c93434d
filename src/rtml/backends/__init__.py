"""Backends: the engines that run rtml definitions, found by name through the plugin registry.

>>> import rtml
>>> rtml.connect("local", path=":memory:").name
'local'
"""

from rtml.backends.base import Backend, Dataset, Deployment, DriftMonitor, Inputs, Labels
from rtml.backends.connect import connect

__all__ = ["Backend", "Dataset", "Deployment", "DriftMonitor", "Inputs", "Labels", "connect"]
