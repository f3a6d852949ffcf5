"""Cost for finance, offline: a sourced price table, per-resource estimates of a plan, diffs and a budget guard.

`python -m infra.cli cost --stack STACK` prices the stack's offline plan; `python -m infra.cost.report --write`
regenerates docs/costs.md from the same code.
"""
