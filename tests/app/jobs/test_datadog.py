"""Datadog on and off, each in a fresh interpreter: with DATADOG_ENABLED=false neither the API nor the worker
imports ddtrace; with true both do, and every JSON log line inside a span carries its trace and span ids."""

import json
import subprocess
import sys

import pytest

from tests.app.jobs.support import worker_environment
from tests.app.support import HANG_GUARD_SECONDS, REPO_ROOT

pytestmark = pytest.mark.slow

PROBE = """
import json, logging, sys
from app.core.config import Settings
from app.main import create_app
from app.jobs import worker
from app.jobs.tasks import create_worker_celery
from app.core.tracing import enable_datadog

settings = Settings()
create_app(settings)
enable_datadog(settings.datadog_enabled)  # what `python -m app.jobs.worker` does before building its app
create_worker_celery(settings)
span_ids = None
if "ddtrace" in sys.modules:
    from ddtrace.trace import tracer
    with tracer.trace("probe") as span:
        logging.getLogger("probe").warning("inside a span")
        span_ids = [format(span.trace_id, "032x"), str(span.span_id)]
else:
    logging.getLogger("probe").warning("inside a span")
print("RESULT " + json.dumps({"ddtrace": "ddtrace" in sys.modules, "span": span_ids}), flush=True)
"""


def run_probe(extra_env: dict[str, str]) -> tuple[dict[str, object], list[dict[str, object]]]:
    env = worker_environment(
        {
            # An agent that is not there: traces are dropped, the process must not care.
            "DD_TRACE_AGENT_URL": "http://127.0.0.1:9",
            "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
            "DD_REMOTE_CONFIGURATION_ENABLED": "false",
            **extra_env,
        }
    )
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=4 * HANG_GUARD_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result_line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    logs = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return json.loads(result_line.removeprefix("RESULT ")), logs


def test_with_datadog_disabled_ddtrace_is_never_imported() -> None:
    result, logs = run_probe({"DATADOG_ENABLED": "false"})
    assert result == {"ddtrace": False, "span": None}
    probe = next(line for line in logs if line["message"] == "inside a span")
    assert "dd.trace_id" not in probe


def test_with_datadog_enabled_the_api_and_worker_trace_and_logs_carry_the_trace() -> None:
    result, logs = run_probe(
        {"DATADOG_ENABLED": "true", "DD_SERVICE": "contentry-worker", "DD_ENV": "test", "DD_VERSION": "1.2.3"}
    )
    assert result["ddtrace"] is True
    trace_id, span_id = result["span"]  # type: ignore[misc]
    probe = next(line for line in logs if line["message"] == "inside a span")
    assert probe["dd.trace_id"] == trace_id
    assert probe["dd.span_id"] == span_id
    assert (probe["dd.service"], probe["dd.env"], probe["dd.version"]) == ("contentry-worker", "test", "1.2.3")
