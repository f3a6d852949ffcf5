"""Pure planning logic (no resources, no Pulumi runtime): CIDR layout, names, tags. Tested without mocks."""
