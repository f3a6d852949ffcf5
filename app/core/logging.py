"""Structured logs: one JSON object per line on stdout, carrying the request id of the request being served.

The same formatter is used by the app (configure_logging) and by gunicorn (app/gunicorn.conf.py's
logconfig_dict), so every line a container writes parses as JSON in CloudWatch Logs.

Writing is off the event loop. A worker logs one access line per request; written synchronously, each line is
a blocking write to a pipe (the container runtime's log driver), and when the reader falls behind the whole
event loop waits: at 1,000 connections p99 went above 5 s while the handlers took under 0.5 ms. The root
logger therefore gets a QueueHandler: a record is put on an in-memory queue (no I/O, no JSON) and a
listener thread formats and writes it. The listener wakes every FLUSH_INTERVAL_SECONDS and writes everything
queued in one write: the standard QueueListener wakes for every record, and that thread switch (with its
fight for the GIL) cost the worker more than the formatting (a profile of /api/health under load). The queue
is unbounded on purpose: every line is kept, never dropped; the worker's lifespan starts the listener and
stops it at shutdown, which writes every queued line before the process exits. Before the listener starts
(gunicorn's master, a script) records are written at once, as before.
"""

import contextlib
import functools
import json
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from json.encoder import encode_basestring  # the C string escaper json.dumps uses
from logging.handlers import QueueHandler
from typing import Any, NamedTuple, TextIO

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# How long a line may wait in the queue: a few wake-ups a second instead of one per line.
FLUSH_INTERVAL_SECONDS = 0.1
ACCESS_LOGGER = "app.access"


@functools.lru_cache(maxsize=4)
def _utc_second(seconds: int) -> str:
    """The ISO time of a whole second, formatted once for all the lines written in that second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


class AccessEntry(NamedTuple):
    """One request's access line, queued as plain values and formatted by the listener.

    Access lines skip logging's per-record machinery: a LogRecord (with its caller lookup, thread and process
    names) and the generic JSON formatter (which walks the record's attributes) cost about 25 us per request,
    a fifth of a worker's time on /api/health in a profile. The line written is the same JSON object a
    LogRecord would give: time, level, logger, message, request_id, method, path, status, duration_ms,
    client_ip.
    """

    created: float
    request_id: str
    method: str
    path: str
    status: int
    duration_ms: float
    client_ip: str | None

    def format(self) -> str:
        seconds = int(self.created)
        stamp = _utc_second(seconds)
        millis = int((self.created - seconds) * 1000)
        client = "null" if self.client_ip is None else encode_basestring(self.client_ip)
        return (
            f'{{"time": "{stamp}.{millis:03d}+00:00", "level": "INFO", "logger": "{ACCESS_LOGGER}", '
            f'"message": "request", "request_id": {encode_basestring(self.request_id)}, '
            f'"method": {encode_basestring(self.method)}, "path": {encode_basestring(self.path)}, '
            f'"status": {int(self.status)}, "duration_ms": {float(self.duration_ms)}, "client_ip": {client}}}'
        )


HANDLER_NAME = "contentry-json"

# Attributes every LogRecord has; anything else on a record came from `extra=` and is worth emitting, except
# uvicorn's `color_message` (the same text with terminal colour codes).
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "color_message"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Stamped when the record was created (see _stamp_request_id); the context variable is the fallback
        # for records made before configure_logging ran.
        request_id = record.__dict__.get("request_id") or request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key != "request_id" and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # formatted before queueing (see QueueingHandler.prepare)
            payload["exception"] = record.exc_text
        return json.dumps(payload, default=str, ensure_ascii=False)


class BatchingListener:
    """Writes queued records through a handler, all that is queued at each wake-up, in one write."""

    def __init__(
        self, records: "queue.SimpleQueue[logging.LogRecord | AccessEntry]", handler: logging.StreamHandler[TextIO]
    ):
        self._records = records
        self._handler = handler
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._write_queued()  # anything put after the thread's last round

    def _run(self) -> None:
        while not self._stopping.wait(FLUSH_INTERVAL_SECONDS):
            self._write_queued()
        self._write_queued()

    def _write_queued(self) -> None:
        lines: list[str] = []
        handler = self._handler
        while True:
            try:
                record = self._records.get_nowait()
            except queue.Empty:
                break
            if isinstance(record, AccessEntry):
                lines.append(record.format())
            elif record.levelno >= handler.level:
                try:
                    lines.append(handler.format(record))
                except Exception:  # noqa: BLE001 - a record that cannot be formatted is reported, not fatal
                    handler.handleError(record)
        if lines:
            with handler.lock or contextlib.nullcontext():
                handler.stream.write("\n".join(lines) + "\n")
                handler.flush()


class QueueingHandler(QueueHandler):
    """Puts records on a queue for a listener thread to format and write; writes them itself until then.

    prepare() does the minimum on the caller's thread: the message is merged with its arguments (they may
    change after the call) and a traceback becomes text (it holds frames); the JSON is built by the listener.
    """

    def __init__(self, stream_handler: logging.StreamHandler[TextIO]) -> None:
        self.records: queue.SimpleQueue[logging.LogRecord | AccessEntry] = queue.SimpleQueue()
        super().__init__(self.records)
        self.stream_handler = stream_handler
        self._listener: BatchingListener | None = None
        self._lock = threading.Lock()
        # A listener thread does not survive fork (gunicorn forks its workers): the child writes directly
        # until its own lifespan starts a listener.
        os.register_at_fork(after_in_child=self._forget_listener)

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = BatchingListener(self.records, self.stream_handler)
                self._listener.start()

    def stop(self) -> None:
        """Write every queued line, then go back to writing directly."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        self.stream_handler.flush()

    def emit(self, record: logging.LogRecord) -> None:
        if self._listener is None:
            self.stream_handler.handle(record)
        else:
            super().emit(record)

    def enqueue(self, record: logging.LogRecord) -> None:
        self.records.put(record)

    def access(self, entry: AccessEntry) -> None:
        """Queue an access line, or write it at once while no listener runs."""
        if self._listener is not None:
            self.records.put(entry)
            return
        handler = self.stream_handler
        with handler.lock or contextlib.nullcontext():
            handler.stream.write(entry.format() + "\n")
            handler.flush()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record

    def _forget_listener(self) -> None:
        self._listener = None
        self._lock = threading.Lock()


def logging_config(level: str) -> dict[str, Any]:
    """A logging.config.dictConfig mapping: JSON to stdout for the root logger and gunicorn's loggers."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            HANDLER_NAME: {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
        },
        "root": {"level": level, "handlers": [HANDLER_NAME]},
        "loggers": {
            # gunicorn's own loggers, so its startup and worker lines are JSON too.
            "gunicorn.error": {"level": level, "handlers": [HANDLER_NAME], "propagate": False},
            # The app writes its own access lines (with request id and duration); uvicorn's would duplicate.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def _stamp_request_id(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap a LogRecord factory so every record carries the request id of the moment it was created, even if
    it is formatted later (buffered or queued handlers, pytest's caplog)."""

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    make_record.stamps_request_id = True  # type: ignore[attr-defined]
    return make_record


def json_stream_handler(stream: TextIO | None = None) -> logging.StreamHandler[TextIO]:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging(level: str) -> QueueingHandler:
    """Give the root logger the queueing JSON handler, once, leaving other handlers (pytest's) alone.

    A plain JSON handler of the same name (gunicorn's logconfig_dict installs one) is replaced by it.
    """
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "stamps_request_id", False):
        logging.setLogRecordFactory(_stamp_request_id(factory))
    # The logging HOWTO's optimisations for what the JSON lines never show: the caller's file and line (a stack
    # walk per record), thread, process and multiprocessing names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.setLevel(level)
    ours = [handler for handler in root.handlers if handler.get_name() == HANDLER_NAME]
    queueing = next((handler for handler in ours if isinstance(handler, QueueingHandler)), None)
    if queueing is None:
        for handler in ours:
            root.removeHandler(handler)
        queueing = QueueingHandler(json_stream_handler())
        queueing.set_name(HANDLER_NAME)
        root.addHandler(queueing)
    # uvicorn's plain-text access lines would duplicate the app's JSON access lines.
    logging.getLogger("uvicorn.access").disabled = True
    return queueing


def log_writer() -> QueueingHandler | None:
    """The root logger's queueing handler, if configure_logging installed one."""
    for handler in logging.getLogger().handlers:
        if type(handler) is QueueingHandler:
            return handler
    return None
