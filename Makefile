# One way to set up, plan, lint and test: the same here, for a newcomer and in CI (.ci/run).
#   make plan    set up the venv, then plan the default stack offline (tree + JSON in build/) and price it
#   make test    set up the venv and the test servers' packages, then run every test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
REQUIREMENTS := requirements.txt app/requirements.txt app/requirements-test.txt bench/requirements.txt pyproject.toml

.PHONY: setup system-deps plan check lint workflows test check-generated clean cost-docs

setup: $(VENV)/.installed

$(VENV)/.installed: $(REQUIREMENTS)
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Debian's redis-server: the app's tests run against a real Redis (the MongoDB test server comes from PyPI).
system-deps:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server; }

# The cost step prices the plan just written (no second run) and fails above the stack's monthlyBudgetUsd.
plan: setup
	$(PY) -m infra.cli plan --stack $(STACK) --json build/plan-$(STACK).json
	$(PY) -m infra.cli cost --plan build/plan-$(STACK).json

# The policy rules (infra/policy; the same as the pack in policy/) over the stack's plan: exit 1 on a mandatory violation.
check: setup
	$(PY) -m infra.cli check --stack $(STACK)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/lint-imports --no-cache

# The GitHub workflows and Dependabot config, validated offline: GitHub's schemas (check-jsonschema's vendored
# copies) and zizmor's audits at its default persona, zero findings. No token, no network (tokens are unset so
# zizmor never goes online).
workflows: setup
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	env -u GH_TOKEN -u GITHUB_TOKEN -u ZIZMOR_GITHUB_TOKEN $(VENV)/bin/zizmor --offline --no-progress .github

test: setup system-deps
	$(VENV)/bin/pytest

# Regenerate the usage files (from the traffic models), the finance report (docs/costs.md) and the cost golden files
# from the code, after a change to the program, a traffic model, the price table or the measured throughput;
# tests/cost fails until they are regenerated and committed.
cost-docs: setup
	$(PY) -m infra.cost.traffic_usage --write
	$(PY) -m infra.cost.report --write
	$(PY) -m tests.cost.goldens --write

clean:
	rm -rf build .pytest_cache .ruff_cache
