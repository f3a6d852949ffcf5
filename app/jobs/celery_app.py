"""The Celery app, built from settings: the same for the API (which only publishes) and the worker.

Broker and result store are the Redis of REDIS_URL. Reliability comes from these choices:
- `task_acks_late` with `task_reject_on_worker_lost`: a message is acknowledged after its task ran, and a worker
  process that dies mid-task sends it back, so a killed worker loses no job;
- Redis has no real acknowledgement: kombu keeps a delivered message in an "unacked" set and hands it out again
  once it is older than the `visibility_timeout`. That timeout must exceed the hard time limit plus the longest
  retry wait (Settings.broker_visibility_timeout), or a job still running would be delivered a second time;
  a whole host that dies is covered by exactly this redelivery;
- prefetch multiplier 1: a worker process reserves one message at a time, so a long job never holds others;
- publishing has connect and socket deadlines and a bounded number of retries, so a request that enqueues
  answers 503 quickly when Redis is down instead of hanging.
"""

import ssl
from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from app.core.config import Settings

QUEUE = "jobs"  # the Redis list KEDA and the exporter read (Celery's key for this queue, priority 0)
PROCESS_UPLOAD = "jobs.process_upload"
FAN_OUT_NOTIFICATIONS = "jobs.fan_out_notifications"


def tls_options(redis_url: str) -> dict[str, Any] | None:
    """For rediss:// (ElastiCache with in-transit encryption, or an external TLS Redis): verify the server's
    certificate against the system's CAs and its host name. Celery refuses a rediss:// URL without an explicit
    ssl_cert_reqs; CERT_REQUIRED is the only safe one."""
    if urlsplit(redis_url).scheme != "rediss":
        return None
    return {"ssl_cert_reqs": ssl.CERT_REQUIRED}


def celery_config(settings: Settings) -> dict[str, Any]:
    url = settings.redis_url.get_secret_value()
    tls = tls_options(url)
    transport_options = {
        "visibility_timeout": settings.broker_visibility_timeout,
        # Sweep the unacked set every interval (throttle 1): kombu's default sweeps every 10 x 10 s.
        "unacked_restore_interval": settings.broker_restore_interval_seconds,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": settings.broker_connect_timeout_seconds,
        "socket_timeout": settings.broker_socket_timeout_seconds,
        "socket_keepalive": True,
        "health_check_interval": 25,
        # Connecting (kombu's ensure_connection on first use) is retried this often, then gives up: a publisher
        # never waits on a broker that is away. The worker's consumer reconnects forever on its own
        # (broker_connection_max_retries below).
        "max_retries": settings.broker_publish_max_retries,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
    config: dict[str, Any] = {
        "broker_url": url,
        "result_backend": url,
        "broker_transport_options": transport_options,
        "result_backend_transport_options": {
            "socket_connect_timeout": settings.broker_connect_timeout_seconds,
            "socket_timeout": settings.broker_socket_timeout_seconds,
        },
        "broker_connection_timeout": settings.broker_connect_timeout_seconds,
        # The worker keeps reconnecting to a broker that is away (at startup too); a publisher does not (below).
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_default_queue": QUEUE,
        "task_create_missing_queues": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.job_time_limit_seconds,
        "task_soft_time_limit": settings.soft_time_limit_seconds,
        # A job's state and result live in MongoDB (durable, owner-scoped); the result store is not needed for them.
        "task_ignore_result": True,
        "result_expires": 86_400,
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": settings.broker_publish_max_retries,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        # JSON logs come from the app's own handler (app.core.logging), not Celery's.
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
    }
    if tls is not None:
        config["broker_use_ssl"] = tls
        config["redis_backend_use_ssl"] = tls
    return config


def create_celery(settings: Settings) -> Celery:
    """A Celery app for these settings; it connects on first use (publishing, or the worker's start)."""
    celery = Celery("contentry", set_as_current=False)
    celery.conf.update(celery_config(settings))
    return celery
