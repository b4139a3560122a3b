"""Streaming end to end: real uvicorn gateway + real uvicorn Azure emulator on loopback, real clients.

Every `/v1/responses` stream goes through `stream_validator.validate_stream` (framing, sequence, item
lifecycle, and - when ../shared is present - both official event schemas).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from support.servers import free_port, running
from support.stream_validator import (
    SKIP_REASON,
    SPECS_PRESENT,
    StreamResult,
    check_schemas,
    parse_chat_sse,
    validate_stream,
)

from app.api.factory import create_app
from app.emulator import create_emulator_app
from app.emulator.app import emulator_state
from app.emulator.script import parse_action
from app.emulator.state import EmulatorState, RecordedRequest
from app.service.azure import Gateway
from app.settings.load import Secret, Settings

DEPLOYMENT = "gpt-4o-mini"
SLOTS = 4
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CHAT_WEATHER = {
    "type": "function",
    "function": {k: WEATHER[k] for k in ("name", "description", "parameters")},
}


class Stack:
    def __init__(self, emulator_url: str, gateway_url: str, state: EmulatorState, gateway: Gateway) -> None:
        self.emulator_url = emulator_url
        self.url = gateway_url
        self.state = state
        self.gateway = gateway

    def script(self, *replies: dict[str, Any]) -> None:
        self.state.enqueue([parse_action(r, i) for i, r in enumerate(replies)])

    def open_gate(self, name: str) -> None:
        httpx.post(f"{self.emulator_url}/_emulator/gates/{name}").raise_for_status()

    def last_request(self) -> RecordedRequest:
        return self.state.requests[-1]


def settings_for(emulator_url: str, **kw: Any) -> Settings:
    fields: dict[str, Any] = {
        "store_url": "memory",  # no store file in the work tree
        "openai_base_url": emulator_url,
        "openai_api_key": Secret("emulator-key"),
        "openai_model": DEPLOYMENT,
        "default_query": {"api-version": "2024-10-21"},
        "num_concurrent_requests": SLOTS,
        "max_retries": 0,  # one Azure reply per request here; retries are tested in test_reliability.py
    }
    fields.update(kw)
    return Settings(**fields)


@pytest.fixture(scope="module")
def servers() -> Iterator[Stack]:
    emulator = create_emulator_app()
    with running(emulator) as emulator_url:
        app = create_app(settings_for(emulator_url))
        with running(app) as gateway_url:
            yield Stack(emulator_url, gateway_url, emulator_state(emulator), app.state["gateway"])


@pytest.fixture
def stack(servers: Stack) -> Iterator[Stack]:
    servers.state.clear()
    yield servers
    assert servers.gateway.client.free_slots == SLOTS, "a stream kept its upstream slot"


def post_stream(stack: Stack, body: dict[str, Any], path: str = "/v1/responses") -> httpx.Response:
    """The whole response (status, headers, body) of a streaming request."""
    with httpx.Client(timeout=30) as client:
        response = client.post(stack.url + path, json={"stream": True, **body})
    return response


def stream_responses(stack: Stack, body: dict[str, Any]) -> StreamResult:
    response = post_stream(stack, {"model": "anything", **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return validate_stream(response.content)


def without_ids(value: Any) -> Any:
    """A Response with ids and clock values blanked, for comparing a streamed one with a JSON one."""
    if isinstance(value, dict):
        return {
            k: "<varies>" if k in ("id", "created_at", "completed_at", "call_id") else without_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def same_as_json(stack: Stack, reply: dict[str, Any], body: dict[str, Any]) -> StreamResult:
    """Stream `body` answered by `reply`, then the same without stream; the Responses must be equal."""
    stack.script(reply, reply)
    streamed = stream_responses(stack, body)
    plain = httpx.post(stack.url + "/v1/responses", json={"model": "anything", **body}, timeout=30)
    assert plain.status_code == 200, plain.text
    assert without_ids(streamed.final) == without_ids(plain.json())
    return streamed


# -- Responses: the happy paths ------------------------------------------------------------------------


def test_text_stream_matches_the_json_response(stack: Stack) -> None:
    result = same_as_json(stack, {"message": {"content": "The sky is blue today."}}, {"input": "Sky?"})
    assert result.terminal == "response.completed"
    assert result.text == "The sky is blue today."
    assert len(result.of_type("response.output_text.delta")) > 3  # word by word, not one blob
    assert result.final["usage"]["output_tokens"] > 0  # stream_options.include_usage was asked for
    sent = stack.state.requests[0].body  # the streamed one (the JSON one came second)
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    message = result.final["output"][0]
    assert {e["item_id"] for e in result.events if "item_id" in e} == {message["id"]}


def test_the_generated_reply_streams_with_every_azure_quirk(stack: Stack) -> None:
    # The emulator's default answer: prompt-filter-only first chunk, filter-only chunk, usage chunk.
    result = stream_responses(stack, {"input": "Hello there"})
    assert result.text == "You said: Hello there"
    assert result.final["status"] == "completed"
    assert stack.last_request().chunks_sent > 0


def test_function_call_stream(stack: Stack) -> None:
    result = same_as_json(
        stack,
        {"message": {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}},
        {"input": "Weather in Paris?", "tools": [WEATHER]},
    )
    (call,) = result.final["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert call["call_id"].startswith("call_") and call["id"].startswith("fc_")
    added = result.of_type("response.output_item.added")[0]["item"]
    assert added["arguments"] == "" and added["call_id"] == call["call_id"] and added["name"] == "get_weather"
    assert len(result.of_type("response.function_call_arguments.delta")) > 1


def test_parallel_tool_calls_are_separate_items(stack: Stack) -> None:
    calls = [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
    ]
    result = same_as_json(
        stack,
        {"message": {"tool_calls": calls}},
        {"input": "Weather in Paris and Tokyo?", "tools": [WEATHER]},
    )
    output = result.final["output"]
    assert [json.loads(c["arguments"])["city"] for c in output] == ["Paris", "Tokyo"]
    assert len({c["id"] for c in output}) == 2
    types = [(e["type"], e.get("output_index")) for e in result.events]
    # Calls stay open side by side until Azure finishes (a later delta may belong to either), then close in order.
    assert types.index(("response.output_item.added", 1)) < types.index(("response.output_item.done", 0))
    assert types.index(("response.output_item.done", 0)) < types.index(("response.output_item.done", 1))


def test_interleaved_parallel_tool_call_deltas(stack: Stack) -> None:
    """Azure may interleave parallel calls' argument deltas (index 0, 1, 0, 1): each call keeps its own."""
    calls = [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}},
        {"function": {"name": "get_weather", "arguments": {"city": "Tokyo", "unit": "kelvin"}}},
    ]
    reply = {"message": {"tool_calls": calls}, "stream": {"interleave_tool_calls": True}}
    result = same_as_json(stack, reply, {"input": "Weather in Paris and Tokyo?", "tools": [WEATHER]})
    assert result.terminal == "response.completed"
    output = result.final["output"]
    assert [json.loads(c["arguments"]) for c in output] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Tokyo", "unit": "kelvin"},
    ]
    indexes = [e["output_index"] for e in result.of_type("response.function_call_arguments.delta")]
    assert indexes[:4] == [0, 1, 0, 1]  # the deltas really did interleave
    done = result.of_type("response.function_call_arguments.done")
    assert [json.loads(e["arguments"])["city"] for e in done] == ["Paris", "Tokyo"]


def test_reasoning_then_text(stack: Stack) -> None:
    reply = {"message": {"reasoning_content": "The user greets me; greet back.", "content": "Hello!"}}
    result = same_as_json(stack, reply, {"input": "Hi"})
    reasoning, message = result.final["output"]
    assert reasoning["type"] == "reasoning" and message["type"] == "message"
    assert reasoning["summary"] == [{"type": "summary_text", "text": "The user greets me; greet back."}]
    assert result.of_type("response.reasoning_summary_part.added")
    assert result.of_type("response.reasoning_summary_text.delta")


def test_refusal(stack: Stack) -> None:
    result = same_as_json(stack, {"message": {"refusal": "I can't help with that."}}, {"input": "Bad idea"})
    (message,) = result.final["output"]
    assert message["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]
    assert "".join(e["delta"] for e in result.of_type("response.refusal.delta")) == "I can't help with that."


@pytest.mark.parametrize(
    ("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")]
)
def test_length_and_content_filter_end_incomplete(stack: Stack, finish: str, reason: str) -> None:
    reply = {"message": {"content": "Once upon a time"}, "finish_reason": finish}
    result = same_as_json(stack, reply, {"input": "Tell me a story"})
    assert result.terminal == "response.incomplete"
    assert result.final["incomplete_details"] == {"reason": reason}
    assert result.final["output"][0]["status"] == "incomplete"


def test_empty_answer_streams_an_empty_message_like_the_json_route(stack: Stack) -> None:
    result = same_as_json(
        stack, {"message": {"content": ""}, "finish_reason": "content_filter"}, {"input": "x"}
    )
    assert result.final["output"][0]["content"] == [
        {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    ]


# -- Responses: failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["error_chunk", "drop"])
def test_mid_stream_failure_ends_with_response_failed(stack: Stack, failure: str) -> None:
    stack.script(
        {
            "message": {"content": "one two three four five six"},
            "stream": {"fail_after": 3, "failure": failure},
        }
    )
    result = stream_responses(stack, {"input": "count"})
    assert result.terminal == "response.failed"
    error = result.final["error"]
    assert error["code"] == "server_error"
    expected = "server had an error" if failure == "error_chunk" else "dropped the connection"
    assert expected in error["message"]
    assert result.text == "one two three "
    (message,) = result.final["output"]
    assert message["status"] == "incomplete"


def test_mid_stream_timeout_ends_with_response_failed(servers: Stack) -> None:
    app = create_app(settings_for(servers.emulator_url, read_timeout=0.3))
    with running(app) as url:
        servers.state.clear()
        servers.script({"message": {"content": "slow answer"}, "stream": {"chunk_delay": 1.0}})
        response = httpx.post(
            url + "/v1/responses", json={"model": "m", "input": "hi", "stream": True}, timeout=30
        )
        result = validate_stream(response.content)
        assert result.terminal == "response.failed"
        assert "timed out mid-stream (read timeout)" in result.final["error"]["message"]
        assert app.state["gateway"].client.free_slots == SLOTS


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (429, {"error": {"code": "429", "message": "Rate limit is exceeded."}}, 429, "429"),
        (
            400,
            {"error": {"code": "content_filter", "message": "filtered", "param": "prompt"}},
            400,
            "content_filter",
        ),
        (401, {"error": {"code": "401", "message": "Access denied"}}, 502, "upstream_auth_failed"),
        (404, {"error": {"code": "DeploymentNotFound", "message": "no"}}, 502, "upstream_not_found"),
        (500, {"error": {"code": "InternalServerError", "message": "boom"}}, 502, "upstream_error"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
def test_errors_before_the_stream_are_json_errors(
    stack: Stack, path: str, status: int, body: dict[str, Any], expected: int, code: str
) -> None:
    stack.script({"status": status, "body": body, "headers": {"retry-after-ms": "1500"}})
    request = (
        {"model": "m", "input": "hi"}
        if path == "/v1/responses"
        else {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    )
    response = post_stream(stack, request, path)
    assert response.status_code == expected
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    if expected == 429:
        assert response.headers["retry-after"] == "2"


def test_unreachable_azure_is_a_json_502(servers: Stack) -> None:
    app = create_app(settings_for(f"http://127.0.0.1:{free_port()}"))
    with running(app) as url:
        for path, body in (
            ("/v1/responses", {"input": "hi"}),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
        ):
            response = httpx.post(url + path, json={"model": "m", "stream": True, **body}, timeout=30)
            assert response.status_code == 502
            assert response.json()["error"]["code"] == "upstream_unavailable"
        assert app.state["gateway"].client.free_slots == SLOTS


# -- Timing and cancellation, proved with gates rather than clocks ------------------------------------


def test_created_arrives_before_azure_sends_any_content(stack: Stack) -> None:
    stack.script({"message": {"content": "gated answer"}, "stream": {"gate": "first-token"}})
    seen: list[str] = []
    body = b""
    with (
        httpx.Client(timeout=httpx.Timeout(10)) as client,
        client.stream(
            "POST", stack.url + "/v1/responses", json={"model": "m", "input": "hi", "stream": True}
        ) as r,
    ):
        lines = r.iter_lines()
        for line in lines:
            body += line.encode() + b"\n"
            if line.startswith("event: "):
                seen.append(line[len("event: ") :])
            if seen == ["response.created", "response.in_progress"] and line.startswith("data: "):
                break
        # The emulator is held at its gate: no answer chunk exists yet, yet both events arrived.
        assert stack.last_request().chunks_sent == 0
        stack.open_gate("first-token")
        for line in lines:
            body += line.encode() + b"\n"
    result = validate_stream(body)
    assert result.text == "gated answer"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
def test_client_disconnect_cancels_azure_and_frees_the_slot(stack: Stack, path: str) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    stack.script({"message": {"content": words}, "stream": {"chunk_delay": 0.02}})
    body = {"model": "m", "stream": True}
    body.update(
        {"input": "hi"} if path == "/v1/responses" else {"messages": [{"role": "user", "content": "hi"}]}
    )
    with httpx.Client(timeout=10) as client, client.stream("POST", stack.url + path, json=body) as r:
        lines = []
        # Keep a reference to the iterator: breaking out of a bare `for line in r.iter_lines()` lets the
        # generator be collected, and httpcore closes the connection when its generator is closed, so the
        # disconnect (and the slot's release) would race the assertion below.
        reader = r.iter_lines()
        for line in reader:
            lines.append(line)
            if len(lines) > 20:
                break
        assert stack.gateway.client.free_slots == SLOTS - 1, lines
    # Leaving the block closed the connection mid-stream.
    record = stack.last_request()
    wait_for(lambda: record.cancelled, "the emulator saw its request cancelled")
    assert record.chunks_sent < 400
    wait_for(lambda: stack.gateway.client.free_slots == SLOTS, "the gateway's slot is free again")


def test_many_concurrent_streams_share_the_slots(stack: Stack) -> None:
    async def main() -> list[StreamResult]:
        async with httpx.AsyncClient(timeout=30) as client:

            async def one(i: int) -> StreamResult:
                r = await client.post(
                    stack.url + "/v1/responses", json={"model": "m", "input": f"number {i}", "stream": True}
                )
                return validate_stream(r.content)

            return await asyncio.gather(*(one(i) for i in range(SLOTS * 3)))

    results = asyncio.run(main())
    assert sorted(r.text for r in results) == sorted(f"You said: number {i}" for i in range(SLOTS * 3))


# -- Chat Completions pass-through ----------------------------------------------------------------------


def test_chat_stream_passes_azure_events_through(stack: Stack) -> None:
    response = post_stream(
        stack,
        {
            "model": "my-model",
            "messages": [{"role": "user", "content": "Hello there"}],
            "stream_options": {"include_usage": True},
        },
        "/v1/chat/completions",
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = parse_chat_sse(response.content)
    assert events[-1] == "[DONE]"
    assert events[0]["choices"] == [] and "prompt_filter_results" in events[0]  # unchanged
    # Azure's filter-only chunk (no delta) arrives with an empty delta for the SDKs' loops, otherwise unchanged.
    (filtered,) = [c for c in events[:-1] if c.get("choices") and "content_filter_offsets" in c["choices"][0]]
    assert filtered["choices"][0]["delta"] == {} and "content_filter_results" in filtered["choices"][0]
    assert events[-2]["choices"] == [] and events[-2]["usage"]["total_tokens"] > 0
    text = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in events[:-1]
        if c["choices"] and "delta" in c["choices"][0]
    )
    assert text == "You said: Hello there"
    assert stack.last_request().body["model"] == DEPLOYMENT


def test_chat_stream_failure_ends_with_an_error_event(stack: Stack) -> None:
    stack.script({"message": {"content": "a b c d e"}, "stream": {"fail_after": 2, "failure": "drop"}})
    response = post_stream(
        stack, {"model": "m", "messages": [{"role": "user", "content": "x"}]}, "/v1/chat/completions"
    )
    events = parse_chat_sse(response.content)
    assert "[DONE]" not in events
    assert events[-1]["error"]["type"] == "server_error"
    assert "dropped the connection mid-stream" in events[-1]["error"]["message"]


def test_chat_stream_passes_azure_error_chunk_through(stack: Stack) -> None:
    stack.script({"message": {"content": "a b c d e"}, "stream": {"fail_after": 2}})
    response = post_stream(
        stack, {"model": "m", "messages": [{"role": "user", "content": "x"}]}, "/v1/chat/completions"
    )
    events = parse_chat_sse(response.content)
    assert events[-1] == {
        "error": {
            "code": "InternalServerError",
            "message": "The server had an error while processing your request. Sorry about that!",
        }
    }


# -- Real clients ---------------------------------------------------------------------------------------


def sdk(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key="unused", max_retries=0)


def test_openai_sdk_responses_create_stream(stack: Stack) -> None:
    events = list(sdk(stack).responses.create(model="m", input="Hello SDK", stream=True))
    assert [e.type for e in events[:2]] == ["response.created", "response.in_progress"]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "You said: Hello SDK"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "You said: Hello SDK"


def test_openai_sdk_responses_stream_helper_with_tools(stack: Stack) -> None:
    stack.script(
        {"message": {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]}}
    )
    with sdk(stack).responses.stream(model="m", input="Weather in Oslo?", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    (call,) = final.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Oslo"} and "".join(deltas) == call.arguments


def test_openai_sdk_responses_stream_helper_text(stack: Stack) -> None:
    with sdk(stack).responses.stream(model="m", input="Stream helper") as stream:
        final = stream.get_final_response()
    assert final.output_text == "You said: Stream helper" and final.status == "completed"
    assert final.usage is not None and final.usage.total_tokens > 0


def test_openai_sdk_chat_completions_stream(stack: Stack) -> None:
    chunks = list(
        sdk(stack).chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "Hello chat"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)
    assert text == "You said: Hello chat"
    assert chunks[-1].usage is not None


def test_openai_sdk_chat_stream_raises_on_mid_stream_failure(stack: Stack) -> None:
    stack.script({"message": {"content": "a b c d e"}, "stream": {"fail_after": 2, "failure": "drop"}})
    with pytest.raises(openai.APIError):
        list(
            sdk(stack).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], stream=True
            )
        )


def test_openai_sdk_chat_stream_with_parallel_tool_calls(stack: Stack) -> None:
    calls = [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
    ]
    stack.script({"message": {"tool_calls": calls}})
    chunks = list(
        sdk(stack).chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            tools=[CHAT_WEATHER],
            stream=True,  # type: ignore[list-item]
        )
    )
    arguments: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for call in (choice.delta.tool_calls or []) if choice.delta else []:
                arguments[call.index] = arguments.get(call.index, "") + (call.function.arguments or "")
    assert {i: json.loads(a)["city"] for i, a in arguments.items()} == {0: "Paris", 1: "Rome"}


def test_agents_sdk_streamed_run_calls_the_tool_and_answers(stack: Stack) -> None:
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    set_tracing_disabled(True)
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        calls.append(city)
        return f"Sunny and 21C in {city}"

    async def main() -> tuple[Any, list[str]]:
        client = openai.AsyncOpenAI(base_url=stack.url + "/v1", api_key="unused", max_retries=0)
        agent = Agent(
            name="weather",
            instructions="Answer weather questions with the tool.",
            model=OpenAIResponsesModel(model="m", openai_client=client),
            tools=[get_weather],
        )
        result = Runner.run_streamed(agent, "What is the weather in Paris?")
        kinds = [event.type async for event in result.stream_events()]
        await client.close()
        return result, kinds

    result, kinds = asyncio.run(main())
    assert calls == ["Paris"]
    assert "raw_response_event" in kinds
    assert result.final_output == "Based on the tool result: Sunny and 21C in Paris"
    # The second turn sent the tool call and its output back through the gateway to Azure.
    roles = [m["role"] for m in stack.last_request().body["messages"]]
    assert roles[-2:] == ["assistant", "tool"]


# -- Conformance (needs ../shared) ----------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.skipif(not SPECS_PRESENT, reason=SKIP_REASON)
def test_every_event_kind_validates_against_both_official_schemas(stack: Stack) -> None:
    stack.script(
        {"message": {"reasoning_content": "Think first.", "content": "Answer."}},
        {"message": {"refusal": "No."}},
        {"message": {"tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]}},
        {"message": {"content": "cut short"}, "finish_reason": "length"},
        {"message": {"content": "a b c d"}, "stream": {"fail_after": 2}},
    )
    kinds: set[str] = set()
    for body in (
        {"input": "a"},
        {"input": "b"},
        {"input": "c", "tools": [WEATHER]},
        {"input": "d"},
        {"input": "e"},
    ):
        result = stream_responses(stack, body)
        assert result.schema_checked
        kinds |= set(result.types())
    assert kinds >= {
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.refusal.delta",
        "response.refusal.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
    }


@pytest.mark.shared
@pytest.mark.skipif(not SPECS_PRESENT, reason=SKIP_REASON)
def test_the_validator_rejects_an_event_outside_the_schemas() -> None:
    bad = {
        "type": "response.output_text.delta",
        "sequence_number": 0,
        "item_id": "m",
        "output_index": 0,
        "content_index": 0,
        "delta": "x",
    }
    with pytest.raises(AssertionError, match="OpenAI schema"):
        check_schemas(bad)  # OpenAI requires logprobs
    # Valid for OpenAI, unknown to Open Responses (which names it response.reasoning.delta).
    reasoning_text = {
        "type": "response.reasoning_text.delta",
        "sequence_number": 0,
        "item_id": "rs",
        "output_index": 0,
        "content_index": 0,
        "delta": "x",
    }
    with pytest.raises(AssertionError, match="Open Responses's streaming union has no event type"):
        check_schemas(reasoning_text)
