"""Pure functions of the data tier: Atlas regions and sizes, connection URLs, bucket policies, cache engine."""
