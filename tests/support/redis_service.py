"""Real Redis for tests: the machine's (127.0.0.1:6379), or one a test starts itself to stop mid-run.

Where the machine's Redis is unreachable the Redis cases skip and say so - unless
GATEWAY_TEST_REQUIRE_SERVICES=1 (.ci/run sets it), which turns that skip into a failure. Every test gets
its own random key prefix and deletes its keys afterwards, so parallel runs never share a budget.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from support.services import reachable, skip_or_fail

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def require_redis() -> str:
    """The machine's Redis URL, or skip (fail in CI) when it does not answer."""
    if not reachable(REDIS_HOST, REDIS_PORT):
        skip_or_fail(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}")
    return REDIS_URL


def new_prefix() -> str:
    return f"test-fleet-{secrets.token_hex(6)}"


def delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own on a free port (no persistence), to kill mid-run."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
        raise AssertionError  # unreachable: skip_or_fail raises
    with socket.socket() as s:
        s.bind((REDIS_HOST, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", REDIS_HOST, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not reachable(REDIS_HOST, port):
            assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://{REDIS_HOST}:{port}/0", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
