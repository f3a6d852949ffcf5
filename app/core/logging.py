"""Structured logs: one JSON object per line on stdout, carrying the request id of the request being served.

The same formatter is used by the app (configure_logging) and by gunicorn (app/gunicorn.conf.py's
logconfig_dict), so every line a container writes parses as JSON in CloudWatch Logs.
"""

import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

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
        return json.dumps(payload, default=str, ensure_ascii=False)


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


def configure_logging(level: str) -> None:
    """Install the JSON handler on the root logger once, leaving other handlers (pytest's, gunicorn's) alone."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "stamps_request_id", False):
        logging.setLogRecordFactory(_stamp_request_id(factory))
    root = logging.getLogger()
    root.setLevel(level)
    if not any(handler.get_name() == HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    # uvicorn's plain-text access lines would duplicate the app's JSON access lines.
    logging.getLogger("uvicorn.access").disabled = True
