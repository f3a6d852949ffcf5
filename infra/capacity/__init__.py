"""Capacity arithmetic and the provider limits behind it: what a fleet of a given shape needs from the services
it uses (database connections within Atlas's cited per-node limits, vCPUs), and how many pods a Kubernetes node
holds. Pure, and imports nothing else of the program: the config rules validate with it before any resource is
registered, and the components apply the same numbers."""
