"""Request ids, access lines, JSON logs, CORS, error bodies, and secrets kept out of logs."""

import io
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.logging import (
    HANDLER_NAME,
    AccessEntry,
    JsonFormatter,
    QueueingHandler,
    configure_logging,
    json_stream_handler,
    log_writer,
    request_id_var,
)
from app.main import create_app
from tests.app.support import (
    HANG_GUARD_SECONDS,
    TEST_HEALTH_TOKEN,
    TEST_JWT_SECRET,
    bearer_token,
    health_token_header,
    serve,
)

pytestmark = pytest.mark.anyio


async def test_every_response_carries_a_generated_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/health")
    second = await client.get("/api/health")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "Root=1-67891233-abcdef012345678912345678"})
    assert response.headers["x-request-id"] == "Root=1-67891233-abcdef012345678912345678"


@pytest.mark.parametrize("bad", [b"short", b"x" * 200, b"has spaces in it", "ends-with-\u2028".encode()])
async def test_an_unsafe_incoming_request_id_is_replaced(client: httpx.AsyncClient, bad: bytes) -> None:
    response = await client.get("/api/health", headers=[(b"X-Request-ID", bad)])
    assert response.headers["x-request-id"].encode() != bad
    assert len(response.headers["x-request-id"]) == 32


@pytest.fixture
def written_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """What the app's log writer writes during the test, as parsed JSON lines (read once the app stopped, so
    every queued line has been written)."""
    writer = configure_logging("INFO")
    stream = io.StringIO()
    previous = writer.stream_handler.setStream(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        writer.stream_handler.setStream(previous or sys.stdout)


async def test_one_access_line_per_request_without_the_query_string(
    settings: Settings, s3: None, written_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    async with serve(create_app(settings)) as client:
        response = await client.get("/api/posts", params={"user_id": "private-user-id"})
    lines = [line for line in written_lines() if line["logger"] == "app.access"]
    assert len(lines) == 1
    [line] = lines
    assert line["status"] == 200
    assert line["path"] == "/api/posts"
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], int | float), "a number, whatever the machine's speed"
    assert line["level"] == "INFO"
    assert line["message"] == "request"
    assert line["client_ip"] == "127.0.0.1"
    assert line["request_id"] == response.headers["x-request-id"]
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)
    assert "private-user-id" not in json.dumps(line)


async def test_the_access_line_names_the_client_the_load_balancer_saw_not_the_one_claimed(
    settings: Settings, s3: None, written_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    async with serve(create_app(settings)) as client:
        await client.get("/api/posts", params={"user_id": "u1"}, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    [line] = [line for line in written_lines() if line["logger"] == "app.access"]
    assert line["client_ip"] == "203.0.113.7"


async def test_access_lines_can_be_switched_off(
    settings: Settings, s3: None, written_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    async with serve(create_app(settings.model_copy(update={"access_log_enabled": False}))) as client:
        await client.get("/api/health")
    assert written_lines(), "the app's other lines (started, stopped) are still written"
    assert not [line for line in written_lines() if line["logger"] == "app.access"]


def test_an_access_line_is_the_json_a_log_record_would_give() -> None:
    entry = AccessEntry(
        created=1_700_000_000.25,
        request_id="req-1",
        method="GET",
        path='/api/"quoted"\n\u202e',
        status=404,
        duration_ms=1.5,
        client_ip=None,
    )
    assert json.loads(entry.format()) == {
        "time": "2023-11-14T22:13:20.250+00:00",
        "level": "INFO",
        "logger": "app.access",
        "message": "request",
        "request_id": "req-1",
        "method": "GET",
        "path": '/api/"quoted"\n\u202e',
        "status": 404,
        "duration_ms": 1.5,
        "client_ip": None,
    }


def test_log_lines_are_json_with_the_request_id_and_extras() -> None:
    token = request_id_var.set("req-123456789")
    try:
        record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, "cache %s", ("down",), None)
        record.__dict__["error"] = "ConnectionError"
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    parsed = json.loads(line)
    assert parsed["message"] == "cache down"
    assert parsed["level"] == "WARNING"
    assert parsed["request_id"] == "req-123456789"
    assert parsed["error"] == "ConnectionError"
    assert parsed["time"].endswith("+00:00")


def test_exceptions_are_logged_as_one_json_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("app.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    parsed = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in parsed["exception"]


async def test_cors_allows_configured_origins_only(settings: Settings, s3: None) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.contentry.example"]}))
    async with serve(app) as client:
        allowed = await client.options(
            "/api/uploads",
            headers={"Origin": "https://app.contentry.example", "Access-Control-Request-Method": "POST"},
        )
        refused = await client.options(
            "/api/uploads",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        simple = await client.get("/api/health", headers={"Origin": "https://app.contentry.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.contentry.example"
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.contentry.example"
    assert "X-Request-ID" in simple.headers["access-control-expose-headers"]
    assert allowed.headers["x-request-id"]


async def test_without_cors_origins_no_cors_headers_are_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"Origin": "https://app.contentry.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_an_unexpected_error_is_a_json_500_logged_with_the_request_id(
    settings: Settings, s3: None, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/api/explode")
    async def explode() -> None:
        raise RuntimeError("unexpected")

    async with serve(app) as client:
        with caplog.at_level(logging.ERROR, logger="app.errors"):
            response = await client.get("/api/explode", headers={"X-Request-ID": "trace-0123456789"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-0123456789"
    assert response.json() == {"detail": "Internal server error.", "request_id": "trace-0123456789"}
    [record] = [record for record in caplog.records if record.name == "app.errors"]
    logged = json.loads(JsonFormatter().format(record))
    assert logged["request_id"] == "trace-0123456789"
    assert "RuntimeError: unexpected" in logged["exception"]


async def test_secrets_never_reach_the_logs(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        await client.get("/api/health/detailed", headers=health_token_header())
        await client.get("/api/health/detailed", headers={"X-Health-Token": "wrong"})
        await client.post(
            "/api/uploads",
            json={"filename": "a.png", "content_type": "image/png", "size_bytes": 10},
            headers=bearer_token("user-1", secret="not-the-real-secret-" + "q" * 32),
        )
        await client.post(
            "/api/uploads",
            json={"filename": "a.png", "content_type": "image/png", "size_bytes": 10},
            headers=bearer_token("user-1"),
        )
    formatter = JsonFormatter()
    rendered = "\n".join(formatter.format(record) for record in caplog.records)
    assert rendered  # the requests above were logged
    assert TEST_HEALTH_TOKEN not in rendered
    assert TEST_JWT_SECRET not in rendered
    assert "Bearer" not in rendered


class BlockingStream(io.StringIO):
    """A stdout whose reader has fallen behind: every write waits until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()

    def write(self, text: str) -> int:
        assert self.released.wait(HANG_GUARD_SECONDS), "the stream was never released"
        return super().write(text)


def queueing_logger(stream: io.StringIO) -> tuple[logging.Logger, QueueingHandler]:
    handler = QueueingHandler(json_stream_handler(stream))
    logger = logging.Logger(f"queue-test-{id(stream)}", logging.INFO)
    logger.addHandler(handler)
    return logger, handler


def test_logging_does_not_wait_for_a_blocked_stdout_and_keeps_every_line() -> None:
    stream = BlockingStream()
    logger, handler = queueing_logger(stream)
    handler.start()
    done = threading.Event()

    def log_lines() -> None:
        for index in range(500):
            logger.info("request", extra={"index": index})
        done.set()

    writer = threading.Thread(target=log_lines)
    writer.start()
    # Every call returns while stdout is still blocked: the caller (the event loop) never waits on the pipe.
    assert done.wait(HANG_GUARD_SECONDS), "logging blocked on the stream"
    assert stream.getvalue() == ""
    stream.released.set()
    handler.stop()  # the worker's shutdown: writes every queued line, then returns
    writer.join()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["index"] for line in lines] == list(range(500)), "every line, in order"


def test_before_the_listener_starts_and_after_it_stops_lines_are_written_at_once() -> None:
    stream = io.StringIO()
    logger, handler = queueing_logger(stream)
    logger.info("before")
    assert json.loads(stream.getvalue())["message"] == "before"
    handler.start()
    handler.stop()
    logger.warning("after %s", "stop")
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "after stop"


def test_a_queued_record_keeps_its_message_request_id_and_traceback() -> None:
    stream = io.StringIO()
    logger, handler = queueing_logger(stream)
    handler.start()
    token = request_id_var.set("queued-request-1")
    arguments = ["first"]
    try:
        logger.info("value %s", arguments)
        arguments[0] = "changed after the call"  # the line says what was logged, not what the list became
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("failed")
    finally:
        request_id_var.reset(token)
    handler.stop()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "value ['first']"
    assert first["request_id"] == second["request_id"] == "queued-request-1"
    assert "RuntimeError: boom" in second["exception"]


def test_the_app_logs_through_the_queue(settings: Settings) -> None:
    create_app(settings)
    writer = log_writer()
    assert writer is not None
    assert [handler for handler in logging.getLogger().handlers if handler.get_name() == HANDLER_NAME] == [writer]


async def test_the_lifespan_starts_the_listener_and_stops_it(settings: Settings, s3: None) -> None:
    async with serve(create_app(settings)) as client:
        writer = log_writer()
        assert writer is not None
        assert writer.listening
        await client.get("/api/health")
    assert not writer.listening, "stopped, so every line was written before shutdown finished"


@pytest.mark.parametrize("path", ["/api/health/", "/api/health//", "/api/health/live/"])
async def test_a_trailing_slash_is_served_without_a_redirect(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "location" not in response.headers


async def test_no_route_redirects_to_the_host_header(client: httpx.AsyncClient) -> None:
    for path in ("/api/posts/", "/api/uploads/", "/api/", "/api/health/ready/"):
        response = await client.get(path, headers={"Host": "evil.example"})
        assert response.status_code not in (301, 302, 307, 308), path
        assert "evil.example" not in response.headers.get("location", ""), path
