"""The load scenario: a user who keeps one keep-alive connection and, between short pauses, hits the three
endpoints the benchmark's goal is about. Usable with the locust CLI too:

    locust -f bench/locustfile.py --headless --host http://127.0.0.1:8000 -u 1000 -r 100 -t 2m
"""

import os
import random
from typing import ClassVar

from locust import FastHttpUser, between, task

from bench.scenario import (
    DEFAULT_USER_COUNT,
    DEFAULT_USER_PREFIX,
    HEALTH,
    POSTS,
    POSTS_PAGES,
    READY,
    THINK_TIME_SECONDS,
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


USER_CLASSES: dict[str, type[FastHttpUser]] = {"mix": ApiUser, "health": HealthUser}
