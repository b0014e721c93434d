"""Requests generated from the server's own OpenAPI schema (schemathesis): none gets a 5xx,
every status is one the schema documents, and every answer matches its documented model."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import rtml
from rtml.serve import StoreOwner, create_app
from rtml.testing.server import running_server

KEY = "k3y"
# The schema is the app's own; it is read before the server starts, so from an app not opened.
schema = schemathesis.openapi.from_dict(create_app(StoreOwner(":memory:"), api_key=KEY).openapi())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


@pytest.fixture(scope="module")
def server_url():
    """A server whose store holds a dataset, a feature set and a model named as the generated
    requests often name them, so requests reach past the 404s."""
    with running_server(":memory:", api_key=KEY, max_batch=50, max_body_bytes=200_000) as url:
        backend = rtml.connect(url, api_key=KEY)
        for name in ("tx", "0", "a"):
            backend.create_dataset(
                name,
                key="id",
                schema={"id": "int", "card": "string", "ts": "int", "amount": "float"},
            )
        backend.create_dataset("labels", key="id", schema={"id": "int", "y": "int"})
        backend.materialize(
            rtml.FeatureSet(
                name="f",
                dataset="tx",
                timestamp="ts",
                features=[
                    rtml.features.Aggregate(
                        name="s", column="amount", op="sum", by="card", window="1h"
                    )
                ],
            )
        )
        for name in ("m", "0", "a"):
            backend.deploy(
                name,
                rtml.models.LogisticRegression(),
                inputs=rtml.Inputs(source="f", numerical=["amount", "s"]),
                labels=rtml.Labels(dataset="labels", field="y"),
            )
        yield url


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_gets_a_server_error(case, server_url):
    case.call_and_validate(
        base_url=server_url, headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS
    )
