"""The project's policy rules, one implementation with two entry points: `python -m infra.cli check` over an
offline plan, and the Pulumi policy pack in policy/ under `pulumi preview --policy-pack policy`.

Each rule is a pure function over one resource (type, name, camelCase inputs, protect), or over one resource
and the stack where a property spans resources; `registry.RULES` lists them with their enforcement and the
Checkov and Trivy checks they correspond to.
"""
