"""What the benchmark serves and with which data: the setups' commands and environments, and the seed.

Every setup listens on 127.0.0.1 only. The gunicorn setups run the same command as production
(`gunicorn -c app/gunicorn.conf.py <app>`) with two workers, so the ceiling apps get exactly the app's server
configuration.
"""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient

from bench.processes import REPO_ROOT
from bench.scenario import DEFAULT_USER_PREFIX

POSTS_PER_USER = 30
WORKERS = "2"

SetupCommand = Callable[[int], tuple[list[str], dict[str, str]]]


def seed(mongo_url: str, database: str, users: int) -> None:
    """Posts for bench-user-0..N-1, and the indexes, through the same CLI a deployment uses."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        posts = client[database].posts
        posts.delete_many({})
        now = datetime.now(UTC)
        for user in range(users):
            posts.insert_many(
                [
                    {
                        "user_id": f"{DEFAULT_USER_PREFIX}{user}",
                        "enterprise_id": f"enterprise-{user % 10}",
                        "content": f"Post {index} of user {user}: " + "lorem ipsum " * 10,
                        "status": "published",
                        "created_at": now - timedelta(hours=index),
                    }
                    for index in range(POSTS_PER_USER)
                ]
            )
    finally:
        client.close()
    env = {**os.environ, "MONGO_URL": mongo_url}
    subprocess.run([sys.executable, "-m", "app.indexes"], cwd=REPO_ROOT, env=env, check=True, timeout=120)


def app_env(mongo_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(
        {
            "APP_ENV": "production",
            "MONGO_URL": mongo_url,
            "REDIS_URL": redis_url,
            # Fresh random secrets: production mode refuses placeholders, and these are never written anywhere.
            "JWT_KEYS": json.dumps({"bench": secrets.token_urlsafe(48)}),
            "JWT_CURRENT_KID": "bench",
            "HEALTH_DETAILED_TOKEN": secrets.token_urlsafe(48),
            "S3_BUCKET": "contentry-bench",
            "AWS_REGION": "us-east-1",
            "CDN_DOMAIN": "",
            "CREATE_INDEXES_ON_STARTUP": "false",
        }
    )
    env.update(extra)
    return env


def setup_command(label: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and extra environment of each setup, listening on 127.0.0.1:port."""
    if label == "before":
        command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
        return [*command, "--workers", "1"], {"READINESS_CACHE_SECONDS": "0", "CACHE_ENABLED": "false"}
    command = [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", "app.main:app"]
    return command, {"GUNICORN_WORKERS": "2", "GUNICORN_BIND": f"127.0.0.1:{port}"}


def _gunicorn(app: str) -> SetupCommand:
    def command(port: int) -> tuple[list[str], dict[str, str]]:
        argv = [sys.executable, "-m", "gunicorn", "-c", "app/gunicorn.conf.py", app]
        return argv, {"GUNICORN_WORKERS": WORKERS, "GUNICORN_BIND": f"127.0.0.1:{port}"}

    return command


def _before(port: int) -> tuple[list[str], dict[str, str]]:
    argv = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    return [*argv, "--workers", "1"], {"READINESS_CACHE_SECONDS": "0", "CACHE_ENABLED": "false"}


SETUPS: dict[str, SetupCommand] = {
    "before": _before,
    "after": _gunicorn("app.main:app"),
    "raw_asgi": _gunicorn("bench.ceiling_apps:raw_asgi"),
    "one_route_fastapi": _gunicorn("bench.ceiling_apps:one_route_fastapi"),
}
