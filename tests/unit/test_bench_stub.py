"""The bench's Azure stub does what the bench says: ``slow*`` deployments are paced, the others are not.

The 1,000-open-streams phase relies on the slow path; when it silently never ran (its pattern was matched
against a lower-cased head), that phase streamed at full speed and measured something else.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.servers import free_port

STUB = Path(__file__).resolve().parents[2] / "bench" / "stub.py"
SLOW_MS = 150
BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": True}


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(STUB), "--port", str(port), "--slow-ms", str(SLOW_MS)], stderr=subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        assert b"listening" in process.stderr.readline()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def _stream_gaps(url: str) -> list[float]:
    """Seconds between the chunks of a streamed reply, as the client receives them."""
    arrivals: list[float] = []
    with httpx.stream("POST", url, json=BODY, timeout=10) as reply:
        assert reply.status_code == 200
        for _ in reply.iter_raw():
            arrivals.append(time.perf_counter())
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


def test_a_slow_deployment_streams_one_chunk_per_pause(stub: str) -> None:
    gaps = _stream_gaps(f"{stub}/openai/deployments/slow-model/chat/completions?api-version=x")
    # The stub sleeps SLOW_MS before every event: each gap is at least that (sleep never returns early).
    assert len(gaps) >= 3, gaps
    assert sorted(gaps)[len(gaps) // 2] >= SLOW_MS / 1000 * 0.9, gaps


def test_a_slow_deployment_answers_json_after_the_pause(stub: str) -> None:
    with httpx.Client(timeout=10) as client:  # built before the clock starts: its setup alone can take 100 ms
        started = time.perf_counter()
        reply = client.post(f"{stub}/openai/deployments/slow-model/chat/completions", json={"messages": []})
        elapsed = time.perf_counter() - started
    assert reply.status_code == 200
    assert elapsed >= SLOW_MS / 1000 * 0.9
