"""Hostile inputs and a gateway process to measure: shared by the robustness tests and bench/inbound.py.

``worst_cases`` are the issue-13 bodies that used to take the gateway from 99 MB to over 2 GB, or to block its
event loop for seconds. ``GatewayProcess`` runs ``python -m app serve`` (and the emulator) as processes of
their own, so its memory (``/proc/<pid>/status``: VmRSS now, VmHWM the peak) is the gateway's alone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]


def worst_cases(size: int = 30 * MIB) -> dict[str, tuple[str, bytes]]:
    """Name -> (path, body) of about ``size`` bytes each."""
    n = size // 3
    keys = b",".join(b'"k%d":1' % i for i in range(size // 12))
    return {
        "empty-objects-input": ("/v1/responses", b'{"input":[' + b"{}," * n + b"{}]}"),
        "empty-objects-chat": ("/v1/chat/completions", b'{"messages":[' + b"{}," * n + b"{}]}"),
        "metadata-keys": ("/v1/responses", b'{"input":"hi","metadata":{' + keys + b"}}"),
        "numbers": ("/v1/chat/completions", b'{"messages":[{"role":"user","content":"hi"}],"stop":[' + b"1," * n
                    + b"1]}"),
        "deep-nesting": ("/v1/responses", b'{"input":' + b"[" * (size // 2) + b"]" * (size // 2) + b"}"),
        "invalid-utf8-at-end": ("/v1/responses", b'{"input":"' + b"x" * (size - 16) + b'\xff"}'),
    }


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of ``pid`` in MiB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(proc: subprocess.Popen[str], url: str, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


class GatewayProcess:
    """``python -m app serve`` on a free port in front of ``python -m app emulator`` in another process, with
    extra ``GATEWAY_*`` settings. Two processes, so the gateway's memory is the gateway's alone: the emulator
    remembers the requests it answers (up to 10,000 bodies), which would grow a shared process."""

    def __init__(self, cwd: Path, **settings: str) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)}
        emulator_port, self.port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.emulator = subprocess.Popen(
            [sys.executable, "-m", "app", "emulator", "--port", str(emulator_port)],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )
        _wait_up(self.emulator, f"http://127.0.0.1:{emulator_port}/", "emulator")
        gateway_env = {
            **env, "GATEWAY_LOG_LEVEL": "warning", "GATEWAY_OPENAI_BASE_URL": f"http://127.0.0.1:{emulator_port}",
            "GATEWAY_OPENAI_API_KEY": "emulator-key", "GATEWAY_OPENAI_MODEL": "gpt-4o-mini",
            "GATEWAY_API_VERSION": "2024-10-21", **settings,
        }
        # Its log to a file: a pipe nobody reads would fill and block the gateway's writes.
        self.log_path = cwd / "gateway.log"
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
                cwd=cwd, env=gateway_env, stdout=subprocess.DEVNULL, stderr=log, text=True,
            )
        try:
            _wait_up(self.proc, f"{self.url}/healthz", "gateway")
        except RuntimeError:
            self.stop()
            raise

    def memory(self) -> dict[str, float]:
        return memory(self.proc.pid)

    def stop(self) -> None:
        for proc in (self.proc, self.emulator):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


_POLL = """
import json, sys, threading, time, httpx
url, interval = sys.argv[1], float(sys.argv[2])
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
latencies, failures = [], []
with httpx.Client(base_url=url, timeout=30) as http:
    while not done.is_set():
        started = time.perf_counter()
        try:
            status = http.get("/healthz").status_code
            if status != 200:
                failures.append(f"HTTP {status}")
        except httpx.HTTPError as exc:
            failures.append(repr(exc))
        latencies.append(time.perf_counter() - started)
        if len(latencies) == 1:
            print("ready", flush=True)
        time.sleep(interval)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


class HealthPoller:
    """Polls ``/healthz`` on one kept-alive connection and records each latency in seconds.

    A process of its own: a thread of the client sending the hostile bodies would be starved by that client's
    own work and measure the client, not the gateway.
    """

    def __init__(self, url: str, interval: float = 0.02) -> None:
        self.url, self.interval = url, interval
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _POLL, self.url, str(self.interval)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._proc.stdout is not None
        self._proc.stdout.readline()  # "ready": polling has begun before the attack starts

    def stop(self) -> None:
        assert self._proc is not None
        out, _ = self._proc.communicate(input="", timeout=60)
        found = json.loads(out)
        self.latencies, self.failures = found["latencies"], found["failures"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def post_all(url: str, cases: dict[str, tuple[str, bytes]], copies: int = 1) -> dict[str, Any]:
    """Send every case ``copies`` times, all at once; returns name -> list of (status, error code)."""
    results: dict[str, list[tuple[int, str | None]]] = {name: [] for name in cases}

    def send(name: str, path: str, body: bytes) -> None:
        try:
            reply = httpx.post(f"{url}{path}", content=body, headers={"content-type": "application/json"},
                               timeout=120)
            code = reply.json().get("error", {}).get("code") if reply.status_code >= 400 else None
            results[name].append((reply.status_code, code))
        except httpx.HTTPError as exc:
            results[name].append((0, repr(exc)))

    threads = [threading.Thread(target=send, args=(name, path, body)) for name, (path, body) in cases.items()
               for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results
