# edgeloop: `make run` starts the service (SQLite + in-process jobs), `make test` runs what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml client/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install generator run test lint format proto openapi migrate bench lock clean

$(STAMP): pyproject.toml constraints.txt client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]' -e ./client
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/edgeloop migrate
	$(BIN)/edgeloop serve

migrate: install
	$(BIN)/edgeloop migrate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# openapi-python-client, pinned in tests/clientgen/generator-requirements.txt, in a venv of its own under
# .venv (its dependencies conflict with ours); tests/test_generated_client.py generates a client with it.
generator: install
	$(BIN)/python -m tests.clientgen.generator

test: lint generator
	$(BIN)/pytest -q

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

proto: install
	$(BIN)/python -m proto.generate

openapi: install
	$(BIN)/python -m api.rest.openapi > openapi.yaml

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/params.py
	$(BIN)/python bench/cycle.py
	$(BIN)/python bench/cycle_pg.py
	$(BIN)/python bench/grpc.py
	$(BIN)/python bench/capacity.py
	$(BIN)/python bench/retention_lock.py
	$(BIN)/python bench/calibration.py
	$(BIN)/python bench/calibration_trades.py
	$(BIN)/python bench/calibration_enhanced.py
	$(BIN)/python bench/fleet.py
	$(BIN)/python bench/client.py

# Re-pin every dependency to what is installed now (after a deliberate upgrade).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
