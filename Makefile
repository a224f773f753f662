# Every target installs what it needs into .venv first; only python3 (3.11+) is assumed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 2024
N_JOBS ?= 4

.PHONY: install dev dev-memory test test-unit lint typecheck bench reliability clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e ./client -e ".[dev]"
	touch $@

## Run the service: langgraph dev with the AUREN graphs, data in the embedded Postgres
## (or AUREN_POSTGRES_URI when set). Studio link is printed on start.
dev: install
	$(BIN)/langgraph dev --port $(PORT) --no-browser --n-jobs-per-worker $(N_JOBS)

## The same on the dev server's own in-memory runtime (no Postgres; data kept in
## .langgraph_api/ files and can be lost when killed): quick experiments only.
dev-memory: install
	$(BIN)/langgraph dev --config langgraph.platform.json --port $(PORT) --no-browser --n-jobs-per-worker $(N_JOBS)

## The whole suite: lint, types, unit tests, then integration tests on a real server and Postgres.
test: install lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

lint: install
	$(BIN)/ruff check auren_graphs ops client tests bench reliability
	$(BIN)/ruff format --check auren_graphs ops client tests bench reliability

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

## Faults, hostile input and load against a real server; prints one table
## (make reliability ARGS=--quick for the CI-sized run).
reliability: install
	$(BIN)/python -m reliability $(ARGS)

clean:
	rm -rf $(VENV) .langgraph_api .auren .mypy_cache .ruff_cache
