# Every target installs what it needs into .venv first; only python3 (3.11+) is assumed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 2024
N_JOBS ?= 4

.PHONY: install browser dev dev-memory test test-unit test-integration test-reliability lint typecheck bench reliability clean

install: $(VENV)/.installed browser

$(VENV)/.installed: pyproject.toml contract/pyproject.toml client/pyproject.toml cli/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e ./contract -e ./client -e ./cli -e ".[dev]"
	touch $@

## The report's browser tests drive Debian's Chromium (Playwright never downloads one):
## installed with apt-get when missing. Elsewhere (no apt-get) install Chromium yourself
## and set AUREN_CHROMIUM to its binary; until then `make dev` works and the browser
## tests fail saying so.
CHROMIUM ?= $(or $(AUREN_CHROMIUM),/usr/bin/chromium)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x $(CHROMIUM) || ! command -v apt-get >/dev/null || { \
	  echo "Installing Debian's chromium for the report's browser tests" && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium && \
	  test -x $(CHROMIUM) || { echo "Chromium is still missing at $(CHROMIUM)" >&2; exit 1; }; \
	}
	@test -x $(CHROMIUM) || echo "WARNING: no Chromium at $(CHROMIUM) and no apt-get: the browser tests will fail; install Chromium and set AUREN_CHROMIUM" >&2

## Run the service: langgraph dev with the AUREN graphs, data in the embedded Postgres
## (or AUREN_POSTGRES_URI when set), through auren_graphs/devserver.py: it reads .env,
## serves on 2024 or the next free port (saying so; PORT=N serves there or refuses a
## taken one), and stops the embedded Postgres on Ctrl-C. Studio link printed on start.
DEV_PORT = $(if $(filter file default,$(origin PORT)),--preferred-port $(PORT),--port $(PORT))
dev: install
	$(BIN)/python -m auren_graphs.devserver $(DEV_PORT) --jobs $(N_JOBS)

## The same on the dev server's own in-memory runtime (threads, runs and the store in
## .langgraph_api/ files, lost when killed): quick experiments only.
dev-memory: install
	$(BIN)/python -m auren_graphs.devserver $(DEV_PORT) --jobs $(N_JOBS) --config langgraph.platform.json

## The whole suite: lint, types, unit tests, then integration tests on a real server and Postgres.
test: install lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

## The lanes, one at a time: unit (no server, seconds), browser, integration, reliability.
test-unit: install
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

test-integration: install
	$(BIN)/pytest -q -p no:cacheprovider -m "integration or browser"

test-reliability: install
	$(BIN)/pytest -q -p no:cacheprovider -m reliability

lint: install
	$(BIN)/ruff check auren_graphs ops contract client cli tests bench reliability examples
	$(BIN)/ruff format --check auren_graphs ops contract client cli tests bench reliability examples

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

## Faults, hostile input and load against a real server; prints one table
## (make reliability ARGS=--quick for the CI-sized run).
reliability: install
	$(BIN)/python -m reliability $(ARGS)

clean:
	rm -rf $(VENV) .langgraph_api .auren .mypy_cache .ruff_cache .artifacts
