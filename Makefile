# Guanxi — the two commands a new user needs: `make run` and `make test`.
#   make run        create .venv, install, compile translations, migrate, load the demo
#                   company if the database is empty, serve http://127.0.0.1:8000 + worker
#   make test       ruff format --check, ruff check, mypy, makemigrations --check, pytest
#   make test-pg    the pytest suite on PostgreSQL (DATABASE_URL, default: local server)
#   make browser    real-browser tests (Playwright + Debian's Chromium) under tests/browser
#   make bench      the benchmarks in bench/ (DESIGN §5)
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_WORKERS ?= 2
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/guanxi_test

.PHONY: run install dev test lint typecheck migrations-check pytest test-pg browser bench clean messages

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found; set PY=/path/to/python3.11)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev: install

# Chinese UI strings: .po -> .mo (needs gettext's msgfmt; without it the UI shows English).
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python -m guanxi compilemessages --ignore '.venv' -v0; \
	else \
		echo "msgfmt not found: using the compiled translations shipped in guanxi/locale"; \
	fi

run: install messages
	$(BIN)/guanxi serve --demo-if-empty --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff format --check guanxi tests bench conftest.py
	$(BIN)/ruff check guanxi tests bench conftest.py

typecheck: install
	$(BIN)/mypy guanxi

migrations-check: install
	$(BIN)/python -m guanxi makemigrations --check --dry-run

# The suite always collects tests (guanxi/core/tests among them), so pytest's exit code 5
# ("no tests collected") cannot pass for success here.
pytest: install messages migrations-check
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

test: lint typecheck pytest

test-pg: install messages
	DATABASE_URL=$${DATABASE_URL:-$(PG_TEST_URL)} $(BIN)/pytest -n $(PYTEST_WORKERS) -q

browser: install messages
	@if ls tests/browser/test_*.py >/dev/null 2>&1; then \
		$(BIN)/pytest -q -m browser -p no:xdist tests/browser; \
	else \
		echo "no browser tests yet (tests/browser/test_*.py)"; \
	fi

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/static
