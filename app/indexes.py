"""The seed's MongoDB indexes, created idempotently.

Run once per deployment with `python -m app.indexes` (reads MONGO_URL), and, unless
CREATE_INDEXES_ON_STARTUP=false, by every worker at startup. Many workers on many instances can run it at the
same moment: createIndexes with an identical specification is a no-op, a concurrent build of the same index
is waited for and retried, and an index that already exists under another name (created by hand or by the
seed's script) is accepted, since it serves the same queries.
"""

import argparse
import asyncio
import json
import logging
import sys
from collections import defaultdict
from dataclasses import dataclass

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from app.core.config import Settings
from app.core.logging import configure_logging
from app.core.mongo import MongoDocument, MongoPoolStats, create_mongo_client

logger = logging.getLogger(__name__)

# MongoDB error codes that decide what a failed createIndexes means.
INDEX_OPTIONS_CONFLICT = 85  # same keys, another name or options: the index exists, keep it
INDEX_KEY_SPECS_CONFLICT = 86  # same name, other keys: a real conflict a person must resolve
INDEX_BUILD_ABORTED = 276  # the build was aborted (a concurrent drop, a step-down): retry
INDEX_BUILD_ALREADY_IN_PROGRESS = 285  # another worker is building it right now: wait and retry
INTERRUPTED_DUE_TO_REPL_STATE_CHANGE = 11602  # primary stepped down mid-build: retry
RETRYABLE_CODES = frozenset(
    {INDEX_BUILD_ABORTED, INDEX_BUILD_ALREADY_IN_PROGRESS, INTERRUPTED_DUE_TO_REPL_STATE_CHANGE}
)


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False

    @property
    def name(self) -> str:
        """MongoDB's default name for these keys, e.g. user_id_1_created_at_-1."""
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)

    def model(self) -> IndexModel:
        return IndexModel(list(self.keys), name=self.name, unique=self.unique)


def _spec(collection: str, *keys: tuple[str, int], unique: bool = False) -> IndexSpec:
    return IndexSpec(collection, tuple(keys), unique)


# The seed's list. created_at is descending wherever it follows another key: every listing is newest first.
INDEXES: tuple[IndexSpec, ...] = (
    _spec("users", ("email", ASCENDING), unique=True),
    _spec("users", ("enterprise_id", ASCENDING)),
    _spec("users", ("created_at", DESCENDING)),
    _spec("posts", ("user_id", ASCENDING), ("created_at", DESCENDING)),
    _spec("posts", ("enterprise_id", ASCENDING), ("created_at", DESCENDING)),
    _spec("posts", ("status", ASCENDING)),
    _spec("posts", ("scheduled_time", ASCENDING)),
    _spec("credit_transactions", ("user_id", ASCENDING), ("created_at", DESCENDING)),
    _spec("credit_transactions", ("action", ASCENDING), ("created_at", DESCENDING)),
    _spec("content_analyses", ("user_id", ASCENDING), ("created_at", DESCENDING)),
    _spec("content_analyses", ("enterprise_id", ASCENDING)),
    _spec("user_credits", ("user_id", ASCENDING), unique=True),
    _spec("user_credits", ("plan", ASCENDING)),
    _spec("notifications", ("user_id", ASCENDING), ("read", ASCENDING), ("created_at", DESCENDING)),
    _spec("jobs", ("status", ASCENDING), ("created_at", DESCENDING)),
    _spec("jobs", ("user_id", ASCENDING), ("status", ASCENDING)),
)


class IndexConflictError(RuntimeError):
    """An existing index has one of our names but other keys: dropping it is a decision for a person."""


async def ensure_indexes(
    db: AsyncDatabase[MongoDocument],
    specs: tuple[IndexSpec, ...] = INDEXES,
    *,
    attempts: int = 5,
    retry_delay_seconds: float = 0.5,
) -> dict[str, list[str]]:
    """Create every index in `specs` that does not exist yet. Returns the index names per collection."""
    by_collection: dict[str, list[IndexSpec]] = defaultdict(list)
    for spec in specs:
        by_collection[spec.collection].append(spec)
    ensured: dict[str, list[str]] = {}
    for collection, collection_specs in by_collection.items():
        ensured[collection] = []
        for spec in collection_specs:
            await _ensure_one(db, spec, attempts=attempts, retry_delay_seconds=retry_delay_seconds)
            ensured[collection].append(spec.name)
    return ensured


async def _ensure_one(
    db: AsyncDatabase[MongoDocument], spec: IndexSpec, *, attempts: int, retry_delay_seconds: float
) -> None:
    # One index per createIndexes call, so that one index that already exists under another name does not
    # stop the others in the same collection from being created.
    for attempt in range(1, attempts + 1):
        try:
            await db[spec.collection].create_indexes([spec.model()])
            return
        except OperationFailure as exc:
            if exc.code == INDEX_OPTIONS_CONFLICT:
                logger.info(
                    "index exists under another name; keeping it",
                    extra={"collection": spec.collection, "index": spec.name},
                )
                return
            if exc.code == INDEX_KEY_SPECS_CONFLICT:
                raise IndexConflictError(
                    f"{spec.collection}.{spec.name} exists with other keys or options; drop or rename it"
                ) from exc
            if exc.code not in RETRYABLE_CODES or attempt == attempts:
                raise
        # An unreachable MongoDB (AutoReconnect) is not retried here: the caller decides how long to wait.
        await asyncio.sleep(retry_delay_seconds * attempt)


async def _run(settings: Settings, timeout_seconds: float) -> dict[str, list[str]]:
    client = create_mongo_client(settings, MongoPoolStats())
    try:
        async with asyncio.timeout(timeout_seconds):
            return await ensure_indexes(client.get_database(settings.mongo_database))
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.indexes", description="Create the service's MongoDB indexes (idempotent)."
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        ensured = asyncio.run(_run(settings, args.timeout))
    except (IndexConflictError, PyMongoError, TimeoutError) as exc:
        logger.error("index creation failed", extra={"error": type(exc).__name__, "detail": str(exc)})
        return 1
    total = sum(len(names) for names in ensured.values())
    logger.info("indexes ensured", extra={"database": settings.mongo_database, "count": total})
    print(json.dumps({"database": settings.mongo_database, "indexes": ensured}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
