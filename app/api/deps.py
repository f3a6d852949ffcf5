"""Dependencies of the routes, as `Annotated` aliases. Tests replace them with app.dependency_overrides.

Every dependency is `async def`: FastAPI runs plain `def` dependencies in a thread pool, a needless thread hop
per request for what is an attribute lookup.
"""

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.config import Settings
from app.core.security import AuthenticatedUser, InvalidTokenError, JwtKeyring, authenticate
from app.jobs.queue import JobQueue
from app.resources import Resources
from app.services.cache import CacheService
from app.services.posts import PostService
from app.services.rate_limit import RateLimiter
from app.services.readiness import ReadinessProbe
from app.services.storage import StorageService

logger = logging.getLogger(__name__)


async def get_resources(request: Request) -> Resources:
    # Put there by the lifespan (lifespan state), one per process.
    return request.state.resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_cache(resources: ResourcesDep) -> CacheService:
    return resources.cache


async def get_post_service(resources: ResourcesDep) -> PostService:
    return resources.posts


async def get_storage(resources: ResourcesDep) -> StorageService:
    return resources.storage


async def get_readiness(resources: ResourcesDep) -> ReadinessProbe:
    return resources.readiness


async def get_rate_limiter(resources: ResourcesDep) -> RateLimiter:
    return resources.rate_limiter


async def get_jwt_keyring(resources: ResourcesDep) -> JwtKeyring:
    return resources.jwt_keyring


async def get_job_queue(resources: ResourcesDep) -> JobQueue:
    return resources.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[CacheService, Depends(get_cache)]
PostServiceDep = Annotated[PostService, Depends(get_post_service)]
StorageDep = Annotated[StorageService, Depends(get_storage)]
ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness)]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
JwtKeyringDep = Annotated[JwtKeyring, Depends(get_jwt_keyring)]
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A JWT issued by Contentry's auth, naming its key in its header (kid); signed with one of JWT_KEYS.",
)


async def get_current_user(
    keyring: JwtKeyringDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AuthenticatedUser:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A bearer token is required.", headers=challenge)
    try:
        return authenticate(credentials.credentials, keyring)
    except InvalidTokenError as exc:
        logger.info("bearer token rejected", extra={"reason": str(exc)})
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "The bearer token is invalid or expired.", headers=challenge
        ) from exc


CurrentUserDep = Annotated[AuthenticatedUser, Depends(get_current_user)]
