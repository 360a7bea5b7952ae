# MBC Guide. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app service
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) on PATH"; exit 1; }
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogs ## create .venv, install the project with dev extras, compile catalogs

catalogs: $(STAMP) ## compile locales/*.po to .mo
	$(BIN)/python -c "from service.content.extract import compile_locales as c; print('compiled:', ', '.join(c()))"

pot: $(STAMP) ## rewrite locales/messages.pot from messages/ and merge into every locale
	$(BIN)/python -m service.content.extract

migrate: install ## apply migrations to DATABASE_URL (default: SQLite under instance/)
	$(FLASK) db upgrade

run: migrate ## start the line on SQLite with a demo clinic
	$(FLASK) seed-demo
	@echo
	@echo "  MBC Guide is starting on http://$(HOST):$(PORT)"
	@echo "  Browser phone (text and call it):     http://$(HOST):$(PORT)/simulator"
	@echo "  Talk to it in this terminal instead:  $(FLASK) simulate"
	@echo "  Health:                                http://$(HOST):$(PORT)/healthz"
	@echo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install ## run every test and check (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
	$(FLASK) content check
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install ## benchmarks; writes docs/performance.md
	$(BIN)/python -m bench

clean: ## remove the venv, compiled catalogs and the dev database
	rm -rf $(VENV) instance locales/*/LC_MESSAGES/*.mo

.PHONY: help install catalogs pot migrate run test bench clean
