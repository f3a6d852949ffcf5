"""Every route of the API, under /api.

The route modules' routers are included in the app directly with the /api prefix, not through an /api router
of their own: FastAPI keeps included routers as a tree that every request walks, and one level less was
measurable on /api/health, the route the load balancer calls most (bench: python -m bench.compare --modes
ceiling).
"""

from fastapi import APIRouter, FastAPI

from app.api.routes import health, jobs, posts, uploads

API_PREFIX = "/api"
ROUTERS: tuple[APIRouter, ...] = (health.router, posts.router, uploads.router, jobs.router)


def include_api(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
