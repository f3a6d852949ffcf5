"""The load scenario: a user who keeps one keep-alive connection and, between short pauses, hits the three
endpoints the benchmark's goal is about. Usable with the locust CLI too:

    locust -f bench/locustfile.py --headless --host http://127.0.0.1:8000 -u 1000 -r 100 -t 2m
"""

import os
import random
from typing import ClassVar

from locust import FastHttpUser, between, task

from bench.scenario import (
    CACHED_READ,
    COLD_PAGE_SIZES,
    DATABASE_READ,
    DEFAULT_USER_COUNT,
    DEFAULT_USER_PREFIX,
    HEALTH,
    HOT_USERS,
    MODEL_CLASSES,
    POSTS,
    POSTS_PAGES,
    READY,
    THINK_TIME_SECONDS,
    UPLOAD_PRESIGN,
    WRITE,
)


class ApiUser(FastHttpUser):
    wait_time = between(*THINK_TIME_SECONDS)
    connection_timeout = 5.0
    network_timeout = 10.0

    user_prefix: ClassVar[str] = os.environ.get("BENCH_USER_PREFIX", DEFAULT_USER_PREFIX)
    user_count: ClassVar[int] = int(os.environ.get("BENCH_USER_COUNT", DEFAULT_USER_COUNT))
    pages: ClassVar[int] = POSTS_PAGES

    @task
    def health(self) -> None:
        self.client.get(HEALTH, name=HEALTH)

    @task
    def ready(self) -> None:
        self.client.get(READY, name=READY)

    @task
    def cached_read(self) -> None:
        user_id = f"{self.user_prefix}{random.randrange(self.user_count)}"
        page = random.randint(1, self.pages)
        self.client.get(f"/api/posts?user_id={user_id}&page={page}", name=POSTS)


class HealthUser(FastHttpUser):
    """Only the load balancer's check, /api/health: the route whose cost the ceiling comparison is about (and
    the only route the raw ASGI and one-route FastAPI apps have)."""

    wait_time = between(*THINK_TIME_SECONDS)
    connection_timeout = 5.0
    network_timeout = 10.0

    @task
    def health(self) -> None:
        self.client.get(HEALTH, name=HEALTH)


def model_mix(raw: str) -> dict[str, int]:
    """`cachedRead=600,databaseRead=220,...` (BENCH_MIX): each endpoint class of the traffic model and its weight."""
    weights: dict[str, int] = {}
    for part in (item.strip() for item in raw.split(",")):
        if not part:
            continue
        name, _, weight = part.partition("=")
        if name not in MODEL_CLASSES or not weight.isdigit():
            raise ValueError(f"BENCH_MIX: '{part}' is not <class>=<whole weight>; classes: {', '.join(MODEL_CLASSES)}")
        if int(weight):
            weights[name] = int(weight)
    if not weights:
        raise ValueError("BENCH_MIX names no class with a weight above 0")
    return weights


class ModelMixUser(FastHttpUser):
    """The traffic model's endpoint mix (BENCH_MIX, written by bench.capacity from the tier's model file): cached
    reads of a few hot users, database reads whose cache key is almost always new, writes (down the
    database-read path: the app has no write route) and presigned uploads with a bearer token (BENCH_BEARER_TOKEN).
    Each class is its own request name, so its latency, bytes and X-Cache answers are reported apart."""

    wait_time = between(*THINK_TIME_SECONDS)
    connection_timeout = 5.0
    network_timeout = 10.0
    abstract = True  # made concrete by model_mix_user(), with the weights of the run

    user_prefix: ClassVar[str] = os.environ.get("BENCH_USER_PREFIX", DEFAULT_USER_PREFIX)
    user_count: ClassVar[int] = int(os.environ.get("BENCH_USER_COUNT", DEFAULT_USER_COUNT))
    token: ClassVar[str] = os.environ.get("BENCH_BEARER_TOKEN", "")

    def cached_read(self) -> None:
        user_id = f"{self.user_prefix}{random.randrange(min(HOT_USERS, self.user_count))}"
        self.client.get(f"/api/posts?user_id={user_id}&page={random.randint(1, POSTS_PAGES)}", name=CACHED_READ)

    def _cold_read(self, name: str) -> None:
        user_id = f"{self.user_prefix}{random.randrange(self.user_count)}"
        page, size = random.randint(1, POSTS_PAGES), random.randint(*COLD_PAGE_SIZES)
        self.client.get(f"/api/posts?user_id={user_id}&page={page}&page_size={size}", name=name)

    def database_read(self) -> None:
        self._cold_read(DATABASE_READ)

    def write(self) -> None:
        self._cold_read(WRITE)

    def upload_presign(self) -> None:
        self.client.post(
            "/api/uploads",
            json={"filename": "photo.jpg", "content_type": "image/jpeg", "size_bytes": 100_000},
            headers={"Authorization": f"Bearer {self.token}"},
            name=UPLOAD_PRESIGN,
        )


_TASKS = {
    CACHED_READ: ModelMixUser.cached_read,
    DATABASE_READ: ModelMixUser.database_read,
    WRITE: ModelMixUser.write,
    UPLOAD_PRESIGN: ModelMixUser.upload_presign,
}


def model_mix_user(weights: dict[str, int]) -> type[FastHttpUser]:
    return type("ModelMix", (ModelMixUser,), {"tasks": {_TASKS[name]: weight for name, weight in weights.items()}})


USER_CLASSES: dict[str, type[FastHttpUser]] = {"mix": ApiUser, "health": HealthUser}
if os.environ.get("BENCH_MIX"):
    USER_CLASSES["model"] = model_mix_user(model_mix(os.environ["BENCH_MIX"]))
