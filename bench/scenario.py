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

# The capacity run (python -m bench.compare --modes capacity): the traffic model's endpoint classes
# (infra/capacity/traffic.py), each a request name in the report. The app has no write route yet, so a "write" is
# sent down the database-read path (a MongoDB query and a cache SET): the closest cost the app has.
CACHED_READ = "cachedRead"
DATABASE_READ = "databaseRead"
WRITE = "write"
UPLOAD_PRESIGN = "uploadPresign"
MODEL_CLASSES = (CACHED_READ, DATABASE_READ, WRITE, UPLOAD_PRESIGN)
HOT_USERS = 50
"""The cached read asks for page 1 or 2 of these users only: after the first minute every answer is a hit."""
COLD_PAGE_SIZES = (10, 30)
"""The database read varies the page size over this range, so that its cache key (user, page, size) is almost
never in the cache: with 1,000 users, 2 pages and 21 sizes there are 42,000 keys for a 30 s TTL."""
