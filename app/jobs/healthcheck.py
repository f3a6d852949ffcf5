"""`python -m app.jobs.healthcheck`: exit 0 iff the worker on this host or pod answers Celery's own ping.

It pings `celery@<this hostname>` (the worker's node name, see app.jobs.worker) through the broker and waits at
most PING_TIMEOUT_SECONDS. The Docker HEALTHCHECK on EC2 and the liveness probe on Kubernetes run it: a worker
that is alive but no longer consumes (stuck, or disconnected from the broker) does not answer and is replaced.
"""

import logging
import socket
import sys

from app.core.config import Settings
from app.core.logging import configure_logging
from app.jobs.celery_app import create_celery

logger = logging.getLogger(__name__)
PING_TIMEOUT_SECONDS = 5.0


def node_name(hostname: str | None = None) -> str:
    return f"celery@{hostname or socket.gethostname()}"


def worker_answers(settings: Settings, node: str, timeout: float = PING_TIMEOUT_SECONDS) -> bool:
    celery = create_celery(settings)
    try:
        replies = celery.control.ping(destination=[node], timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a broker that is away is an unhealthy answer, not a traceback
        logger.warning("worker ping failed", extra={"node": node, "error": type(exc).__name__})
        return False
    finally:
        celery.close()
    return any(reply.get(node, {}).get("ok") == "pong" for reply in replies or [])


def main() -> int:
    settings = Settings()
    configure_logging(settings.log_level)
    node = node_name()
    healthy = worker_answers(settings, node)
    if not healthy:
        logger.error("worker did not answer ping", extra={"node": node})
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
