"""Every route of the API, under /api."""

from fastapi import APIRouter

from app.api.routes import health, posts, uploads

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
api_router.include_router(posts.router)
api_router.include_router(uploads.router)
