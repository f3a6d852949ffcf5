"""Guards against hostile requests, as plain ASGI middleware (no extra task per request, nothing on a GET).

- RequestBodyLimitMiddleware: a body limit per route. A declared Content-Length above the limit is answered
  413 before a byte of the body is read; a chunked or lying body is counted as it arrives and cut at the
  limit. Whenever a response starts before the request's body was read to the end (a 413, a 401 before the
  body is parsed), it carries `Connection: close`, so the server drops the rest instead of reading it.
- TrailingSlashMiddleware: `/api/health/` is served as `/api/health`. Starlette would otherwise answer with a
  307 whose Location is built from the Host header, so `Host: evil.example` made the API redirect there.
  (Trusted hosts were the alternative, but the ALB's health checks and the kubelet's probes send the
  target's IP address as Host, so a host allow-list would have to allow every IP anyway.)

FastAPI's own `max_body_size` (Starlette's RequestBodyLimitMiddleware) was considered: its 413 is plain text
that names no limit, and it leaves the connection open when the body was not read, so a client that
declares 10 GiB keeps the worker reading and discarding until the body deadline (app/worker.py).
"""

import json
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestBodyTooLarge(HTTPException):
    """Raised from receive() when a body goes past its route's limit. An HTTPException, so that a framework
    that reads the body itself (FastAPI re-raises HTTPExceptions from body parsing) answers 413 too."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, body_limit_detail(limit))
        self.limit = limit


def body_limit_detail(limit: int) -> str:
    if limit == 0:
        return "This route takes no request body."
    return f"The request body is larger than this route's limit of {limit} bytes."


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: Mapping[str, int], default_limit: int = 0) -> None:
        """limits: the largest body in bytes per path; every other path gets default_limit."""
        self.app = app
        self.limits = dict(limits)
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if raw_length is None and not chunked:
            # No body at all (every GET): nothing to count, nothing to wrap.
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default_limit)
        if raw_length is not None:
            try:
                declared = int(raw_length)
            except ValueError:
                await _send_json(send, 400, "Content-Length is not a number.")
                return
            if declared > limit:
                await _send_json(send, 413, body_limit_detail(limit))
                return
            if declared == 0 and not chunked:
                await self.app(scope, receive, send)
                return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        body_complete = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, body_complete
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
                body_complete = not message.get("more_body", False)
            return message

        async def send_closing_if_unread(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                if not body_complete:
                    MutableHeaders(scope=message)["connection"] = "close"
            await send(message)

        try:
            await self.app(scope, limited_receive, send_closing_if_unread)
        except RequestBodyTooLarge as exc:
            if response_started:
                raise
            await _send_json(send, 413, exc.detail)


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            stripped = path.rstrip("/") or "/"
            raw_path: bytes | None = scope.get("raw_path")
            scope = {**scope, "path": stripped}
            if raw_path is not None:
                scope["raw_path"] = raw_path.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)
