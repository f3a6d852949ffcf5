"""The tasks and the worker's clients.

Each task takes a job id only: the job's document holds its parameters, owner and state. A task:
1. claims the job (status running, attempts + 1), unless it already finished: a redelivered or duplicate
   message for a job that succeeded or failed does nothing (the job id is the idempotency key);
2. gives up, recording failed, once the job has had JOB_MAX_ATTEMPTS attempts, whether they raised or took the
   worker down with them (a file that kills the process every time must not be retried forever);
3. runs; on an error (the soft time limit included) records it and retries after an exponential backoff with
   jitter, or, after the last attempt, records failed with the error.
"""

import logging
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from boto3.session import Session
from botocore.config import Config
from bson import ObjectId
from celery import Celery, Task
from PIL import Image
from pymongo import MongoClient
from pymongo.database import Database

from app.core.config import Settings
from app.jobs.celery_app import FAN_OUT_NOTIFICATIONS, PROCESS_UPLOAD, QUEUE, create_celery
from app.jobs.errors import PermanentJobError
from app.jobs.notifications import MAX_RECIPIENT_IDS, enterprise_members, fan_out
from app.jobs.records import JOBS_COLLECTION, JobStatus, JobStore, JobType, derived_job_id, new_job, short_error
from app.jobs.uploads import UploadLimits, UploadProcessor

logger = logging.getLogger(__name__)

Work = Callable[[dict[str, Any]], dict[str, Any]]


def retry_delay(attempt: int, *, base: float, maximum: float, rng: Callable[[float, float], float]) -> float:
    """Seconds before the next attempt after `attempt` failed: base * 2^(attempt-1), at most `maximum`, with
    "equal jitter" (a uniform draw from the upper half), so retries of many jobs that failed together spread out
    yet never come back at once."""
    ceiling = min(maximum, base * 2 ** (attempt - 1))
    return rng(ceiling / 2, ceiling)


class WorkerRuntime:
    """The clients one worker process uses, created in that process on first use: prefork forks the pool's
    processes from the main one, and neither PyMongo's client nor botocore's connections survive a fork."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pid: int | None = None
        self._mongo: MongoClient[dict[str, Any]] | None = None
        self._s3: Any = None
        # Pillow's own decompression-bomb guard, at the same bound as the explicit check before decoding.
        Image.MAX_IMAGE_PIXELS = settings.image_max_pixels

    def _ensure(self) -> None:
        if self._pid == os.getpid():
            return
        settings = self.settings
        self._mongo = MongoClient(
            settings.mongo_url.get_secret_value(),
            appname="contentry-worker",
            maxPoolSize=4,
            connectTimeoutMS=settings.mongo_connect_timeout_ms,
            serverSelectionTimeoutMS=settings.mongo_server_selection_timeout_ms,
            # No single MongoDB call may outlast the job's own soft limit.
            socketTimeoutMS=int(settings.soft_time_limit_seconds * 1000),
            tz_aware=True,
        )
        self._s3 = Session().client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.s3_endpoint_url,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if settings.s3_endpoint_url else "virtual"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        self._pid = os.getpid()

    @property
    def db(self) -> Database[dict[str, Any]]:
        self._ensure()
        assert self._mongo is not None
        return self._mongo.get_database(self.settings.mongo_database)

    @property
    def store(self) -> JobStore:
        return JobStore(self.db[JOBS_COLLECTION])

    @property
    def uploads(self) -> UploadProcessor:
        self._ensure()
        settings = self.settings
        limits = UploadLimits(
            max_bytes=settings.upload_max_bytes,
            image_max_pixels=settings.image_max_pixels,
            thumbnail_max_edge=settings.thumbnail_max_edge_pixels,
            quarantine_prefix=settings.upload_quarantine_prefix,
            thumbnail_prefix=settings.upload_thumbnail_prefix,
        )
        return UploadProcessor(self._s3, settings.s3_bucket, limits)


def run_job(task: Task, runtime: WorkerRuntime, job_id: str, work: Work) -> None:
    settings = runtime.settings
    store = runtime.store
    job = store.claim(job_id)
    if job is None:
        existing = store.get(job_id)
        status = existing["status"] if existing else "unknown"
        logger.info("job already finished; nothing to do", extra={"job_id": job_id, "status": status})
        return
    attempt = int(job["attempts"])
    log = {"job_id": job_id, "type": job["type"], "attempt": attempt}
    if attempt > settings.job_max_attempts:
        # Every earlier attempt took its worker down (killed, out of memory) without recording anything.
        store.fail(job_id, f"gave up after {settings.job_max_attempts} attempts: the worker was lost during each")
        logger.error("job failed: workers lost", extra=log)
        return
    logger.info("job started", extra=log)
    try:
        result = work(job)
    except PermanentJobError as exc:
        store.fail(job_id, short_error(exc))
        logger.error("job failed", extra={**log, "error": short_error(exc)})
        return
    except Exception as exc:  # every other error (the soft time limit included) is retried, then recorded
        error = short_error(exc)
        if attempt >= settings.job_max_attempts:
            store.fail(job_id, error)
            logger.error("job failed after its last attempt", extra={**log, "error": error})
            return
        delay = retry_delay(
            attempt,
            base=settings.job_retry_backoff_seconds,
            maximum=settings.job_retry_backoff_max_seconds,
            rng=random.uniform,
        )
        store.will_retry(job_id, error, delay)
        logger.warning("job attempt failed; retrying", extra={**log, "error": error, "retry_in_seconds": delay})
        # Celery publishes the retry (same task id) before this message is acknowledged: nothing is lost between.
        raise task.retry(countdown=delay, max_retries=None, exc=exc) from exc
    store.succeed(job_id, result)
    logger.info("job succeeded", extra=log)


def record_escaped_failure(
    celery: Any, store: JobStore, settings: Settings, task_name: str, job_id: str, exc: BaseException
) -> str:
    """A failure run_job could not record: the hard time limit (the pool process was killed, Celery reports it in
    the worker's main process, then acknowledges the message) or an error while recording. Retry the job after a
    backoff with a new message, or record it failed after its last attempt. Returns what was done."""
    job = store.get(job_id)
    if job is None or job["status"] in (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value):
        return "nothing"
    error = short_error(exc)
    attempt = max(1, int(job.get("attempts", 0)))
    if attempt >= settings.job_max_attempts:
        store.fail(job_id, error)
        return "failed"
    delay = retry_delay(
        attempt,
        base=settings.job_retry_backoff_seconds,
        maximum=settings.job_retry_backoff_max_seconds,
        rng=random.uniform,
    )
    store.will_retry(job_id, error, delay)
    celery.send_task(task_name, args=[job_id], task_id=job_id, queue=QUEUE, countdown=delay, ignore_result=True)
    return "retried"


def enqueue_from_worker(
    celery: Celery,
    store: JobStore,
    job_id: str,
    job_type: JobType,
    task_name: str,
    user_id: str,
    params: dict[str, Any],
) -> None:
    """Record and publish a follow-up job. Its id is derived from the parent's, so a parent that runs again finds
    it recorded and publishes it again only while it has not run (a duplicate delivery of a finished job does
    nothing)."""
    inserted = store.insert(new_job(job_id, job_type, user_id, params, datetime.now(UTC)))
    existing = None if inserted else store.get(job_id)
    if inserted or (existing is not None and existing["status"] == JobStatus.QUEUED.value):
        celery.send_task(task_name, args=[job_id], task_id=job_id, queue=QUEUE, ignore_result=True)


def register_tasks(celery: Celery, runtime: WorkerRuntime) -> None:
    settings = runtime.settings

    def process_upload(job: dict[str, Any]) -> dict[str, Any]:
        key = job["params"].get("key")
        if not isinstance(key, str) or not key.startswith(f"uploads/{job['user_id']}/"):
            raise PermanentJobError("the job names no upload of its owner")
        result = runtime.uploads.process(key)
        # Tell people: the owner alone about a quarantined file; the owner's enterprise (or the owner) about a clean
        # one. The fan-out is a job of its own: thousands of recipients must not hold up the next upload.
        owner = job["user_id"]
        # Users' _id is the token's subject: a string, or the hex of an ObjectId in the seed's data.
        ids: list[Any] = [owner, ObjectId(owner)] if ObjectId.is_valid(owner) else [owner]
        user = runtime.db["users"].find_one({"_id": {"$in": ids}}, {"enterprise_id": 1})
        enterprise_id = user.get("enterprise_id") if user else None
        audience: dict[str, Any] = (
            {"enterprise_id": str(enterprise_id)}
            if enterprise_id and not result["quarantined"]
            else {"user_ids": [owner]}
        )
        child_id = derived_job_id(job["_id"], "notify")
        enqueue_from_worker(
            celery,
            runtime.store,
            child_id,
            JobType.FAN_OUT_NOTIFICATIONS,
            FAN_OUT_NOTIFICATIONS,
            owner,
            {
                **audience,
                "kind": "upload.quarantined" if result["quarantined"] else "upload.processed",
                "payload": {"key": key, "upload_job_id": job["_id"], "thumbnail_key": result.get("thumbnail_key")},
            },
        )
        return {**result, "notification_job_id": child_id}

    def fan_out_notifications(job: dict[str, Any]) -> dict[str, Any]:
        params = job["params"]
        if "enterprise_id" in params:
            recipients: Any = enterprise_members(
                runtime.db, str(params["enterprise_id"]), settings.notification_batch_size
            )
        else:
            user_ids = params.get("user_ids")
            if not isinstance(user_ids, list) or len(user_ids) > MAX_RECIPIENT_IDS:
                raise PermanentJobError(f"user_ids must be a list of at most {MAX_RECIPIENT_IDS} user ids")
            recipients = [str(user_id) for user_id in user_ids]
        return fan_out(
            runtime.db,
            job_id=job["_id"],
            recipients=recipients,
            kind=str(params.get("kind", "notice")),
            payload=dict(params.get("payload") or {}),
            batch_size=settings.notification_batch_size,
            now=datetime.now(UTC),
        )

    class JobTask(Task):
        def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
            job_id = args[0] if args else task_id
            outcome = record_escaped_failure(celery, runtime.store, settings, str(self.name), str(job_id), exc)
            logger.error(
                "job attempt ended outside the task",
                extra={"job_id": job_id, "error": short_error(exc), "outcome": outcome},
            )

    common: dict[str, Any] = {
        "base": JobTask,
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "ignore_result": True,
        "max_retries": None,
    }

    @celery.task(name=PROCESS_UPLOAD, **common)
    def process_upload_task(self: Task, job_id: str) -> None:
        run_job(self, runtime, job_id, process_upload)

    @celery.task(name=FAN_OUT_NOTIFICATIONS, **common)
    def fan_out_notifications_task(self: Task, job_id: str) -> None:
        run_job(self, runtime, job_id, fan_out_notifications)


def create_worker_celery(settings: Settings) -> Celery:
    celery = create_celery(settings)
    register_tasks(celery, WorkerRuntime(settings))
    return celery
