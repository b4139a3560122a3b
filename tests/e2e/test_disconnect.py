"""A client that goes away is gone everywhere (#13): it leaves the queue at once, its Azure call is cancelled,
its slot is freed, and its log line says ``client_disconnected``.

Real servers on loopback; the clients that hang up are raw sockets closed after sending their request, so
the hang-up happens exactly when the test says. Slots are held by streams waiting on an emulator gate, so
"still busy" is a fact the test controls, not a race against a delay.
"""

from __future__ import annotations

import concurrent.futures
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from support.access_log import AccessLog
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from app.service.azure import Gateway
from app.settings.load import Secret, Settings

AZURE_KEY = "azure-secret-key-disconnect"
DEPLOYMENT = "gpt-4o-mini"
CHAT_BODY: dict[str, Any] = {"model": "x", "messages": [{"role": "user", "content": "hello"}]}
RESPONSES_BODY: dict[str, Any] = {"model": "x", "input": "hello"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState()
    app = create_emulator_app(EmulatorConfig(api_key=AZURE_KEY, deployments=(DEPLOYMENT,)), state=state)
    with running(app) as url:
        yield url, state


@pytest.fixture
def state(emulator: tuple[str, EmulatorState]) -> Iterator[EmulatorState]:
    emulator[1].clear()
    yield emulator[1]
    emulator[1].clear()


def _settings(url: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "openai_base_url": url,
        "openai_api_key": Secret(AZURE_KEY),
        "openai_model": DEPLOYMENT,
        "default_query": {"api-version": "2024-10-21"},
        "read_timeout": 60.0,
    }
    return Settings(**{**fields, **overrides})


def _wait_for(predicate: Any, what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def _send_raw(url: str, path: str, body: dict[str, Any], request_id: str) -> socket.socket:
    """A client that sends its whole request and will hang up when the test closes the socket."""
    host, port = url.removeprefix("http://").split(":")
    payload = msgspec.json.encode(body)
    head = (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"x-request-id: {request_id}\r\ncontent-length: {len(payload)}\r\n\r\n"
    )
    sock = socket.create_connection((host, int(port)))
    sock.sendall(head.encode() + payload)
    return sock


def _hold_slots(url: str, gw_url: str, n: int, pool: concurrent.futures.Executor) -> list[Any]:
    """``n`` streams that hold their slots until the emulator's gate ``hold`` opens."""
    script = {"replies": [{"message": {"content": "held"}, "stream": {"gate": "hold"}}] * n}
    assert httpx.post(f"{url}/_emulator/script", json=script).status_code == 200

    def stream() -> bytes:
        with httpx.Client(base_url=gw_url, timeout=60) as client:
            return client.post("/v1/chat/completions", json={**CHAT_BODY, "stream": True}).content

    return [pool.submit(stream) for _ in range(n)]


@pytest.mark.parametrize("path, body", [("/v1/chat/completions", CHAT_BODY), ("/v1/responses", RESPONSES_BODY)])
def test_queued_clients_that_hang_up_leave_the_queue_and_never_reach_azure(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any]
) -> None:
    url = emulator[0]
    app = create_app(_settings(url, num_concurrent_requests=4, max_queue=20, max_queue_wait=60))
    gw: Gateway = app.state["gateway"]
    with (
        running(app) as gw_url,
        concurrent.futures.ThreadPoolExecutor(24) as pool,
        AccessLog() as log,
    ):
        held = _hold_slots(url, gw_url, 4, pool)
        _wait_for(lambda: gw.client.in_flight == 4, "4 slots busy")
        hung = [_send_raw(gw_url, path, body, f"gone-{i}") for i in range(20)]
        _wait_for(lambda: gw.client.queued == 20, "20 clients queued")

        for sock in hung:
            sock.close()
        # The slots are still held (the gate is closed), so only the hang-ups can empty the queue.
        _wait_for(lambda: gw.client.queued == 0, "the 20 left the queue")
        assert gw.client.in_flight == 4

        with httpx.Client(base_url=gw_url, timeout=60) as client:
            later = [pool.submit(client.post, path, json=body) for _ in range(20)]
            _wait_for(lambda: gw.client.queued == 20, "the next 20 queued (not refused)")
            assert httpx.post(f"{url}/_emulator/gates/hold").status_code == 204
            assert [f.result().status_code for f in later] == [200] * 20
        assert all(b"[DONE]" in f.result() for f in held)
        _wait_for(lambda: len(log.by_id("gone-")) == 20, "a log line per hung-up client")

    # Azure saw the 4 held streams and the 20 served requests, none of the abandoned ones.
    assert len(state.requests) == 24
    lines = log.by_id("gone-")
    assert {line["error_code"] for line in lines} == {"client_disconnected"}
    assert {line["status"] for line in lines} == {499}
    assert gw.client.in_flight == 0 and gw.client.queued == 0


@pytest.mark.parametrize("path, body", [("/v1/chat/completions", CHAT_BODY), ("/v1/responses", RESPONSES_BODY)])
def test_request_abandoned_in_flight_cancels_the_azure_call_and_frees_its_slot(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any]
) -> None:
    url = emulator[0]
    # Azure would take a minute to answer; the slot must come back as soon as the client leaves.
    httpx.post(f"{url}/_emulator/faults", json={"fault": "delay", "seconds": 60})
    app = create_app(_settings(url, num_concurrent_requests=1))
    gw: Gateway = app.state["gateway"]
    with running(app) as gw_url, AccessLog() as log:
        sock = _send_raw(gw_url, path, body, "abandoned-1")
        _wait_for(lambda: gw.client.in_flight == 1 and len(state.requests) == 1, "the call reached Azure")
        sock.close()
        _wait_for(lambda: gw.client.in_flight == 0, "the slot was freed")
        _wait_for(lambda: state.requests[0].cancelled, "Azure saw the call cancelled")
        with httpx.Client(base_url=gw_url, timeout=30) as client:
            assert client.post(path, json=body).status_code == 200
        _wait_for(lambda: log.by_id("abandoned-1"), "the abandoned request's log line")
    (line,) = log.by_id("abandoned-1")
    assert line["error_code"] == "client_disconnected" and line["status"] == 499
    assert len(state.requests) == 2


def test_a_stream_abandoned_midway_is_logged_as_client_disconnected(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    url = emulator[0]
    script = {"replies": [{"message": {"content": "never finished"}, "stream": {"gate": "stalled"}}]}
    assert httpx.post(f"{url}/_emulator/script", json=script).status_code == 200
    app = create_app(_settings(url, num_concurrent_requests=1))
    gw: Gateway = app.state["gateway"]
    with running(app) as gw_url, AccessLog() as log:
        sock = _send_raw(gw_url, "/v1/responses", {**RESPONSES_BODY, "stream": True}, "stream-gone")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # the stream has started
        sock.close()
        _wait_for(lambda: gw.client.in_flight == 0, "the stream's slot was freed")
        _wait_for(lambda: state.requests[0].cancelled, "Azure saw the stream cancelled")
        _wait_for(lambda: log.by_id("stream-gone"), "the stream's log line")
    (line,) = log.by_id("stream-gone")
    assert line["error_code"] == "client_disconnected" and line["status"] == 200 and line["stream"] is True
