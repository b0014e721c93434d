"""The embedded local engine (``rtml.connect("local")``)."""

from rtml.backends.local.backend import LocalBackend
from rtml.backends.local.dataset import LocalDataset
from rtml.backends.local.deployment import LocalDeployment
from rtml.backends.local.schema import Column

__all__ = ["Column", "LocalBackend", "LocalDataset", "LocalDeployment"]
