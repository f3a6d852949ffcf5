"""Request context: a request id on every request, response and log line, and one JSON access line each.

Written as plain ASGI middleware rather than BaseHTTPMiddleware: it sits on every request, including the load
balancer's health checks, and a plain wrapper costs a function call instead of an extra task per request.
"""

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
# An upstream id (the ALB's X-Amzn-Trace-Id style, a UUID, ...) is kept only if it is short and plain, so a
# client cannot inject newlines or megabytes into our logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+/-]{8,128}$")

access_logger = logging.getLogger("app.access")


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER_KEY:
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_code = 500  # what the client sees if the app raises before responding

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            if self.access_log:
                client = scope.get("client")
                access_logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        # The path without the query string: queries can carry user identifiers.
                        "path": scope["path"],
                        "status": status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client_ip": client[0] if client else None,
                    },
                )
            request_id_var.reset(token)
