# Set-up is part of every target: a fresh machine needs only `make run` or `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench bench-scale bench-compliance clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "chainorg needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/chainorg serve --demo --host $(HOST) --port $(PORT)

test: lint
	$(BIN)/python -m pytest

# Lint, format and types: part of `make test`, so CI enforces them.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/coverage.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

bench-compliance: $(STAMP)
	$(BIN)/python bench/compliance.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
