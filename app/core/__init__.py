"""Cross-cutting pieces: settings, logging, clients, middleware, security."""
