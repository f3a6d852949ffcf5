"""Contentry's platform as code: the Pulumi program and the offline tools (plan, cost, check) around it."""
