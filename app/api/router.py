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
    # The load balancer's check goes on the app itself: walking an included router was 10 us of the app's
    # 132 us of CPU per /api/health request (python -m bench.ceiling_cpu).
    health.add_load_balancer_check(app, API_PREFIX)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
