"""Datadog APM, only when DATADOG_ENABLED is true.

`ddtrace` is in the image but imported only here, and only when enabled: with DATADOG_ENABLED=false the API and
the worker run without it in their process (no import hooks, no background threads, no agent connections). When
enabled, `ddtrace.auto` instruments what it supports (FastAPI/Starlette, pymongo, redis, botocore, celery) and
reads its own settings from the environment the infrastructure sets: DD_SERVICE, DD_ENV, DD_VERSION,
DD_AGENT_HOST and DD_LOGS_INJECTION (which puts `dd.trace_id` and `dd.span_id` on every log record; the JSON
formatter writes a record's extra attributes, so every log line carries them).
"""

import importlib
import logging
import os

from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)


class TracingSettings(BaseSettings):
    """The one switch, readable before the full settings (gunicorn's config file runs before the app exists)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    datadog_enabled: bool = False


def enable_datadog(enabled: bool | None = None) -> bool:
    """Start ddtrace's automatic instrumentation if enabled (the environment's DATADOG_ENABLED when None).
    Idempotent; returns whether tracing is on."""
    if enabled is None:
        enabled = TracingSettings().datadog_enabled
    if not enabled:
        return False
    # Log correlation is what the logs need; the infrastructure sets it, and a developer turning tracing on by
    # hand gets it too.
    os.environ.setdefault("DD_LOGS_INJECTION", "true")
    importlib.import_module("ddtrace.auto")
    return True
