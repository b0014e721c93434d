"""The TurboML backend (``rtml.connect("turboml", url=..., api_key=...)``, extra
``rtml[turboml]``). Importing this package does not import the SDK."""

from rtml.backends.turboml.backend import TurboMLBackend, TurboMLDataset, TurboMLDeployment

__all__ = ["TurboMLBackend", "TurboMLDataset", "TurboMLDeployment"]
