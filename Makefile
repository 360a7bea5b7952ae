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

# Quiet by default: each step prints one line; its full output only when it fails, or with V=1.
V ?= 0
ifeq ($(V),1)
step = echo "  $(1)" && $(2)
else
step = log=$$(mktemp) && if ( $(2) ) >"$$log" 2>&1; then echo "  $(1)"; rm -f "$$log"; \
	else s=$$?; cat "$$log"; rm -f "$$log"; echo "  $(1): FAILED (exit $$s)"; exit $$s; fi
endif
VENV_CMD = test -d $(VENV) || $(PY) -m venv $(VENV)
PIP_CMD = $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e '.[dev]'
CATALOGS_CMD = $(BIN)/python -c "from service.content.extract import compile_locales as c; print('compiled:', ', '.join(c()))"
# Links, and the signatures the browser phone computes, name the port actually served.
PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
CHROMIUM ?= /usr/bin/chromium

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) on PATH"; exit 1; }
	@$(call step,virtual environment $(VENV),$(VENV_CMD))
	@$(call step,installed the project and its dev tools (pip),$(PIP_CMD))
	@touch $(STAMP)

install: $(STAMP) catalogs ## create .venv, install the project with dev extras, compile catalogs

catalogs: $(STAMP) ## compile locales/*.po to .mo
	@$(call step,compiled the patient-text catalogs,$(CATALOGS_CMD))

pot: $(STAMP) ## rewrite locales/messages.pot from messages/ and merge into every locale
	$(BIN)/python -m service.content.extract

migrate: install ## apply migrations to DATABASE_URL (default: SQLite under instance/)
	@$(call step,database migrated,$(FLASK) db upgrade)

run: export PUBLIC_BASE_URL := $(PUBLIC_BASE_URL)
run: migrate ## start the line (web + outbound worker) on SQLite with a demo clinic; Ctrl-C stops all
	@$(FLASK) seed-demo
	@echo
	@echo "  MBC Guide is starting on $(PUBLIC_BASE_URL)  (V=1 for full logs)"
	@echo "  Start here:                            $(PUBLIC_BASE_URL)/"
	@echo "  Browser phone (text and call it):      $(PUBLIC_BASE_URL)/simulator"
	@echo "  Clinic portal:                         $(PUBLIC_BASE_URL)/portal/"
	@echo "  Talk to it in this terminal instead:   $(FLASK) simulate"
	@echo "  The outbound worker runs alongside (console sender: texts print here, masked)."
	@echo
	@$(BIN)/python -m service.devrun --host $(HOST) --port $(PORT)

test: install ## run every test and check (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
	@test -x $(CHROMIUM) || echo "  note: browser tests are skipped without Chromium at $(CHROMIUM): sudo apt-get install chromium (see README)"
	@$(call step,content check passed,$(FLASK) content check)
	@$(call step,import layers kept (lint-imports),$(BIN)/lint-imports --no-cache)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install ## benchmarks; writes docs/performance.md
	$(BIN)/python -m bench

clean: ## remove the venv, compiled catalogs and the dev database
	rm -rf $(VENV) instance locales/*/LC_MESSAGES/*.mo

.PHONY: help install catalogs pot migrate run test bench clean
