# Two commands matter on a fresh machine with Python 3.11, pip and make:
#   make run    start the gateway on the built-in Azure emulator
#   make test   run the whole test suite
# Each creates .venv and installs what it needs on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint models emulator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m app serve --emulator

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check app tests scripts bench
	$(PY) -m mypy

models: $(STAMP)
	$(PY) scripts/generate_models.py

emulator: $(STAMP)
	$(PY) -m app emulator

clean:
	rm -rf $(VENV)
