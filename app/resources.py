"""The process's long-lived resources, opened once by the app's lifespan and closed on shutdown.

This is the composition root: it builds the clients from settings and wires them into the services the
routes use. Nothing else creates clients.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from redis.asyncio import Redis

from app.core.config import Settings
from app.core.mongo import MongoDocument, MongoPoolStats, create_mongo_client
from app.core.redis import create_redis_client
from app.core.security import JwtKeyring
from app.indexes import IndexConflictError, ensure_indexes
from app.jobs.celery_app import create_celery
from app.jobs.queue import JobQueue
from app.jobs.records import JOBS_COLLECTION
from app.services.cache import CacheService
from app.services.circuit_breaker import CircuitBreaker
from app.services.posts import PostService
from app.services.rate_limit import RateLimiter
from app.services.readiness import ReadinessProbe
from app.services.storage import StorageService, create_cdn_signer, create_s3_client

logger = logging.getLogger(__name__)

# Startup index creation keeps trying while MongoDB is unreachable (a fresh environment may boot the app
# before the database accepts connections), but not forever.
STARTUP_INDEX_ATTEMPTS = 10
STARTUP_INDEX_RETRY_SECONDS = 3.0


@dataclass(frozen=True)
class Resources:
    settings: Settings
    mongo: AsyncMongoClient[MongoDocument]
    db: AsyncDatabase[MongoDocument]
    mongo_pool: MongoPoolStats
    redis: Redis | None
    cache: CacheService
    storage: StorageService
    posts: PostService
    readiness: ReadinessProbe
    rate_limiter: RateLimiter
    jwt_keyring: JwtKeyring
    jobs: JobQueue
    started_at: float  # time.monotonic() at startup

    def uptime_seconds(self) -> float:
        return round(time.monotonic() - self.started_at, 3)


@contextlib.asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    mongo_pool = MongoPoolStats()
    mongo = create_mongo_client(settings, mongo_pool)
    # CACHE_ENABLED=false runs without Redis at all: every read goes to MongoDB.
    redis = create_redis_client(settings) if settings.cache_enabled else None
    db = mongo.get_database(settings.mongo_database)
    cache = CacheService(
        redis,
        prefix=settings.cache_prefix,
        default_ttl_seconds=settings.cache_default_ttl_seconds,
        breaker=CircuitBreaker(
            cooldown_seconds=settings.cache_breaker_cooldown_seconds,
            window_seconds=settings.cache_breaker_window_seconds,
            min_calls=settings.cache_breaker_min_calls,
            failure_rate=settings.cache_breaker_failure_rate,
        ),
        max_concurrency=settings.redis_max_connections,
        pool_wait_seconds=settings.redis_pool_wait_seconds,
    )
    resources = Resources(
        settings=settings,
        mongo=mongo,
        db=db,
        mongo_pool=mongo_pool,
        redis=redis,
        cache=cache,
        storage=StorageService(
            create_s3_client(settings),
            bucket=settings.s3_bucket,
            cdn_domain=settings.cdn_domain,
            upload_expires_seconds=settings.upload_url_expires_seconds,
            download_expires_seconds=settings.download_url_expires_seconds,
            cdn_signer=create_cdn_signer(settings),
        ),
        posts=PostService(
            db,
            cache,
            cache_ttl_seconds=settings.posts_cache_ttl_seconds,
            query_timeout_seconds=settings.mongo_query_timeout_seconds,
        ),
        readiness=ReadinessProbe(
            mongo,
            redis,
            timeout_seconds=settings.readiness_timeout_seconds,
            cache_seconds=settings.readiness_cache_seconds,
            failure_threshold=settings.readiness_failure_threshold,
        ),
        # Shares the cache's Redis client (its pool, TLS, AUTH and timeouts) with a breaker of its own: rate limits
        # failing open must not be decided by cache traffic, nor the cache's breaker by rate-limit checks.
        rate_limiter=RateLimiter.from_settings(
            redis,
            settings,
            CircuitBreaker(
                cooldown_seconds=settings.cache_breaker_cooldown_seconds,
                window_seconds=settings.cache_breaker_window_seconds,
                min_calls=settings.cache_breaker_min_calls,
                failure_rate=settings.cache_breaker_failure_rate,
            ),
        ),
        jwt_keyring=JwtKeyring(
            settings.jwt_keys, current_kid=settings.jwt_current_kid, algorithm=settings.jwt_algorithm
        ),
        # Publishes only (the worker is another process): connects to the broker on the first enqueue.
        jobs=JobQueue(create_celery(settings), db[JOBS_COLLECTION]),
        started_at=time.monotonic(),
    )
    # In the background: a worker serves /api/health and /live at once, even while MongoDB is still away.
    index_task = asyncio.create_task(create_indexes_at_startup(db)) if settings.create_indexes_on_startup else None
    try:
        yield resources
    finally:
        if index_task is not None:
            index_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await index_task
        resources.jobs.close()
        if redis is not None:
            await redis.aclose()
        await mongo.close()


async def create_indexes_at_startup(
    db: AsyncDatabase[MongoDocument],
    *,
    attempts: int = STARTUP_INDEX_ATTEMPTS,
    retry_seconds: float = STARTUP_INDEX_RETRY_SECONDS,
) -> bool:
    """Ensure the indexes, retrying while MongoDB is unreachable. Failure is logged, never fatal: the
    service works without an index, only slower, and `python -m app.indexes` can be run by hand."""
    for attempt in range(1, attempts + 1):
        try:
            ensured = await ensure_indexes(db)
        except IndexConflictError as exc:
            logger.error("index conflict; leaving indexes as they are", extra={"detail": str(exc)})
            return False
        except PyMongoError as exc:
            logger.warning(
                "index creation failed; will retry",
                extra={"attempt": attempt, "attempts": attempts, "error": type(exc).__name__},
            )
            await asyncio.sleep(retry_seconds)
            continue
        logger.info("indexes ensured", extra={"count": sum(len(names) for names in ensured.values())})
        return True
    logger.error("giving up on index creation at startup; run `python -m app.indexes`")
    return False
