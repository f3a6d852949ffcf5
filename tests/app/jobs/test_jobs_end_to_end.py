"""Upload processing and notification fan-out, end to end: the API enqueues, a real worker process
(`python -m app.jobs.worker`) runs the job against real Redis, MongoDB and moto's S3 server, and the owner
follows the job through GET /api/jobs/{id}."""

import hashlib
import io
from typing import Any

import httpx
import pytest
from PIL import Image
from pymongo.database import Database

from app.core.config import RateLimit, Settings
from app.jobs.celery_app import FAN_OUT_NOTIFICATIONS, QUEUE
from app.jobs.notifications import notification_id
from app.main import create_app
from app.services.storage import upload_id
from tests.app.jobs.conftest import JobsStack
from tests.app.jobs.support import (
    JOB_GUARD_SECONDS,
    PDF_BYTES,
    celery_for,
    finished,
    job_when,
    new_upload_key,
    png_bytes,
    poll,
    s3_client,
)
from tests.app.support import TEST_BUCKET, ServerProcess, bearer_token, serve

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def put_upload(stack: JobsStack, key: str, body: bytes, content_type: str) -> None:
    s3_client(stack.s3_endpoint).put_object(Bucket=TEST_BUCKET, Key=key, Body=body, ContentType=content_type)


def object_bytes(stack: JobsStack, key: str) -> bytes | None:
    s3 = s3_client(stack.s3_endpoint)
    try:
        return s3.get_object(Bucket=TEST_BUCKET, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


async def complete(client: httpx.AsyncClient, key: str, user: str) -> dict[str, Any]:
    response = await client.post(f"/api/uploads/{upload_id(key)}/complete", headers=bearer_token(user))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status_url"] == f"/api/jobs/{body['job']['id']}"
    assert body["job"]["status"] == "queued"
    return body["job"]


async def test_an_image_is_checked_hashed_and_thumbnailed_and_its_owner_notified(
    jobs_client: httpx.AsyncClient, jobs_stack: JobsStack, jobs_db: Database[dict[str, Any]]
) -> None:
    user = "uploader-1"
    key = new_upload_key(user)
    data = png_bytes(800, 600)
    put_upload(jobs_stack, key, data, "image/png")

    job = await complete(jobs_client, key, user)
    done = await job_when(jobs_client, job["id"], bearer_token(user), finished)

    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1
    result = done["result"]
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["size_bytes"] == len(data)
    assert (result["declared_type"], result["detected_type"], result["quarantined"]) == (
        "image/png",
        "image/png",
        False,
    )
    thumbnail = object_bytes(jobs_stack, result["thumbnail_key"])
    assert thumbnail is not None, "the thumbnail was not written"
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 320
        assert image.size == (320, 240)
    assert object_bytes(jobs_stack, key) == data, "a clean upload stays where it is"

    # The owner has no enterprise: the fan-out notifies the owner alone.
    notify = await job_when(jobs_client, result["notification_job_id"], bearer_token(user), finished)
    assert notify["status"] == "succeeded", notify
    notifications = list(jobs_db["notifications"].find({"job_id": notify["id"]}))
    assert [(n["user_id"], n["kind"], n["payload"]["key"]) for n in notifications] == [(user, "upload.processed", key)]


async def test_a_file_whose_bytes_are_not_its_declared_type_is_quarantined(
    jobs_client: httpx.AsyncClient, jobs_stack: JobsStack, jobs_db: Database[dict[str, Any]]
) -> None:
    user = "uploader-2"
    key = new_upload_key(user, "cat.png")
    put_upload(jobs_stack, key, PDF_BYTES, "image/png")  # a PDF that claims to be a PNG

    job = await complete(jobs_client, key, user)
    done = await job_when(jobs_client, job["id"], bearer_token(user), finished)

    assert done["status"] == "succeeded", done
    result = done["result"]
    assert result["quarantined"] is True
    assert result["reason"] == "content_type_mismatch"
    assert (result["declared_type"], result["detected_type"]) == ("image/png", "application/pdf")
    assert result["quarantine_key"] == f"quarantine/{key}"
    assert "thumbnail_key" not in result
    assert object_bytes(jobs_stack, key) is None, "the mismatched file is still in place"
    assert object_bytes(jobs_stack, result["quarantine_key"]) == PDF_BYTES
    notify = await job_when(jobs_client, result["notification_job_id"], bearer_token(user), finished)
    kinds = [n["kind"] for n in jobs_db["notifications"].find({"job_id": notify["id"]})]
    assert kinds == ["upload.quarantined"]


async def test_a_failed_attempt_is_retried_with_backoff_until_it_succeeds(
    jobs_client: httpx.AsyncClient, jobs_stack: JobsStack
) -> None:
    user = "uploader-3"
    key = new_upload_key(user)
    job = await complete(jobs_client, key, user)  # called before the file is there

    waiting = await job_when(jobs_client, job["id"], bearer_token(user), lambda j: j["attempts"] >= 1 and j["error"])
    assert waiting["status"] in ("queued", "running"), waiting
    assert "does not exist" in waiting["error"]
    put_upload(jobs_stack, key, png_bytes(64, 64), "image/png")

    done = await job_when(jobs_client, job["id"], bearer_token(user), finished)
    assert done["status"] == "succeeded", done
    assert done["attempts"] >= 2
    assert done["error"] is None


async def test_after_the_last_attempt_the_failure_is_recorded(
    jobs_client: httpx.AsyncClient, jobs_settings: Settings
) -> None:
    user = "uploader-4"
    job = await complete(jobs_client, new_upload_key(user), user)  # never uploaded

    done = await job_when(jobs_client, job["id"], bearer_token(user), finished)

    assert done["status"] == "failed", done
    assert done["attempts"] == jobs_settings.job_max_attempts
    assert "does not exist" in done["error"]
    assert done["finished_at"] is not None


async def worker_logged(stack: JobsStack, message: str, job_id: str) -> None:
    """Wait for the worker's JSON log line `message` about `job_id`: proof that it handled that delivery."""

    async def logged() -> bool:
        for line in stack.worker_log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"job_id": "{job_id}"' in line and f'"message": "{message}"' in line:
                return True
        return False

    await poll(logged, what=f"the worker logging {message!r} for {job_id}", guard_seconds=JOB_GUARD_SECONDS)


async def test_fan_out_writes_in_batches_and_a_re_run_inserts_no_duplicate(
    jobs_client: httpx.AsyncClient,
    jobs_stack: JobsStack,
    jobs_db: Database[dict[str, Any]],
    jobs_settings: Settings,
) -> None:
    owner = "member-owner"
    members = [owner, *(f"member-{n}" for n in range(7))]
    jobs_db["users"].insert_many([{"_id": member, "enterprise_id": "ent-42"} for member in members])
    jobs_db["users"].insert_one({"_id": "outsider", "enterprise_id": "ent-other"})
    key = new_upload_key(owner)
    put_upload(jobs_stack, key, png_bytes(40, 40), "image/png")

    job = await complete(jobs_client, key, owner)
    done = await job_when(jobs_client, job["id"], bearer_token(owner), finished)
    fan_out_id = done["result"]["notification_job_id"]
    notify = await job_when(jobs_client, fan_out_id, bearer_token(owner), finished)

    assert notify["status"] == "succeeded", notify
    # 8 recipients in batches of NOTIFICATION_BATCH_SIZE=3: 3 + 3 + 2.
    assert notify["result"] == {"recipients": 8, "batches": 3, "inserted": 8}
    written = list(jobs_db["notifications"].find({"job_id": fan_out_id}))
    assert sorted(n["user_id"] for n in written) == sorted(members)
    assert {n["_id"] for n in written} == {notification_id(fan_out_id, member) for member in members}

    # A redelivered message of the finished job does nothing (the job id is the idempotency key).
    celery = celery_for(jobs_settings)
    celery.send_task(FAN_OUT_NOTIFICATIONS, args=[fan_out_id], task_id=fan_out_id, queue=QUEUE, ignore_result=True)
    await worker_logged(jobs_stack, "job already finished; nothing to do", fan_out_id)
    again = await job_when(jobs_client, fan_out_id, bearer_token(owner), finished)
    assert again["attempts"] == 1
    assert again["result"] == notify["result"]
    assert jobs_db["notifications"].count_documents({"job_id": fan_out_id}) == 8

    # A run cut short after some batches (its worker died): the re-run inserts only what is missing.
    jobs_db["notifications"].delete_many({"_id": {"$in": [notification_id(fan_out_id, m) for m in members[:3]]}})
    jobs_db["jobs"].update_one({"_id": fan_out_id}, {"$set": {"status": "running"}})
    celery.send_task(FAN_OUT_NOTIFICATIONS, args=[fan_out_id], task_id=fan_out_id, queue=QUEUE, ignore_result=True)
    rerun = await job_when(jobs_client, fan_out_id, bearer_token(owner), lambda j: j["attempts"] == 2 and finished(j))
    celery.close()
    assert rerun["status"] == "succeeded"
    assert rerun["result"] == {"recipients": 8, "batches": 3, "inserted": 3}
    assert jobs_db["notifications"].count_documents({"job_id": fan_out_id}) == 8


async def test_a_job_is_visible_to_its_owner_only(jobs_client: httpx.AsyncClient, jobs_stack: JobsStack) -> None:
    owner, other = "owner-5", "other-5"
    key = new_upload_key(owner)
    put_upload(jobs_stack, key, png_bytes(20, 20), "image/png")
    job = await complete(jobs_client, key, owner)

    mine = await jobs_client.get(f"/api/jobs/{job['id']}", headers=bearer_token(owner))
    theirs = await jobs_client.get(f"/api/jobs/{job['id']}", headers=bearer_token(other))
    missing = await jobs_client.get(f"/api/jobs/{'0' * 32}", headers=bearer_token(other))
    anonymous = await jobs_client.get(f"/api/jobs/{job['id']}")

    assert mine.status_code == 200
    assert mine.json()["id"] == job["id"]
    assert "params" not in mine.json()
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()) == (404, missing.json())
    assert anonymous.status_code == 401
    # Completing another user's upload is answered as if there were no such upload.
    stolen = await jobs_client.post(f"/api/uploads/{upload_id(key)}/complete", headers=bearer_token(other))
    forged = await jobs_client.post("/api/uploads/not-an-upload/complete", headers=bearer_token(other))
    assert stolen.status_code == forged.status_code == 404
    assert stolen.json() == forged.json()


async def test_completing_uploads_counts_against_the_upload_rate_limit(
    jobs_stack: JobsStack, mongo_server: ServerProcess, redis_server: ServerProcess, aws_credentials: None
) -> None:
    user = "rate-limited-uploader"
    settings = jobs_stack.settings(
        mongo_server.port,
        redis_server.port,
        rate_limit_enabled=True,
        rate_limit_uploads_per_user=RateLimit(requests=1, period_seconds=3_600),
    )
    async with serve(create_app(settings)) as client:
        first = await client.post(
            f"/api/uploads/{upload_id(new_upload_key(user))}/complete", headers=bearer_token(user)
        )
        second = await client.post(
            f"/api/uploads/{upload_id(new_upload_key(user))}/complete", headers=bearer_token(user)
        )
    assert first.status_code == 202
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > 0
