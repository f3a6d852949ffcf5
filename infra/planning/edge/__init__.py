"""Pure builders of the edge concern: the web ACLs' rules and logging."""
