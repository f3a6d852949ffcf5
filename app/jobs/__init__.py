"""Background jobs: Celery on Redis, each job recorded in MongoDB's `jobs` collection.

- `celery_app`: the Celery app built from settings (broker and result store: REDIS_URL, TLS verified for rediss://).
- `records`: a job's document and its states (queued, running, succeeded, failed), for the API and the worker.
- `queue`: enqueueing from the API (record, then publish; 503 when the broker is down).
- `tasks`: the tasks (idempotent, retried with backoff and jitter, time-limited) and the worker's clients.
- `uploads`, `notifications`: what the two job types do.
- `worker`, `healthcheck`, `queue_metrics`: the processes the infrastructure runs (`python -m app.jobs.<name>`).
"""
