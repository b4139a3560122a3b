"""Real gateway processes for the fleet tests: N ``python -m app serve`` on loopback in front of one emulator.

Each process gets its settings from ``GATEWAY_*`` variables only (run in an empty directory), so what a test
configures is exactly what an operator would export. ``drive`` sends requests concurrently, spread over
the processes round-robin, and counts what came back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.servers import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Gateway:
    url: str
    proc: subprocess.Popen[str]
    log: str = ""
    """Its stderr, once it has stopped."""


@contextmanager
def gateway_process(cwd: Path, env: dict[str, str]) -> Iterator[Gateway]:
    port = free_port()
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"gateway exited with {proc.returncode}: {err}")
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gateway did not become ready"
            time.sleep(0.1)
        gateway = Gateway(url, proc)
        yield gateway
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if "gateway" in locals():
            gateway.log = err or ""


@contextmanager
def fleet(cwd: Path, count: int, env: dict[str, str]) -> Iterator[list[Gateway]]:
    with ExitStack() as stack:
        yield [stack.enter_context(gateway_process(cwd, env)) for _ in range(count)]


@dataclass
class Drive:
    statuses: Counter[int] = field(default_factory=Counter)
    deployments: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def _drive(urls: list[str], requests: int, concurrency: int, stream: bool) -> Drive:
    result = Drive()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    body = {"model": "any", "messages": [{"role": "user", "content": "hello"}], "stream": stream}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            reply = await client.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=body)
            await reply.aread()
            result.statuses[reply.status_code] += 1
            result.deployments[reply.headers.get("x-gateway-deployment", "")] += 1

    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def drive(urls: list[str], requests: int, *, concurrency: int = 30, stream: bool = False) -> Drive:
    return asyncio.run(_drive(urls, requests, concurrency, stream))
