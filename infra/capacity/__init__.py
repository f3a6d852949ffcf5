"""Capacity arithmetic: what a fleet of a given shape needs from the services it uses (database connections,
vCPUs). Pure, and imports nothing from the project: the config rules validate with it before any resource is
registered, and the components apply the same numbers."""
