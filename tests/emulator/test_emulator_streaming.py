"""The emulator's `stream: true`: Azure's chunk sequence and quirks, seen by the real AzureOpenAI SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from support.servers import running
from support.stream_validator import parse_chat_sse

from app.emulator import create_emulator_app
from app.emulator.app import emulator_state
from app.emulator.script import parse_action
from app.emulator.state import EmulatorState

URL = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    app = create_emulator_app()
    with running(app) as url:
        yield url, emulator_state(app)


def raw_stream(
    emulator: tuple[str, EmulatorState], body: dict[str, Any], *replies: dict[str, Any]
) -> list[Any]:
    url, state = emulator
    state.clear()
    state.enqueue([parse_action(r) for r in replies])
    response = httpx.post(
        url + URL, headers={"api-key": "emulator-key"}, json={"stream": True, **body}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_chat_sse(response.content)


def test_text_stream_has_azures_shape(emulator: tuple[str, EmulatorState]) -> None:
    events = raw_stream(
        emulator,
        {
            "messages": [{"role": "user", "content": "Hello there friend"}],
            "stream_options": {"include_usage": True},
        },
    )
    first, role, *middle, filter_only, finish, usage, done = events
    assert first["choices"] == [] and first["prompt_filter_results"] and first["object"] == ""
    assert role["choices"][0]["delta"] == {"content": "", "refusal": None, "role": "assistant"}
    assert "".join(c["choices"][0]["delta"]["content"] for c in middle) == "You said: Hello there friend"
    assert len(middle) == 5
    assert "delta" not in filter_only["choices"][0] and filter_only["choices"][0]["content_filter_results"]
    assert finish["choices"][0]["finish_reason"] == "stop" and finish["choices"][0]["delta"] == {}
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] > 0
    assert done == "[DONE]"


def test_no_usage_chunk_unless_asked(emulator: tuple[str, EmulatorState]) -> None:
    events = raw_stream(emulator, {"messages": [{"role": "user", "content": "hi"}]})
    assert all("usage" not in e for e in events[:-1])


def test_parallel_tool_calls_stream_one_after_the_other_with_empty_first_arguments(
    emulator: tuple[str, EmulatorState],
) -> None:
    calls = [{"function": {"name": "get_weather", "arguments": {"city": c}}} for c in ("Paris", "Rome")]
    events = raw_stream(
        emulator,
        {"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER]},
        {"message": {"tool_calls": calls}},
    )
    parts = [c["choices"][0]["delta"]["tool_calls"][0] for c in events[2:-3]]
    starts = [p for p in parts if "id" in p]
    assert [(p["index"], p["function"]) for p in starts] == [
        (0, {"name": "get_weather", "arguments": ""}),
        (1, {"name": "get_weather", "arguments": ""}),
    ]
    indexes = [p["index"] for p in parts]
    assert indexes == sorted(indexes)
    for index, city in ((0, "Paris"), (1, "Rome")):
        arguments = "".join(p["function"]["arguments"] for p in parts if p["index"] == index)
        assert json.loads(arguments) == {"city": city}
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_scripted_finish_reason_and_error_chunk(emulator: tuple[str, EmulatorState]) -> None:
    body = {"messages": [{"role": "user", "content": "x"}]}
    events = raw_stream(emulator, body, {"message": {"content": "a b c"}, "finish_reason": "length"})
    assert events[-2]["choices"][0]["finish_reason"] == "length"
    events = raw_stream(emulator, body, {"message": {"content": "a b c d"}, "stream": {"fail_after": 2}})
    assert "error" in events[-1] and "[DONE]" not in events
    assert emulator[1].requests[-1].chunks_sent == 2


def test_dropped_connection(emulator: tuple[str, EmulatorState]) -> None:
    url, state = emulator
    state.clear()
    state.enqueue(
        [parse_action({"message": {"content": "a b c d"}, "stream": {"fail_after": 1, "failure": "drop"}})]
    )
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            url + URL,
            headers={"api-key": "emulator-key"},
            json={"stream": True, "messages": [{"role": "user", "content": "x"}]},
            timeout=30,
        )
    assert not state.requests[-1].cancelled  # a scripted drop is not a client cancellation


def test_azure_sdk_reads_the_stream(emulator: tuple[str, EmulatorState]) -> None:
    url, state = emulator
    state.clear()
    client = openai.AzureOpenAI(
        azure_endpoint=url, api_key="emulator-key", api_version="2024-10-21", max_retries=0
    )
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Hello SDK"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)
    assert text == "You said: Hello SDK"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_interleaved_tool_calls_alternate_by_index_and_join_back(emulator: tuple[str, EmulatorState]) -> None:
    calls = [
        {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}},
    ]
    reply = {"message": {"tool_calls": calls}, "stream": {"interleave_tool_calls": True}}
    events = raw_stream(emulator, {"messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER]}, reply)
    parts = [
        call
        for event in events
        if isinstance(event, dict)
        for choice in event["choices"]
        for call in (choice.get("delta") or {}).get("tool_calls") or []
    ]
    assert [p["index"] for p in parts[:4]] == [0, 1, 0, 1]
    assert [p["id"] for p in parts[:2] if "id" in p] and parts[0]["id"] != parts[1]["id"]
    joined = ["".join(p["function"].get("arguments", "") for p in parts if p["index"] == i) for i in (0, 1)]
    assert [json.loads(a) for a in joined] == [{"city": "Paris"}, {"city": "Tokyo"}]
