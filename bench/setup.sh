#!/usr/bin/env bash
# Installs what `make bench` needs beyond the gateway's own venv: wrk (Debian package) and the bench venv
# (LiteLLM proxy + matplotlib, pinned in bench/peers/requirements.txt). Idempotent: a second run is instant.
set -euo pipefail
cd "$(dirname "$0")"
BENCH_VENV=${BENCH_VENV:-.venv-bench}
PYTHON=${PYTHON:-python3}

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

stamp="$BENCH_VENV/.installed"
if [ ! -f "$stamp" ] || [ peers/requirements.txt -nt "$stamp" ]; then
  echo "bench: creating $BENCH_VENV (LiteLLM proxy + matplotlib; a few minutes)" >&2
  "$PYTHON" -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$BENCH_VENV/bin/python" -m pip install --quiet -r peers/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  "$BENCH_VENV/bin/python" -c "import litellm.proxy, matplotlib"  # fail here, not mid-run
  touch "$stamp"
fi
