"""Graceful shutdown, as a real process: SIGTERM lets in-flight requests finish, up to drain_timeout."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
# uvicorn re-raises the SIGTERM it handled once shutdown is complete, so a clean exit reports the signal
# (what systemd and Kubernetes expect of a process stopped with SIGTERM).
CLEAN_EXIT = (0, -signal.SIGTERM)
CHAT_BODY = {"model": "x", "messages": [{"role": "user", "content": "hello"}]}


def start(tmp_path: Path, port: int, drain: float) -> tuple[subprocess.Popen[str], str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "GATEWAY_DRAIN_TIMEOUT": str(drain),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--emulator", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    match = re.search(r"Azure EMULATOR on (http://127\.0\.0\.1:\d+)", banner)
    assert match, banner
    emulator = match.group(1)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and proc.poll() is None, "gateway did not start"
            time.sleep(0.05)
    return proc, emulator


def wait_recorded(emulator: str, n: int) -> None:
    deadline = time.monotonic() + 10
    while len(httpx.get(f"{emulator}/_emulator/requests").json()) < n:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_sigterm_drains_in_flight_requests_then_exits(tmp_path: Path) -> None:
    port = free_port()
    proc, emulator = start(tmp_path, port, drain=10)
    try:
        httpx.post(f"{emulator}/_emulator/faults", json={"fault": "delay", "seconds": 1.5, "count": 2})
        url = f"http://127.0.0.1:{port}"
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            chat = pool.submit(httpx.post, f"{url}/v1/chat/completions", json=CHAT_BODY, timeout=30)
            responses = pool.submit(httpx.post, f"{url}/v1/responses", json={"model": "x", "input": "hi"}, timeout=30)
            wait_recorded(emulator, 2)  # both are now waiting on "Azure"
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            # No longer accepting new connections...
            try:
                refused = httpx.post(f"{url}/v1/chat/completions", json=CHAT_BODY, timeout=2)
                raise AssertionError(f"accepted a request while draining: {refused.status_code}")
            except httpx.TransportError:
                pass
            # ...but the two in flight complete normally.
            assert chat.result().status_code == 200
            assert responses.result().status_code == 200
        assert proc.wait(timeout=15) in CLEAN_EXIT
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr
    assert "closed the Azure connection pool" in stderr  # lifespan shutdown ran after the drain


def test_drain_timeout_bounds_the_wait(tmp_path: Path) -> None:
    port = free_port()
    proc, emulator = start(tmp_path, port, drain=1)
    try:
        httpx.post(f"{emulator}/_emulator/faults", json={"fault": "delay", "seconds": 30})
        url = f"http://127.0.0.1:{port}"
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            stuck = pool.submit(httpx.post, f"{url}/v1/chat/completions", json=CHAT_BODY, timeout=60)
            wait_recorded(emulator, 1)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) in CLEAN_EXIT
            assert time.monotonic() - started < 6
            with contextlib.suppress(httpx.TransportError):  # closed after the drain timeout: expected
                stuck.result()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
