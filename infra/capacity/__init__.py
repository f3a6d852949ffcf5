"""Capacity arithmetic and the provider limits behind it (instance shapes, Kubernetes node allocatable, Atlas
connection limits): pure functions and cited tables, below the config, which validates sizes with them."""
