# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/raredx --version
	$(BIN)/raredx kb info
	$(BIN)/raredx hpo search "thrombocytopenia" --limit 5
	$(BIN)/raredx hpo search "anémie hémolytique" --limit 5
	$(BIN)/raredx case show examples/alps-fas.phenopacket.json
	$(BIN)/raredx diagnose examples/alps-fas.phenopacket.json --top 5
	$(BIN)/raredx phenotype labs examples/aiha-3y.labs.csv --age 3y --sex F
	$(BIN)/raredx diagnose --note examples/aiha-3y.note-fr.txt --labs examples/aiha-3y.labs.csv --age 3y --sex F --top 5

test: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/kb_load.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
