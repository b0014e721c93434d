"""``rtml serve``: a REST API owning one local store, for downstream services and for several
processes sharing a store (see the serving guide).

>>> from rtml.serve import StoreOwner, create_app
>>> owner = StoreOwner(":memory:")
>>> app = create_app(owner)
>>> [path for path in app.openapi()["paths"] if path.endswith("predict")]
['/models/{name}/predict']
"""

from rtml.serve.app import create_app
from rtml.serve.owner import StoreOwner

__all__ = ["StoreOwner", "create_app"]
