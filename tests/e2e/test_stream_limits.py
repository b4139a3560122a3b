"""Streams end, whatever Azure does (#13): an idle stream and an endless one are cut at their limits
(``stream_idle_timeout``, ``stream_total_timeout``) with a terminal event the SDKs understand and the slot
freed; a malformed chunk on the Chat passthrough ends the stream with OpenAI's in-stream error object.

Real gateway and emulator on loopback, real openai SDK where the point is what a client understands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from support.access_log import AccessLog
from support.servers import running
from support.stream_validator import parse_chat_sse, validate_stream

from app.api.factory import create_app
from app.emulator import create_emulator_app
from app.emulator.app import emulator_state
from app.emulator.state import EmulatorState
from app.service.azure import Gateway
from app.settings.load import Secret, Settings

DEPLOYMENT = "gpt-4o-mini"
CHAT: dict[str, Any] = {"model": "x", "messages": [{"role": "user", "content": "hi"}], "stream": True}
RESPONSES: dict[str, Any] = {"model": "x", "input": "hi", "stream": True}
# Long enough to outlast any limit below at one chunk per 0.2 s (about 80 s in all).
ENDLESS = " ".join(f"word{i}" for i in range(400))


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    app = create_emulator_app()
    with running(app) as url:
        yield url, emulator_state(app)


@pytest.fixture
def state(emulator: tuple[str, EmulatorState]) -> Iterator[EmulatorState]:
    emulator[1].clear()
    yield emulator[1]
    emulator[1].clear()


class Gw:
    def __init__(self, url: str, gateway: Gateway) -> None:
        self.url = url
        self.gateway = gateway

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            return client.post(path, json=body)


@pytest.fixture
def gw(emulator: tuple[str, EmulatorState], request: pytest.FixtureRequest) -> Iterator[Gw]:
    limits = getattr(request, "param", {})
    settings = Settings(
        openai_base_url=emulator[0],
        openai_api_key=Secret("emulator-key"),
        openai_model=DEPLOYMENT,
        default_query={"api-version": "2024-10-21"},
        max_retries=0,
        **limits,
    )
    app = create_app(settings)
    with running(app) as url:
        yield Gw(url, app.state["gateway"])
    assert app.state["gateway"].client.in_flight == 0, "a stream kept its slot"


def wait_for(predicate: Callable[[], Any], what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def request_line(log: AccessLog, route: str) -> dict[str, Any]:
    """The one request line for ``route`` (written just after the response ends)."""
    wait_for(lambda: [line for line in log.lines if line["route"] == route], f"a log line for {route}")
    (line,) = [line for line in log.lines if line["route"] == route]
    return line


def script(url: str, *replies: dict[str, Any]) -> None:
    assert httpx.post(f"{url}/_emulator/script", json={"replies": list(replies)}).status_code == 200


IDLE = {"stream_idle_timeout": 0.5, "stream_total_timeout": 60.0}
TOTAL = {"stream_idle_timeout": 30.0, "stream_total_timeout": 1.5}


@pytest.mark.parametrize("gw", [IDLE], indirect=True)
def test_an_idle_responses_stream_ends_with_response_failed_naming_the_limit(
    emulator: tuple[str, EmulatorState], state: EmulatorState, gw: Gw
) -> None:
    script(emulator[0], {"message": {"content": "never sent"}, "stream": {"gate": "never"}})
    with AccessLog() as log:
        response = gw.post("/v1/responses", RESPONSES)
        line = request_line(log, "/v1/responses")
    result = validate_stream(response.content)
    assert result.terminal == "response.failed"
    assert "stream_idle_timeout (0.5s)" in result.final["error"]["message"]
    assert line["error_code"] == "upstream_timeout" and "stream_idle_timeout" in line["error"]


@pytest.mark.parametrize("gw", [TOTAL], indirect=True)
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
def test_an_endless_stream_is_cut_at_stream_total_timeout(
    emulator: tuple[str, EmulatorState], state: EmulatorState, gw: Gw, path: str
) -> None:
    """One chunk every 0.2 s, for longer than the limit: never idle, but it must still end."""
    script(emulator[0], {"message": {"content": ENDLESS}, "stream": {"chunk_delay": 0.2}})
    with AccessLog() as log:
        response = gw.post(path, RESPONSES if path == "/v1/responses" else CHAT)
        line = request_line(log, path)
    assert response.status_code == 200
    if path == "/v1/responses":
        result = validate_stream(response.content)
        assert result.terminal == "response.failed"
        message = result.final["error"]["message"]
        assert result.text  # it did stream for a while
    else:
        events = parse_chat_sse(response.content)
        assert "[DONE]" not in events
        error = events[-1]["error"]
        assert error["code"] == "upstream_timeout"
        message = error["message"]
    assert "stream_total_timeout (1.5s)" in message
    wait_for(lambda: state.requests[0].cancelled, "Azure saw the stream abandoned")
    assert line["error_code"] == "upstream_timeout"


@pytest.mark.parametrize("gw", [IDLE], indirect=True)
def test_an_idle_chat_stream_raises_an_api_error_in_the_openai_sdk(
    emulator: tuple[str, EmulatorState], state: EmulatorState, gw: Gw
) -> None:
    script(emulator[0], {"message": {"content": "never sent"}, "stream": {"gate": "never"}})
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}], stream=True)
    with pytest.raises(openai.APIError, match="stream_idle_timeout"):
        for _ in stream:
            pass


def test_a_malformed_chat_chunk_ends_with_an_error_the_sdk_raises(
    emulator: tuple[str, EmulatorState], state: EmulatorState, gw: Gw
) -> None:
    """Before: the broken chunk was forwarded, then [DONE] (the SDK failed on JSON, or saw a clean end)."""
    reply = {"message": {"content": "one two three four"}, "stream": {"fail_after": 2, "failure": "malformed_chunk"}}
    script(emulator[0], reply)
    with AccessLog() as log:
        response = gw.post("/v1/chat/completions", CHAT)
        line = request_line(log, "/v1/chat/completions")
    lines = [line for line in response.text.split("\n") if line.startswith("data: ")]
    assert lines[-1].startswith('data: {"error"') and "data: [DONE]" not in lines
    assert all(line == "data: [DONE]" or line.endswith("}") for line in lines)  # nothing cut off forwarded
    events = parse_chat_sse(response.content)
    assert events[-1]["error"]["code"] == "upstream_error"
    assert line["error_code"] == "upstream_error"

    script(emulator[0], reply)
    client = openai.OpenAI(base_url=f"{gw.url}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}], stream=True)
    with pytest.raises(openai.APIError, match="could not read"):
        for _ in stream:
            pass


def test_a_malformed_chunk_on_the_responses_route_still_fails_cleanly(
    emulator: tuple[str, EmulatorState], state: EmulatorState, gw: Gw
) -> None:
    reply = {"message": {"content": "one two three four"}, "stream": {"fail_after": 2, "failure": "malformed_chunk"}}
    script(emulator[0], reply)
    result = validate_stream(gw.post("/v1/responses", RESPONSES).content)
    assert result.terminal == "response.failed"
