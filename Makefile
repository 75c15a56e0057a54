# AlertSync: `make demo` and `make test` do all set-up on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install lint fmt test test-unit test-e2e demo sandbox bench chaos failover crds docs chart clean

help: ## list the targets
	@grep -E '^[A-Za-z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install AlertSync with its test and sandbox tools

lint: $(STAMP) ## ruff (lint + format check), mypy --strict and the import contracts
	$(BIN)/ruff check operator tests tools
	$(BIN)/ruff format --check operator tests tools
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix operator tests tools
	$(BIN)/ruff format operator tests tools

test: lint ## lint, then every test: unit, simulators, emulator, end to end, manifests
	$(BIN)/pytest -n 2

test-unit: $(STAMP) ## the fast tests only (no operator process)
	$(BIN)/pytest -m "not e2e"

test-e2e: $(STAMP) ## the operator against the Kubernetes emulator and the simulators
	$(BIN)/pytest -n 2 -m e2e

demo: $(STAMP) ## run the operator against the embedded sandbox and show it working
	$(BIN)/python -m alertsim.demo

sandbox: $(STAMP) ## serve the emulator and the five simulators for deploy/samples/ until Ctrl-C
	$(BIN)/python -m alertsim sandbox

N ?= 1000
bench: $(STAMP) ## batched vs per-object observation, N integrations (N=10000 on request)
	$(BIN)/python -m alertsim.bench --n $(N)

# Each platform's own N (1000, 300, 50) unless N is given, e.g.
# `N=10000 MODES=batched make bench-budget PLATFORM=grafana-oncall`.
.PHONY: bench-budget
bench-budget: $(STAMP) ## N integrations at once under each platform's rate limit, against the floor
	$(BIN)/python -m alertsim.bench_budget $(if $(filter-out file,$(origin N)),--n $(N)) \
		$(if $(PLATFORM),--platforms $(PLATFORM)) $(if $(MODES),--modes $(MODES))

CHAOS_N ?= 200
SEED ?= 7
chaos: $(STAMP) ## soak: CHAOS_N integrations, five platforms, seeded faults, then the invariants
	$(BIN)/python -m alertsim.chaos --n $(CHAOS_N) --seed $(SEED)

FAILOVER_N ?= 100
FAILOVER_LIFETIME ?= 60
failover: $(STAMP) ## peered replicas killed, stopped, paused mid-work: FAILOVER_N integrations, 60 s lifetime
	FAILOVER_N=$(FAILOVER_N) FAILOVER_LIFETIME=$(FAILOVER_LIFETIME) $(BIN)/pytest -q tests/e2e/test_failover.py

crds: $(STAMP) ## write crds/ from the models and copy them into the chart (tests fail when stale)
	$(BIN)/python -m tools.crds
	rm -f charts/alertsync/crds/alertsync.dev_*.yaml && cp crds/*.yaml charts/alertsync/crds/

docs: $(STAMP) ## write docs/crd-reference.md and the tables of docs/platforms/README.md (tests fail when stale)
	$(BIN)/python -m tests.support.crd_reference
	$(BIN)/python -m tests.support.platform_index

chart: $(STAMP) ## lint and render the chart, build deploy/ with kustomize, validate everything
	$(BIN)/pytest -q tests/manifests

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .sandbox
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
