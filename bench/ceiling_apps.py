"""The framework's ceiling, served under the same gunicorn configuration as the app
(`gunicorn -c app/gunicorn.conf.py bench.ceiling_apps:raw_asgi`, or `:one_route_fastapi`):

- raw_asgi: an ASGI callable that answers every request like /api/health, with no framework at all;
- one_route_fastapi: a FastAPI app with the one route, answering the same body and headers as the app's.

The benchmark loads /api/health on each beside the app, so the app's figure reads as a share of what uvicorn
and FastAPI themselves allow on this machine.
"""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

_BODY = b'{"status":"ok"}'
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
    (b"cache-control", b"no-store"),
]


async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


one_route_fastapi = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@one_route_fastapi.get("/api/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
