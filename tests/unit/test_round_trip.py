"""The round-trip property: whatever the gateway returns, a client can send back, and it means the same thing.

Azure's answer is generated (text, refusal, reasoning, and calls of every kind of client tool: function,
namespaced function, custom, client tool search), translated into output items, and each item is dumped the
ways real clients replay them: the openai SDK's `model_dump()` (nulls kept) and `model_dump(exclude_none=True)`,
Codex's shape and NeMo Gym's (reasoning with `content: null, encrypted_content: null`; Codex's
`function_call_output` with an `fco_` id and `custom_tool_call_output` as `input_text` parts). The replay,
with each call's output after it, must decode and become the very assistant turn Azure produced.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import ResponseOutputItem

from app.models import generated as m
from app.translate import TranslationOptions, capabilities_for, chat_to_response, responses_to_chat
from app.translate.tools import chat_function_name, tool_set
from app.wire.decode import decode_create_response

OPTIONS = TranslationOptions(deployment="d", capabilities=capabilities_for("2025-04-01-preview"))
SDK_ITEM: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseOutputItem)

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {}}},
    {
        "type": "namespace",
        "name": "multi_agent_v1",
        "description": "Sub-agents.",
        "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}],
    },
    {
        "type": "custom",
        "name": "apply_patch",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
    },
    {"type": "tool_search", "execution": "client", "parameters": {"type": "object", "properties": {}}},
    {"type": "web_search", "external_web_access": False},
]
CHAT_NAMES = ["exec_command", chat_function_name("spawn_agent", "multi_agent_v1"), "apply_patch", "tool_search"]

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | text, lambda inner: st.dictionaries(text, inner, max_size=3)
)


@st.composite
def tool_call(draw: st.DrawFn, index: int) -> dict[str, Any]:
    name = draw(st.sampled_from(CHAT_NAMES))
    if name == "apply_patch":
        arguments = json.dumps({"input": draw(text)})
    else:
        arguments = json.dumps(draw(st.dictionaries(text, json_value, max_size=3)))
    return {"id": f"call_{index}_{draw(st.integers(0, 10**6))}", "type": "function",
            "function": {"name": name, "arguments": arguments}}  # fmt: skip


@st.composite
def azure_message(draw: st.DrawFn) -> dict[str, Any]:
    calls = [draw(tool_call(i)) for i in range(draw(st.integers(0, 3)))]
    content = draw(st.none() | text.filter(bool))
    refusal = draw(st.none() | text.filter(bool))
    if not (content or refusal or calls):
        content = "hello"
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if calls:
        message["tool_calls"] = calls
    if draw(st.booleans()):
        message["reasoning_content"] = draw(text.filter(bool))
    return message


def codex_shape(item: dict[str, Any]) -> dict[str, Any]:
    """How Codex replays an item: only its own fields, reasoning with content and encrypted_content null."""
    if item["type"] == "reasoning":
        return {"type": "reasoning", "id": item["id"], "summary": item["summary"], "content": None,
                "encrypted_content": None}  # fmt: skip
    keep = {
        "message": ("type", "id", "role", "content"),
        "function_call": ("type", "status", "id", "name", "namespace", "arguments", "call_id"),
        "custom_tool_call": ("type", "status", "id", "call_id", "name", "input"),
        "tool_search_call": ("type", "id", "call_id", "status", "execution", "arguments"),
    }[item["type"]]
    return {key: item[key] for key in keep if item.get(key) is not None}


def nemo_gym_shape(item: dict[str, Any]) -> dict[str, Any]:
    """NeMo Gym's openai_model server: the item as returned, reasoning with content/encrypted_content null."""
    if item["type"] == "reasoning":
        return {**item, "content": None, "encrypted_content": None}
    return item


DUMPS = {
    "model_dump": lambda item: SDK_ITEM.validate_python(item).model_dump(),
    "model_dump_exclude_none": lambda item: SDK_ITEM.validate_python(item).model_dump(exclude_none=True),
    "codex": codex_shape,
    "nemo_gym": nemo_gym_shape,
}


def outputs_for(item: dict[str, Any], style: str) -> list[dict[str, Any]]:
    """What the client sends back after a call: its output item."""
    kind = item["type"]
    if kind == "function_call":
        fco: dict[str, Any] = {"type": "function_call_output", "call_id": item["call_id"], "output": "ok"}
        if style == "codex":
            fco["id"] = "fco_01a237a2-225a-7680-bdb0-ca18dc5c472c"
        elif style == "nemo_gym":
            del fco["type"]  # NeMo Gym's loop sends {"call_id", "output"}
        return [fco]
    if kind == "custom_tool_call":
        output: Any = [{"type": "input_text", "text": "ok"}] if style == "codex" else "ok"
        return [{"type": "custom_tool_call_output", "call_id": item["call_id"], "output": output}]
    if kind == "tool_search_call":
        return [{"type": "tool_search_output", "call_id": item["call_id"], "execution": "client",
                 "status": "completed", "tools": []}]  # fmt: skip
    return []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=azure_message(), style=st.sampled_from(sorted(DUMPS)))
def test_every_output_item_replays_as_the_turn_azure_produced(message: dict[str, Any], style: str) -> None:
    check_round_trip(message, style)


EVERYTHING = {
    "role": "assistant",
    "content": "Running it.",
    "refusal": "Not that part.",
    "reasoning_content": "Think first.",
    "tool_calls": [
        {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
        for i, (name, arguments) in enumerate(
            [
                ("exec_command", '{"cmd": "ls"}'),
                (chat_function_name("spawn_agent", "multi_agent_v1"), '{"task": "x"}'),
                ("apply_patch", '{"input": "*** Begin Patch\\n*** End Patch"}'),
                ("tool_search", '{"query": "calendar", "limit": 2}'),
            ]
        )
    ],
}


@pytest.mark.parametrize("style", sorted(DUMPS))
def test_every_item_kind_at_once(style: str) -> None:
    kinds = check_round_trip(EVERYTHING, style)
    assert kinds == {"message", "reasoning", "function_call", "custom_tool_call", "tool_search_call"}


def check_round_trip(message: dict[str, Any], style: str) -> set[str]:
    request = msgspec.convert({"input": "go", "tools": TOOLS}, m.CreateResponse)
    chat = msgspec.convert(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt",
         "choices": [{"index": 0, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                      "message": message}]},
        m.CreateChatCompletionResponse,
    )  # fmt: skip
    response = chat_to_response(chat, request, OPTIONS, tool_set(request, OPTIONS))
    produced = msgspec.to_builtins(response.output)
    kinds = {item["type"] for item in produced}
    assert kinds <= {"message", "reasoning", "function_call", "custom_tool_call", "tool_search_call"}

    replay: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    replay += [DUMPS[style](item) for item in produced]
    for item in produced:
        replay += outputs_for(item, style)
    body = msgspec.json.encode({"input": replay, "tools": TOOLS})
    again = decode_create_response(body)  # every dump decodes, nulls and all
    sent = msgspec.to_builtins(responses_to_chat(again, OPTIONS))

    assistants = [msg for msg in sent["messages"] if msg["role"] == "assistant"]
    assert len(assistants) == 1, sent["messages"]
    (assistant,) = assistants
    assert (assistant.get("content") or None) == message["content"]
    assert assistant.get("refusal") == message["refusal"]
    expected_calls = message.get("tool_calls") or []
    got_calls = assistant.get("tool_calls") or []
    assert [(c["id"], c["function"]["name"]) for c in got_calls] == [
        (c["id"], c["function"]["name"]) for c in expected_calls
    ]
    for got, expected in zip(got_calls, expected_calls, strict=True):
        assert json.loads(got["function"]["arguments"]) == json.loads(expected["function"]["arguments"])
    tool_results = [msg["tool_call_id"] for msg in sent["messages"] if msg["role"] == "tool"]
    assert tool_results == [c["id"] for c in expected_calls]
    # The hosted tool was left out, the client tools offered as functions.
    assert [tool["function"]["name"] for tool in sent["tools"]] == CHAT_NAMES
    return kinds


def _chunks(message: dict[str, Any]) -> list[bytes]:
    """Azure's stream for `message`: reasoning, text and refusal in two pieces each, then each call (its id
    and name first, its arguments split in two), then the finish reason."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "finish_reason": finish, "delta": delta}
        return msgspec.json.encode({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt",
                                    "choices": [choice]})  # fmt: skip

    def halves(text: str) -> list[str]:
        return [text[: len(text) // 2], text[len(text) // 2 :]]

    out = [chunk({"role": "assistant"})]
    for key in ("reasoning_content", "content", "refusal"):
        if message.get(key):
            out += [chunk({key: piece}) for piece in halves(message[key]) if piece]
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        out.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                          "function": {"name": function["name"], "arguments": ""}}]}))  # fmt: skip
        out += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in halves(function["arguments"])
            if piece
        ]
    out.append(chunk({}, "tool_calls" if message.get("tool_calls") else "stop"))
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=azure_message())
def test_streamed_items_equal_the_json_items(message: dict[str, Any]) -> None:
    """Every item kind, streamed: the final Response's items are the JSON route's, ids aside."""
    from app.translate.stream import ResponseStream

    request = msgspec.convert({"input": "go", "tools": TOOLS, "stream": True}, m.CreateResponse)
    tools = tool_set(request, OPTIONS)
    chat = msgspec.convert(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt",
         "choices": [{"index": 0, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                      "message": message}]},
        m.CreateChatCompletionResponse,
    )  # fmt: skip
    expected = msgspec.to_builtins(chat_to_response(chat, request, OPTIONS, tools).output)
    stream = ResponseStream(request, OPTIONS, tools=tools)
    events = stream.start()
    for data in _chunks(message):
        events += stream.feed(data)
    events += stream.complete()
    final = msgspec.to_builtins(events[-1]).get("response", {}).get("output")
    done = [msgspec.to_builtins(e)["item"] for e in events if isinstance(e, m.ResponseOutputItemDoneEvent)]
    added = [msgspec.to_builtins(e)["item"]["type"] for e in events if isinstance(e, m.ResponseOutputItemAddedEvent)]

    def without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "id"} for item in items]

    assert without_ids(final) == without_ids(expected)
    assert done == final and added == [item["type"] for item in final]
