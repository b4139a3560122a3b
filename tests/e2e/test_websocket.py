"""WebSocket mode on ``/v1/responses``: the openai SDK's ``responses.connect()``, the Agents SDK's WebSocket
transport and a raw client, against a real uvicorn gateway in front of the emulator.

What OpenAI's WebSocket mode specifies, checked from the client's side: each ``response.create`` gets the
events ``stream: true`` would send (validated like an SSE stream), one response at a time in order; a
``previous_response_id`` naming the connection's last response continues it with ``store: false`` (Azure
receives the chain's items before the new input); failures are ``error`` events and the socket stays
usable; a failed continuation evicts the response it named; the cache belongs to the connection. And what
the gateway owes on every transport: inbound auth (a refused upgrade is its HTTP status with OpenAI's
envelope), the message size limit, metrics, and a client leaving mid-turn frees the Azure slot.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import openai
import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider
from conftest import Emulator, gateway_settings
from prometheus_client.parser import text_string_to_metric_families
from support.servers import running
from support.sockets import error_of, receive_turn, turn, ws_url
from support.stream_validator import validate_events
from support.translation_harness import WEATHER
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.api.factory import create_app
from app.settings.load import Secret

pytestmark = pytest.mark.usefixtures("clean_emulator")


def _sdk_turn(connection: Any, **body: Any) -> list[dict[str, Any]]:
    connection.response.create(**body)
    events: list[dict[str, Any]] = []
    for event in connection:
        events.append(event.model_dump(mode="json", exclude_unset=True))
        if event.type in ("response.completed", "response.incomplete", "response.failed", "error"):
            return events
    raise AssertionError("the connection closed before the turn ended")


def _chat_roles(body: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for message in body["messages"]:
        content = message.get("content")
        text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
        out.append((message["role"], text))
    return out


# ------------------------------------------------------------------------------------------- the SDK


def test_sdk_connect_streams_a_response_and_continues_it_with_store_false(
    gateway_url: str, emulator: Emulator
) -> None:
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0)
    with client.responses.connect() as connection:
        first = _sdk_turn(
            connection, model="m", store=False, input="Remember the code word: cobalt. Reply with OK."
        )
        result = validate_events(first)
        assert result.terminal == "response.completed"
        first_id = result.final["id"]
        answer = result.final["output"][0]["content"][0]["text"]

        second = _sdk_turn(
            connection, model="m", store=False, previous_response_id=first_id, input="What is the code word?"
        )
        final = validate_events(second).final
        assert final["status"] == "completed"
        assert final["previous_response_id"] == first_id
        assert final["id"] != first_id
    # Azure got the chain: the first input, the first answer, then the new input - nothing else.
    assert _chat_roles(emulator.last_body()) == [
        ("user", "Remember the code word: cobalt. Reply with OK."),
        ("assistant", answer),
        ("user", "What is the code word?"),
    ]


def test_sdk_tool_loop_on_one_connection(gateway_url: str, emulator: Emulator) -> None:
    """An agent loop: the model calls a tool, the client sends only the tool's output and the previous id."""
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0)
    with client.responses.connect() as connection:
        events = _sdk_turn(connection, model="m", store=False, tools=[WEATHER], input="What's the weather in Paris?")
        final = validate_events(events).final
        call = next(item for item in final["output"] if item["type"] == "function_call")
        assert call["name"] == "get_weather"

        events = _sdk_turn(
            connection,
            model="m",
            store=False,
            tools=[WEATHER],
            previous_response_id=final["id"],
            input=[{"type": "function_call_output", "call_id": call["call_id"], "output": "18C and sunny"}],
        )
        answer = validate_events(events).final
    assert answer["status"] == "completed"
    assert "18C and sunny" in answer["output"][-1]["content"][0]["text"]
    messages = emulator.last_body()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["tool_calls"][0]["id"] == messages[2]["tool_call_id"] == call["call_id"]


# ------------------------------------------------------------------------------- errors, raw client


def test_missing_previous_response_is_an_error_event_and_the_socket_stays_usable(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        error = error_of(turn(socket, model="m", store=False, previous_response_id="resp_missing", input="x"))
        assert error["status"] == 400
        assert error["code"] == "previous_response_not_found"
        assert error["param"] == "previous_response_id"
        assert "resp_missing" in error["message"]
        assert validate_events(turn(socket, model="m", store=False, input="hi")).terminal == "response.completed"


def test_the_cache_belongs_to_the_connection(gateway_url: str) -> None:
    """store:false state never leaves its socket: a new connection cannot continue it (then starts afresh)."""
    with connect(ws_url(gateway_url)) as first:
        response_id = validate_events(turn(first, model="m", store=False, input="The word is copper.")).final["id"]
    with connect(ws_url(gateway_url)) as second:
        error = error_of(turn(second, model="m", store=False, previous_response_id=response_id, input="Word?"))
        assert error["code"] == "previous_response_not_found"
        fresh = turn(second, model="m", store=False, input=[{"type": "message", "role": "user", "content": "hi"}])
        assert validate_events(fresh).terminal == "response.completed"


def test_only_the_most_recent_response_is_cached(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        older = validate_events(turn(socket, model="m", store=False, input="one")).final["id"]
        validate_events(turn(socket, model="m", store=False, input="two"))
        error = error_of(turn(socket, model="m", store=False, previous_response_id=older, input="three"))
        assert error["code"] == "previous_response_not_found"


def test_a_failed_continuation_evicts_the_response_it_named(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        first = validate_events(turn(socket, model="m", store=False, input="The word is ember.")).final["id"]
        orphan = {"type": "function_call_output", "call_id": "call_missing", "output": "no such call"}
        failed = error_of(turn(socket, model="m", store=False, previous_response_id=first, input=[orphan]))
        assert failed["status"] == 400  # Azure refuses a tool message that answers no call
        again = error_of(turn(socket, model="m", store=False, previous_response_id=first, input="Word?"))
        assert again["code"] == "previous_response_not_found"


def test_turns_run_one_at_a_time_in_the_order_sent(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        for word in ("first", "second"):  # the second is sent before the first has started answering
            socket.send(json.dumps({"type": "response.create", "model": "m", "store": False, "input": word}))
        one, two = receive_turn(socket), receive_turn(socket)
    first, second = validate_events(one).final, validate_events(two).final  # each numbered from 0
    assert first["id"] != second["id"]
    assert "first" in first["output"][0]["content"][0]["text"]
    assert "second" in second["output"][0]["content"][0]["text"]


def test_more_messages_than_the_pending_bound_are_all_answered_in_order(gateway_url: str) -> None:
    """Past a few pending messages the gateway stops reading (TCP slows the client) instead of buffering."""
    words = [f"word{i}" for i in range(8)]
    with connect(ws_url(gateway_url)) as socket:
        for word in words:
            socket.send(json.dumps({"type": "response.create", "model": "m", "store": False, "input": word}))
        finals = [validate_events(receive_turn(socket)).final for _ in words]
    assert all(word in final["output"][0]["content"][0]["text"] for word, final in zip(words, finals, strict=True))


def test_generate_false_warms_up_without_calling_azure(gateway_url: str, emulator: Emulator) -> None:
    """OpenAI's warm-up: the request is checked, nothing is generated, and the next turn continues from it."""
    with connect(ws_url(gateway_url)) as socket:
        warm = turn(socket, model="m", store=False, generate=False, instructions="Be brief.",
                    input="Context: the repository is a parser.")
        result = validate_events(warm)
        assert [e["type"] for e in warm] == ["response.created", "response.in_progress", "response.completed"]
        assert result.final["output"] == [] and result.final["status"] == "completed"
        assert emulator.requests() == []
        follow = turn(socket, model="m", store=False, previous_response_id=result.final["id"], input="Go.")
        assert validate_events(follow).terminal == "response.completed"
        refused = error_of(turn(socket, model="m", generate=False, input="x", truncation="auto"))
        assert refused["param"] == "truncation"  # a warm-up that could not run says so at once
        assert error_of(turn(socket, model="m", generate="no", input="x"))["param"] == "generate"
    assert _chat_roles(emulator.last_body()) == [("user", "Context: the repository is a parser."), ("user", "Go.")]


@pytest.mark.parametrize(
    ("message", "status", "code", "param"),
    [
        ("{not json", 400, "invalid_json", None),
        ("[1, 2]", 400, "invalid_type", None),
        ('{"type": "response.cancel"}', 400, "unsupported_event_type", "type"),
        ('{"model": "m", "input": "x"}', 400, "unsupported_event_type", "type"),
        ('{"type": "response.create", "input": "x", "stream": false}', 400, "unsupported_parameter", "stream"),
        ('{"type": "response.create", "input": "x", "background": true}', 400, "unsupported_parameter", "background"),
        ('{"type": "response.create", "input": "x", "colour": "red"}', 400, "unknown_parameter", "colour"),
        ('{"type": "response.create", "input": 5}', 400, "invalid_type", "input"),
        ('{"type": "response.create", "input": "x", "conversation": "conv_none"}', 404, "not_found_error",
         "conversation"),
    ],
)
def test_bad_messages_are_error_events(
    gateway_url: str, message: str, status: int, code: str, param: str | None
) -> None:
    with connect(ws_url(gateway_url)) as socket:
        socket.send(message)
        error = error_of(receive_turn(socket))
        assert (error["status"], error["code"], error["param"]) == (status, code, param), error
        assert validate_events(turn(socket, model="m", input="still here")).terminal == "response.completed"


def test_a_message_over_the_body_limit_is_413(emulator: Emulator) -> None:
    app = create_app(gateway_settings(emulator.url, max_body_bytes=2048))
    with running(app) as url, connect(ws_url(url)) as socket:
        error = error_of(turn(socket, model="m", input="x" * 4096))
        assert error["status"] == 413
        assert validate_events(turn(socket, model="m", input="small")).terminal == "response.completed"


# --------------------------------------------------------------------------- auth and refused upgrades


def _refusal(url: str, **headers: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as refused, connect(url, additional_headers=headers):
        pass
    response = refused.value.response
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get("x-request-id")
    return response.status_code, json.loads(response.body)["error"]


def test_refused_upgrades_have_their_status_and_the_envelope(emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, gateway_api_keys=(Secret("ws-key"),))
    with running(create_app(settings)) as url:
        status, error = _refusal(ws_url(url))
        assert (status, error["code"]) == (401, "missing_api_key")
        status, error = _refusal(ws_url(url), authorization="Bearer wrong")
        assert (status, error["code"]) == (401, "invalid_api_key")
        assert "wrong" not in error["message"]
        status, error = _refusal(ws_url(url, "/v1/nowhere"), authorization="Bearer ws-key")
        assert status == 404 and "/v1/responses" in error["message"]
        # The right key, as the SDK sends it, is let in.
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="ws-key", max_retries=0)
        with client.responses.connect() as connection:
            assert validate_events(_sdk_turn(connection, model="m", input="hi")).terminal == "response.completed"
        with connect(ws_url(url), additional_headers={"api-key": "ws-key"}) as socket:
            assert validate_events(turn(socket, model="m", input="hi")).terminal == "response.completed"


# ------------------------------------------------------------------------------ slots and telemetry


def _metric(url: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def test_a_client_leaving_mid_turn_frees_the_azure_slot(emulator: Emulator) -> None:
    app = create_app(gateway_settings(emulator.url, num_concurrent_requests=1))
    gateway = app.state["gateway"]
    emulator.script({"message": {"content": "never finished"}, "stream": {"gate": "ws-leave"}})
    try:
        with running(app) as url:
            socket = connect(ws_url(url))
            socket.send(json.dumps({"type": "response.create", "model": "m", "input": "long"}))
            assert json.loads(socket.recv(timeout=10))["type"] == "response.created"
            assert gateway.client.in_flight == 1  # the stream holds the only slot
            socket.close()
            deadline = time.monotonic() + 10
            while gateway.client.in_flight:
                assert time.monotonic() < deadline, "the slot was never freed"
                time.sleep(0.02)
            # The slot is free for the next caller while the abandoned Azure stream would still be waiting.
            after = httpx.post(f"{url}/v1/responses", json={"model": "m", "input": "next"}, timeout=10)
            assert after.status_code == 200
    finally:
        httpx.post(f"{emulator.url}/_emulator/gates/ws-leave")


def test_turns_and_connections_are_metered(gateway_url: str) -> None:
    ok_before = _metric(gateway_url, "gateway_websocket_turns_total", status_code="200")
    bad_before = _metric(gateway_url, "gateway_websocket_turns_total", status_code="400")
    upstream_before = _metric(gateway_url, "gateway_upstream_duration_seconds_count", route="/v1/responses")
    with connect(ws_url(gateway_url)) as socket:
        assert _metric(gateway_url, "gateway_websocket_connections") >= 1
        turn(socket, model="m", input="one")
        turn(socket, model="m", input="two")
        turn(socket, model="m", previous_response_id="resp_gone", input="three")
    assert _metric(gateway_url, "gateway_websocket_turns_total", status_code="200") == ok_before + 2
    assert _metric(gateway_url, "gateway_websocket_turns_total", status_code="400") == bad_before + 1
    assert _metric(gateway_url, "gateway_upstream_duration_seconds_count", route="/v1/responses") == upstream_before + 3
    deadline = time.monotonic() + 5
    while _metric(gateway_url, "gateway_websocket_connections") != 0:
        assert time.monotonic() < deadline, "the connection gauge never went back to 0"
        time.sleep(0.02)


def test_the_agents_sdk_runs_a_tool_loop_over_websocket(gateway_url: str, emulator: Emulator) -> None:
    """The OpenAI Agents SDK's WebSocket transport (use_responses_websocket), plain and streamed runs."""
    set_tracing_disabled(True)

    @function_tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        return f"18C and sunny in {city}"

    async def run() -> tuple[str, str]:
        provider = OpenAIProvider(api_key="test", base_url=f"{gateway_url}/v1", use_responses_websocket=True)
        agent = Agent(name="weather", instructions="Use the tools.", tools=[get_weather], model="gpt-4o-mini")
        config = RunConfig(model_provider=provider)
        try:
            plain = await Runner.run(agent, "What's the weather in Paris?", run_config=config)
            streamed = Runner.run_streamed(agent, "What's the weather in Rome?", run_config=config)
            async for _ in streamed.stream_events():
                pass
            return str(plain.final_output), str(streamed.final_output)
        finally:
            await provider.aclose()

    before = _metric(gateway_url, "gateway_websocket_turns_total", status_code="200")
    paris, rome = asyncio.run(run())
    assert "18C and sunny in Paris" in paris and "18C and sunny in Rome" in rome
    assert _metric(gateway_url, "gateway_websocket_turns_total", status_code="200") == before + 4  # all over WS
    assert [m["role"] for m in emulator.last_body()["messages"]] == ["system", "user", "assistant", "tool"]


# ------------------------------------------------------------------------------------ with the store


def test_stored_responses_continue_across_transports(gateway_url: str, emulator: Emulator) -> None:
    """A stored response (store true, the default) continues on any connection or over HTTP, both ways."""
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0)
    over_http = client.responses.create(model="m", input="The word is basalt.")
    with connect(ws_url(gateway_url)) as socket:  # a new connection: not in its cache, found in the store
        second = validate_events(turn(socket, model="m", previous_response_id=over_http.id, input="Word?")).final
        # ...and the chain is now the connection's: the next turn sees all of it.
        third = validate_events(turn(socket, model="m", previous_response_id=second["id"], input="Again?")).final
    assert [role for role, _ in _chat_roles(emulator.last_body())] == ["user", "assistant"] * 2 + ["user"]
    # The WebSocket turn was stored: HTTP continues it, and retrieves it.
    after = client.responses.create(model="m", previous_response_id=third["id"], input="Last one.")
    assert after.status == "completed"
    assert [role for role, _ in _chat_roles(emulator.last_body())] == ["user", "assistant"] * 3 + ["user"]
    assert client.responses.retrieve(third["id"]).previous_response_id == second["id"]


def test_store_false_turns_are_not_stored(gateway_url: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0)
    with connect(ws_url(gateway_url)) as socket:
        unstored = validate_events(turn(socket, model="m", store=False, input="secret")).final
    assert unstored["store"] is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored["id"])
