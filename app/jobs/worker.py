"""`python -m app.jobs.worker`: a Celery worker on the queue `jobs`.

WORKER_CONCURRENCY prefork processes, each reserving one message at a time (prefetch multiplier 1), messages
acknowledged after their task ran (acks_late) and sent back if the process dies (reject on worker lost), time
limits from JOB_TIME_LIMIT_SECONDS. SIGTERM is Celery's warm shutdown: no new message is taken, running tasks
finish, then the process exits (the orchestrator's grace period must cover JOB_TIME_LIMIT_SECONDS). The node
is named celery@<hostname>, the name `python -m app.jobs.healthcheck` pings.
"""

import sys

from app.core.config import Settings
from app.core.logging import configure_logging
from app.core.tracing import enable_datadog


def worker_argv(settings: Settings) -> list[str]:
    return [
        "worker",
        "--queues",
        "jobs",
        "--concurrency",
        str(settings.worker_concurrency),
        "--pool",
        "prefork",
        "--prefetch-multiplier",
        "1",
        "--hostname",
        "celery@%h",
        "--loglevel",
        settings.log_level,
        # No chatter between workers at startup and all the time: they share nothing but the queue.
        "--without-mingle",
        "--without-gossip",
    ]


def main() -> int:
    settings = Settings()
    # Before Celery and the clients are imported, so ddtrace instruments them (and never when disabled).
    enable_datadog(settings.datadog_enabled)
    configure_logging(settings.log_level)
    from app.jobs.tasks import create_worker_celery

    celery = create_worker_celery(settings)
    celery.worker_main(worker_argv(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
