"""What the load scenario requests, kept apart from locust so that the orchestrator (bench.compare) can use it
without importing locust, which patches the standard library for gevent when imported."""

HEALTH = "/api/health"
READY = "/api/health/ready"
POSTS = "/api/posts (cached read)"
ENDPOINTS = (HEALTH, READY, POSTS)

# The bench seeds posts for users bench-user-0 ... bench-user-(N-1); against a deployed environment, point
# BENCH_USER_PREFIX and BENCH_USER_COUNT at users that exist there.
DEFAULT_USER_PREFIX = "bench-user-"
DEFAULT_USER_COUNT = 200
POSTS_PAGES = 2

# Think time between one user's requests, in seconds: a person, or a page, not a tight loop.
THINK_TIME_SECONDS = (0.5, 1.5)
