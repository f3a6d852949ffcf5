"""The published OpenAPI schema against the running app: schemathesis generates requests from the schema
(valid ones and, for each parameter and body, invalid ones) for every route, with valid credentials, and
runs all of its checks on every answer: no 5xx, status codes and bodies as documented, content types,
invalid input refused with a 4xx, valid input accepted, authentication not ignored.

The examples per route and mode are bounded (MAX_EXAMPLES) and derandomised, so the run is fast and the same
on every machine; a failing example is printed as a reproducible request. (The operations are listed from
the schema at collection time; schemathesis's own lazy `from_fixture` loader does not run under pytest 9.)
"""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from app.core.config import Settings
from app.main import create_app
from tests.app.support import bearer_token, health_token_header

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
# Every operation the schema publishes (building the schema opens no connection), and whether it takes any
# input that invalid data can be generated for (parameters or a body; credentials are covered by the
# ignored-auth check). An operation without any gets valid requests only.
_PATHS = create_app(Settings()).openapi()["paths"]
OPERATIONS = [(method.upper(), path) for path, methods in _PATHS.items() for method in methods]
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or {"parameters", "requestBody"} & set(_PATHS[path][method.lower()])
]


@pytest.fixture
def api_schema(settings: Settings, s3: None) -> Iterator[schemathesis.BaseSchema]:
    # Development settings, so /openapi.json is served (production publishes it from CI instead).
    app: FastAPI = create_app(settings)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    # schemathesis runs the app's lifespan on its own thread and keeps it for the process: end it here, while
    # moto's S3 (which signs the presigned URLs) is still in place.
    shutdown_lifespans()


def test_the_schema_lists_every_route() -> None:
    assert OPERATIONS == [
        ("GET", "/api/health"),
        ("GET", "/api/health/live"),
        ("GET", "/api/health/ready"),
        ("GET", "/api/health/detailed"),
        ("GET", "/api/posts"),
        ("POST", "/api/uploads"),
        ("POST", "/api/uploads/{upload_id}/complete"),
        ("GET", "/api/jobs/{job_id}"),
    ]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_route_keeps_its_published_contract(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    credentials = {**bearer_token("contract-user"), **health_token_header()}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def keeps_contract(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=credentials)

    keeps_contract()
