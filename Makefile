# Carnet: `make run` (demo portal on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_ENV := CARNET_DEMO=1 DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3

.PHONY: run test install lint bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: install
	mkdir -p var
	$(DEMO_ENV) $(BIN)/carnet migrate --noinput
	$(DEMO_ENV) $(BIN)/carnet demo_data
	@echo "Portal: http://127.0.0.1:8000  (dev outbox: http://127.0.0.1:8000/dev/outbox/)"
	$(DEMO_ENV) $(BIN)/carnet db_worker --interval 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/carnet runserver 127.0.0.1:8000

test: install node_modules/axe-core/axe.min.js
	$(BIN)/ruff check carnet tests bench
	$(BIN)/mypy carnet/identity carnet/notifications carnet/sharing carnet/common carnet/vault carnet/record carnet/interop carnet/medical carnet/export carnet/messaging carnet/portal carnet/pro carnet/api carnet/fhir
	CARNET_TESTING=1 DATABASE_URL=sqlite://:memory: $(BIN)/carnet makemigrations --check --dry-run
	CARNET_TESTING=1 $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check carnet tests bench
	$(BIN)/mypy carnet/identity carnet/notifications carnet/sharing carnet/common carnet/vault carnet/record carnet/interop carnet/medical carnet/export carnet/messaging carnet/portal carnet/pro carnet/api carnet/fhir

bench: install
	$(BIN)/python bench/registry_import.py

clean:
	rm -rf $(VENV) var node_modules
