"""`POST /v1/chat/completions` end to end: forwarded to the Azure emulator, Azure's body returned unchanged."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from conftest import API_VERSION, CHAT_PATH, DEPLOYMENT, Emulator

pytestmark = pytest.mark.usefixtures("clean_emulator")

HI = [{"role": "user", "content": "hi"}]


def _error(reply: httpx.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def test_sdk_with_model(client: openai.OpenAI, emulator: Emulator) -> None:
    completion = client.chat.completions.create(model="gpt-4o", messages=HI)  # type: ignore[arg-type]
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    received = emulator.last_request()
    assert received["path"] == CHAT_PATH
    assert received["query"] == {"api-version": API_VERSION}
    assert received["body"] == {"messages": HI, "model": DEPLOYMENT}


def test_raw_post_without_model(http: httpx.Client, emulator: Emulator) -> None:
    reply = http.post("/v1/chat/completions", json={"messages": HI})
    assert reply.status_code == 200, reply.text
    received = emulator.last_request()
    assert received["path"] == CHAT_PATH
    assert received["body"]["model"] == DEPLOYMENT


def test_azure_body_passed_through_unchanged(http: httpx.Client, emulator: Emulator) -> None:
    azure_body = {
        "choices": [
            {
                "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}},
                "finish_reason": "stop",
                "index": 0,
                "logprobs": None,
                "message": {"role": "assistant", "content": "hello", "refusal": None},
            }
        ],
        "created": 1700000000,
        "id": "chatcmpl-fixed",
        "model": "gpt-4o-mini-2024-07-18",
        "object": "chat.completion",
        "prompt_filter_results": [
            {"prompt_index": 0, "content_filter_results": {"jailbreak": {"filtered": False, "detected": False}}}
        ],
        "system_fingerprint": "fp_x",
        "usage": {"completion_tokens": 1, "prompt_tokens": 2, "total_tokens": 3},
    }
    raw = json.dumps(azure_body, indent=1)  # odd spacing proves the gateway sends Azure's bytes
    emulator.script({"status": 200, "body": raw})
    reply = http.post("/v1/chat/completions", json={"messages": HI})
    assert reply.status_code == 200
    assert reply.text == raw
    assert reply.headers["content-type"].startswith("application/json")


def test_generated_reply_keeps_azure_extras(http: httpx.Client) -> None:
    body = http.post("/v1/chat/completions", json={"model": "x", "messages": HI}).json()
    assert "prompt_filter_results" in body
    assert all("content_filter_results" in choice for choice in body["choices"])
    assert body["model"] == "gpt-4o-mini-2024-07-18"  # Azure reports the model version, passed on as is


def test_developer_message_sent_as_system(client: openai.OpenAI, emulator: Emulator) -> None:
    client.chat.completions.create(
        model="m",
        messages=[{"role": "developer", "content": "Be terse."}, {"role": "user", "content": "hi"}],
    )
    assert emulator.last_body()["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi"},
    ]


def test_tools_forwarded(client: openai.OpenAI, emulator: Emulator) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": False,
        },
    }
    completion = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[tool],  # type: ignore[list-item]
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert json.loads(call.function.arguments)["city"] == "Paris"  # type: ignore[union-attr]
    assert emulator.last_body()["tools"] == [tool]


def test_unknown_parameter(http: httpx.Client, emulator: Emulator) -> None:
    error = _error(http.post("/v1/chat/completions", json={"messages": HI, "frobnicate": True}), 400)
    assert error["param"] == "frobnicate"
    assert emulator.requests() == []


def test_reasoning_effort_needs_newer_api_version(http: httpx.Client, emulator: Emulator) -> None:
    error = _error(http.post("/v1/chat/completions", json={"messages": HI, "reasoning_effort": "low"}), 400)
    assert error["param"] == "reasoning_effort"
    assert "2024-12-01-preview" in error["message"]
    assert emulator.requests() == []


def test_missing_messages(http: httpx.Client) -> None:
    error = _error(http.post("/v1/chat/completions", json={"model": "x"}), 400)
    assert error["param"] == "messages"


def test_invalid_json(http: httpx.Client) -> None:
    _error(http.post("/v1/chat/completions", content=b"{", headers={"content-type": "application/json"}), 400)


def test_azure_error_passed_on(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script(
        {
            "status": 400,
            "body": {
                "error": {
                    "message": "Invalid value for 'temperature'.",
                    "type": "invalid_request_error",
                    "param": "temperature",
                    "code": "invalid_value",
                }
            },
        }
    )
    error = _error(http.post("/v1/chat/completions", json={"messages": HI}), 400)
    assert error["message"] == "Invalid value for 'temperature'."
    assert error["param"] == "temperature"


def test_azure_401_is_502(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script({"status": 401, "body": {"error": {"code": "401", "message": "Access denied"}}})
    error = _error(http.post("/v1/chat/completions", json={"messages": HI}), 502)
    assert "credentials" in error["message"]
