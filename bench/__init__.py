"""Load testing: the locust scenario (bench.locustfile), its headless runner with a JSON report (bench.load)
and the side-by-side run of the seed's setup against the new one (bench.compare)."""
