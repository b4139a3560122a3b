# Two commands matter on a fresh machine with Python 3.11, pip and make:
#   make run    start the gateway on the built-in Azure emulator
#   make test   run the whole test suite
# Each creates .venv and installs what it needs on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint models emulator bench bench-ab clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Readable log lines for a person at a terminal; production keeps settings.toml's JSON.
run: $(STAMP)
	GATEWAY_LOG_FORMAT=$${GATEWAY_LOG_FORMAT:-console} $(PY) -m app serve --emulator

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check app tests scripts bench
	$(PY) -m mypy

# The whole performance report (about 20 minutes): wrk + the bench venv (LiteLLM, matplotlib) are installed by
# bench/setup.sh on first use. BENCH_ARGS=--quick checks the harness in two minutes.
BENCH_VENV ?= bench/.venv-bench
bench: $(STAMP)
	BENCH_VENV=$(abspath $(BENCH_VENV)) bench/setup.sh
	mkdir -p bench/out
	$(PY) -m pytest bench/micro -q -p no:cacheprovider --benchmark-enable --benchmark-only --benchmark-json=bench/out/micro.json
	$(PY) bench/run.py --litellm-venv $(BENCH_VENV) $(BENCH_ARGS)
	$(PY) bench/report.py
	$(BENCH_VENV)/bin/python bench/chart.py

# A/B against another commit (default: the one before the service-layer redesign) by instructions per
# request under callgrind, which a busy machine cannot disturb, then by wall clock on one stub.
BASE ?= cf1c875
bench-ab: $(STAMP)
	rm -rf bench/out/ab-base && git worktree add --detach bench/out/ab-base $(BASE)
	$(PY) bench/instructions.py --base bench/out/ab-base
	$(PY) bench/ab.py --base bench/out/ab-base
	git worktree remove --force bench/out/ab-base

models: $(STAMP)
	$(PY) scripts/generate_models.py

emulator: $(STAMP)
	$(PY) -m app emulator

clean:
	rm -rf $(VENV)
