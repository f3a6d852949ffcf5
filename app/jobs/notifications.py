"""Notification fan-out: one notification per recipient in the `notifications` collection, written in batches.

Recipients are a list of user ids, or every member of an enterprise (users with its `enterprise_id`, read in
`_id` order one batch at a time, served by the users' enterprise_id index). Each batch is one
`insert_many(ordered=False)`; a notification's `_id` is derived from the job id and the recipient, so a job that
runs again (a retry after a partial failure, a redelivery) inserts only what is missing: the duplicates are
refused by the `_id` index and ignored, every other write error is raised.
"""

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from pymongo.database import Database
from pymongo.errors import BulkWriteError

NOTIFICATIONS_COLLECTION = "notifications"
DUPLICATE_KEY = 11000
MAX_RECIPIENT_IDS = 10_000  # an explicit list travels in the job's document and message: keep both small


def notification_id(job_id: str, recipient: str) -> str:
    return uuid.uuid5(uuid.UUID(hex=job_id), recipient).hex


def batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def enterprise_members(db: Database[dict[str, Any]], enterprise_id: str, batch_size: int) -> Iterator[str]:
    """User ids of an enterprise, streamed in _id order with a cursor batch of the fan-out's size."""
    cursor = db["users"].find({"enterprise_id": enterprise_id}, {"_id": 1}).sort("_id", 1).batch_size(batch_size)
    for user in cursor:
        yield str(user["_id"])


def insert_batch(db: Database[dict[str, Any]], documents: list[dict[str, Any]]) -> int:
    """Insert what is not there yet; returns how many were new."""
    try:
        return len(db[NOTIFICATIONS_COLLECTION].insert_many(documents, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return int(exc.details.get("nInserted", 0))


def fan_out(
    db: Database[dict[str, Any]],
    *,
    job_id: str,
    recipients: Iterable[str],
    kind: str,
    payload: dict[str, Any],
    batch_size: int,
    now: datetime,
) -> dict[str, int]:
    """Write the notifications; returns recipients, batches and newly inserted counts."""
    counts = {"recipients": 0, "batches": 0, "inserted": 0}
    for batch in batched(recipients, batch_size):
        documents = [
            {
                "_id": notification_id(job_id, recipient),
                "user_id": recipient,
                "kind": kind,
                "payload": payload,
                "read": False,
                "created_at": now,
                "job_id": job_id,
            }
            for recipient in batch
        ]
        counts["inserted"] += insert_batch(db, documents)
        counts["recipients"] += len(batch)
        counts["batches"] += 1
    return counts
