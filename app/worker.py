"""The gunicorn worker: uvicorn's, with deadlines on slow clients and a recycle that drops no request.

uvicorn bounds only the idle time between two requests (gunicorn's `keepalive`). A client that opens a
connection and sends nothing, sends its headers a byte at a time, or declares a body and never finishes it
held a connection (and its buffers) for as long as it liked: all three were still open after 90 s. The
protocol below adds:
- a header deadline (GUNICORN_HEADER_TIMEOUT): from the connection's opening, or a request's first byte,
  to the end of its headers; expired: 408 and the connection is closed;
- a body deadline (GUNICORN_BODY_TIMEOUT): from the end of the headers to the end of the body; expired:
  408 if no response was started, and the connection is closed.

Recycling (`max_requests`) and shutdown close idle keep-alive connections at once in uvicorn. A client (an
ALB) that sent a request on such a connection just before the close gets a reset: behind an ALB, a 502.
Here an idle connection is kept for up to GUNICORN_DRAIN_SECONDS: its next request is served with
`Connection: close`, so the client opens a new connection (to a live worker) for the one after; a
connection that stays idle that long is closed. In-flight requests finish as before.
"""

import asyncio
import os
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 24\r\n"
    b"connection: close\r\n\r\n"
    b"Request took too long.\r\n"
)


def _env_seconds(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{name}={value} must be between {minimum} and {maximum} seconds")
    return value


@dataclass(frozen=True)
class ClientDeadlines:
    header_seconds: float = 10.0
    body_seconds: float = 15.0
    drain_seconds: float = 5.0

    @classmethod
    def from_env(cls) -> "ClientDeadlines":
        return cls(
            header_seconds=_env_seconds("GUNICORN_HEADER_TIMEOUT", cls.header_seconds, minimum=0.1, maximum=300),
            body_seconds=_env_seconds("GUNICORN_BODY_TIMEOUT", cls.body_seconds, minimum=0.1, maximum=3600),
            drain_seconds=_env_seconds("GUNICORN_DRAIN_SECONDS", cls.drain_seconds, minimum=0, maximum=60),
        )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    deadlines: ClassVar[ClientDeadlines] = ClientDeadlines()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._draining = False

    # The deadlines.
    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._arm(self.deadlines.header_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.deadlines.header_seconds)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._disarm()
        if self._draining and self.cycle is not None:
            self.cycle.keep_alive = False  # answered with Connection: close
        if self._has_body():
            self._arm(self.deadlines.body_seconds)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _has_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
                return True
        return False

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        # A 408 only where no response has begun on this connection's current request.
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()

    # Draining instead of dropping.
    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._draining = True
            self._unset_keepalive_if_required()
            if self.deadlines.drain_seconds == 0:
                self.transport.close()
            else:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.deadlines.drain_seconds, self.timeout_keep_alive_handler
                )
        else:
            super().shutdown()  # in flight: uvicorn answers it with Connection: close

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._draining and not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(deadlines: ClientDeadlines) -> type[GuardedHttpToolsProtocol]:
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"deadlines": deadlines})


class ContentryUvicornWorker(UvicornWorker):
    """gunicorn's `worker_class` (app/gunicorn.conf.py): uvloop and httptools, with the protocol above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.CONFIG_KWARGS = {
            "loop": "uvloop",
            "http": guarded_protocol(ClientDeadlines.from_env()),
            # The app reads X-Forwarded-For itself, from the right (app/core/client_address.py). uvicorn's proxy
            # headers, with every peer trusted, took the leftmost entry: the one the client writes.
            "proxy_headers": False,
        }
        super().__init__(*args, **kwargs)
