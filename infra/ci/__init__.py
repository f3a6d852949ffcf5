"""What CI runs around the program: the stacks to plan, every plan written in one go, and the pull request's
cost comment. The workflows in .github/workflows call these through `python -m infra.cli ci ...`, so the logic
is the project's own, tested code rather than shell in YAML."""
