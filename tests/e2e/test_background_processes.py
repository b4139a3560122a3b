"""Background responses across processes (issue 16): a run resumed, polled and cancelled through another
gateway sharing the store, and what becomes of a run whose process is stopped or dies.

"Another process" is another gateway app with its own runs and nothing shared but the store (SQLite file or
Postgres); the process that dies is a real ``python -m app serve`` killed with SIGKILL, so nothing of it can
clean up. Heartbeats are 0.2 s here, so a dead process's run is judged after 1 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import AZURE_KEY, DEPLOYMENT, Emulator, gateway_settings
from support.background import gated, open_gate, wait_for
from support.servers import free_port, running

from app.api.factory import create_app

REPO = Path(__file__).resolve().parents[2]
HEARTBEAT = 0.2


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite3"
    return str(request.getfixturevalue("postgres_url"))


def gateway(emulator: Emulator, store_url: str, **overrides: Any) -> Any:
    return create_app(
        gateway_settings(emulator.url, store_url=store_url, background_heartbeat_seconds=HEARTBEAT, **overrides)
    )


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, timeout=30)


def test_a_run_is_resumed_on_another_process(clean_emulator: Emulator, store_url: str) -> None:
    with running(gateway(clean_emulator, store_url)) as a, running(gateway(clean_emulator, store_url)) as b:
        gate = gated(clean_emulator, "words from the other side")
        stream = sdk(a).responses.create(model="m", input="Go.", background=True, stream=True)
        first = next(iter(stream))
        stream.close()
        wait_for(sdk(b), first.response.id, "in_progress")
        resumed = sdk(b).responses.retrieve(first.response.id, stream=True, starting_after=first.sequence_number)
        open_gate(clean_emulator, gate)
        events = list(resumed)  # B polls the store for the events A keeps, until A's run ends
        assert [e.sequence_number for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "response.completed"
        assert events[-1].response.output_text == "words from the other side"
        kept = list(sdk(a).responses.retrieve(first.response.id, stream=True, starting_after=0))
        assert [e.model_dump() for e in kept] == [e.model_dump() for e in events]


def test_a_cancel_on_another_process_stops_the_run_and_frees_its_slot(
    clean_emulator: Emulator, store_url: str
) -> None:
    one_slot = {"num_concurrent_requests": 1, "max_queue_wait": 3.0}
    with running(gateway(clean_emulator, store_url, **one_slot)) as a, running(gateway(clean_emulator, store_url)) as b:
        gate = gated(clean_emulator, "never said")
        created = sdk(a).responses.create(model="m", input="Go.", background=True)
        wait_for(sdk(a), created.id, "in_progress")
        assert sdk(b).responses.cancel(created.id).status == "cancelled"
        # A notices at its next heartbeat and aborts the Azure call, freeing its only slot: were the slot still
        # held, this request would wait max_queue_wait and get 503 gateway_busy.
        assert sdk(a).responses.create(model="m", input="Next.").status == "completed"
        open_gate(clean_emulator, gate)
        time.sleep(2 * HEARTBEAT)
        assert sdk(a).responses.retrieve(created.id).status == "cancelled"


def test_a_stopped_process_fails_its_unfinished_runs(clean_emulator: Emulator, store_url: str) -> None:
    gate = gated(clean_emulator, "never said")
    with running(gateway(clean_emulator, store_url)) as a:
        created = sdk(a).responses.create(model="m", input="Go.", background=True, stream=True)
        first = next(iter(created))
        created.close()
        wait_for(sdk(a), first.response.id, "in_progress")
    open_gate(clean_emulator, gate)
    with running(gateway(clean_emulator, store_url)) as b:
        failed = sdk(b).responses.retrieve(first.response.id)
        assert failed.status == "failed" and failed.error is not None
        assert "stopped while this background response was running" in failed.error.message
        events = list(sdk(b).responses.retrieve(first.response.id, stream=True))
        assert events[-1].type == "response.failed" and events[-1].response.status == "failed"


@pytest.fixture
def doomed(clean_emulator: Emulator, tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """A gateway process of its own on an SQLite file, to be killed; yields (its url, the store url, it)."""
    store_url = f"sqlite:///{tmp_path}/store.sqlite3"
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO),
        "GATEWAY_OPENAI_BASE_URL": clean_emulator.url, "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": DEPLOYMENT, "GATEWAY_API_VERSION": "2024-10-21", "GATEWAY_STORE_URL": store_url,
        "GATEWAY_BACKGROUND_HEARTBEAT_SECONDS": str(HEARTBEAT), "GATEWAY_LOG_LEVEL": "warning",
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.1)
    try:
        yield url, store_url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_run_whose_process_died_is_failed_by_the_next_reader(
    clean_emulator: Emulator, doomed: tuple[str, str, subprocess.Popen[str]]
) -> None:
    url, store_url, proc = doomed
    gate = gated(clean_emulator, "never said")
    stream = sdk(url).responses.create(model="m", input="Go.", background=True, stream=True)
    first = next(iter(stream))
    wait_for(sdk(url), first.response.id, "in_progress")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stream.close()
    open_gate(clean_emulator, gate)
    with running(gateway(clean_emulator, store_url)) as b:
        # Until 5 heartbeats are missed the run may still be alive: it is reported as it stands.
        assert sdk(b).responses.retrieve(first.response.id).status in ("in_progress", "failed")
        time.sleep(5 * HEARTBEAT + 0.3)
        failed = sdk(b).responses.retrieve(first.response.id)
        assert failed.status == "failed" and failed.error is not None
        assert "stopped (no heartbeat for" in failed.error.message
        events = list(sdk(b).responses.retrieve(first.response.id, stream=True, starting_after=0))
        assert [e.type for e in events[:2]] == ["response.queued", "response.in_progress"]
        assert events[-1].type == "response.failed"
        assert sdk(b).responses.cancel(first.response.id).status == "failed"  # ended: returned as it is
