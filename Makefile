# The two entry points README.md promises: `make test` and `make demo`; docs/testing.md has the
# test tiers.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

.PHONY: help bootstrap sync lint test test-slow demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

bootstrap: ## install system packages and uv (Debian, root)
	./scripts/bootstrap.sh

sync: bootstrap ## create .venv from uv.lock (and matplotlib's font cache, for reports)
	uv sync --frozen
	uv run --frozen python -m loadgen.report.fonts

lint: sync ## ruff
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

test: lint ## lint, then the fast tier (every test not marked slow), one worker per core
	uv run --frozen pytest -n auto --maxprocesses 8 --dist loadfile

test-slow: sync ## the slow tier: tests marked slow (about 20 s or more each)
	uv run --frozen pytest -m slow

demo: sync ## the local target, a short campaign (examples/local.yaml), its report
	./scripts/demo.sh
