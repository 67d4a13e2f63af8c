# The single entry point: CI calls the same targets a person types.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
RUN_ARGS ?=

.PHONY: help install browser lint test run serve bench clean

help: ## Show this help
	@echo "card-callback: contract tests and a reference PSP for the Vipps MobilePay card callback"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its test tools (quick when nothing changed)

browser: ## Install Debian's Chromium for the browser tests, when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install ## Lint the contract document and the code (ruff, mypy --strict)
	$(BIN)/card-callback lint --payloads examples/payloads
	$(BIN)/card-callback lint openapi/card-callback-v2.yaml --payloads examples/payloads/v2
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install browser ## Run the test suite (pytest; exit 5, no tests, fails)
	$(BIN)/pytest $(PYTEST_ARGS)

run: install ## Start the reference server, run the contract suite against it, print the report (RUN_ARGS: --spec PATH, ...)
	$(PY) scripts/run_against_reference.py $(RUN_ARGS)

serve: install ## Serve the reference PSP on http://127.0.0.1:8080 (Swagger UI at /ui/)
	$(BIN)/card-callback serve

bench: install ## Benchmarks: server throughput, suite speed, memory (prints a table, writes JSON)
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk (load generator)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
