# Guanxi — the two commands a new user needs: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run install dev test lint typecheck pytest test-pg browser bench clean messages

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python -m guanxi compilemessages --ignore '.venv' -v0

run: install messages
	$(BIN)/guanxi serve --demo-if-empty

lint: install
	$(BIN)/ruff format --check guanxi tests bench conftest.py
	$(BIN)/ruff check guanxi tests bench conftest.py

typecheck: install
	$(BIN)/mypy guanxi

pytest: install messages
	$(BIN)/python -m guanxi makemigrations --check --dry-run
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

browser: install messages
	$(BIN)/pytest -q -m browser -p no:xdist

test-pg: install messages
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -n 2 -q

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/static
