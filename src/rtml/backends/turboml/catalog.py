"""What rtml defined on TurboML, kept in a small local JSON file.

TurboML knows datasets, features and models, but not rtml's names for them: which dataset a
feature set lives on, which rtml spec a deployment came from. The catalog keeps that so separate
processes (the fraud example's steps) find each other's definitions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["Catalog"]


class Catalog:
    """A JSON file of ``datasets``, ``feature_sets`` and ``deployments``, rewritten atomically.

    >>> import tempfile
    >>> c = Catalog(os.path.join(tempfile.mkdtemp(), "turboml.json"))
    >>> c.put("datasets", "tx", {"key": "id"})
    >>> Catalog(c.path).get("datasets")
    {'tx': {'key': 'id'}}
    """

    SECTIONS = ("datasets", "feature_sets", "deployments")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.data: dict[str, dict[str, Any]] = {s: {} for s in self.SECTIONS}
        if self.path.exists():
            loaded = json.loads(self.path.read_text())
            for section in self.SECTIONS:
                self.data[section] = dict(loaded.get(section, {}))

    def get(self, section: str) -> dict[str, Any]:
        return self.data[section]

    def put(self, section: str, name: str, value: Any) -> None:
        self.data[section][name] = value
        self._save()

    def drop(self, section: str, name: str) -> None:
        self.data[section].pop(name, None)
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(temporary, self.path)
