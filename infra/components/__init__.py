"""One `pulumi.ComponentResource` per concern; each takes typed, frozen args and never reads config."""
