"""End-to-end tests of the Azure OpenAI emulator over a real loopback socket.

One emulator serves the whole module (starting uvicorn per test would dominate the run time); an autouse
fixture wipes its recorded requests and script before each test so tests stay independent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from support.servers import running

from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app, emulator_state
from app.emulator.samples import SampleContext, sample

KEY = "emulator-key"
GA = "2024-10-21"
DEPLOYMENT = "gpt-4o-mini"
CHAT = f"/openai/deployments/{DEPLOYMENT}/chat/completions"
SHARED_SPEC = (
    Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "azure-inference-2024-10-21.json"
)

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
STOCK_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_stock_price",
        "description": "Look up a stock quote by ticker symbol",
        "parameters": {
            "type": "object",
            "properties": {"ticker": {"type": "string"}},
            "required": ["ticker"],
        },
    },
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState()
    app = create_emulator_app(EmulatorConfig(deployments=(DEPLOYMENT, "other")), state=state)
    assert emulator_state(app) is state
    with running(app) as base:
        yield base, state


@pytest.fixture
def base(emulator: tuple[str, EmulatorState]) -> str:
    return emulator[0]


@pytest.fixture
def state(emulator: tuple[str, EmulatorState]) -> EmulatorState:
    return emulator[1]


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as c:
        assert c.delete("/_emulator/requests").status_code == 204
        yield c


def chat(
    client: httpx.Client,
    body: dict[str, Any],
    *,
    version: str | None = GA,
    headers: dict[str, str] | None = None,
    path: str = CHAT,
) -> httpx.Response:
    params = {"api-version": version} if version is not None else {}
    return client.post(
        path, params=params, json=body, headers={"api-key": KEY} if headers is None else headers
    )


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


# Transport: auth, api-version, deployment ----------------------------------------------------------------


def test_wrong_or_missing_key_is_azure_401(client: httpx.Client) -> None:
    for headers in ({"api-key": "wrong"}, {}, {"Authorization": "Bearer wrong"}):
        response = chat(client, user("hi"), headers=headers)
        assert response.status_code == 401
        error = error_of(response)
        assert error["code"] == "401"
        assert error["message"].startswith(("Access denied", "Unauthorized"))
        assert response.headers["apim-request-id"]
    assert chat(client, user("hi"), headers={"api-key": "wrong"}).json() == {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
            "provide a valid key for an active subscription and use a correct regional API endpoint for "
            "your resource.",
        }
    }


def test_bearer_token_is_accepted(client: httpx.Client) -> None:
    response = chat(client, user("hi"), headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200


def test_missing_api_version_is_404(client: httpx.Client) -> None:
    response = chat(client, user("hi"), version=None)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_unknown_api_version_is_400(client: httpx.Client) -> None:
    response = chat(client, user("hi"), version="2023-99-99")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": "API version not supported"}}


def test_unknown_deployment_is_404(client: httpx.Client) -> None:
    response = chat(client, user("hi"), path="/openai/deployments/nope/chat/completions")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "DeploymentNotFound"
    assert error["message"].startswith("The API deployment for this resource does not exist.")


def test_unknown_route_is_azure_404(client: httpx.Client) -> None:
    response = client.get("/openai/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


# Body validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "needle"),
    [
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "Invalid type"),
        ({}, "messages", "Missing required parameter"),
        ({"messages": []}, "messages", "messages"),
        ({"messages": [{"role": "user", "content": "x", "bogus": 1}]}, "messages[0].bogus", "bogus"),
        ({**user("x"), "temperature": 3}, "temperature", "temperature"),
        ({**user("x"), "n": "2"}, "n", "Invalid type"),
        ({**user("x"), "response_format": {"type": "yaml"}}, "response_format.type", "yaml"),
        (
            {"messages": [{"role": "tool", "content": "x", "tool_call_id": "call_1"}]},
            "messages.[0].role",
            "tool",
        ),
    ],
)
def test_invalid_body_is_400_naming_the_field(
    client: httpx.Client, body: dict[str, Any], param: str, needle: str
) -> None:
    response = chat(client, body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert needle in error["message"]


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        CHAT,
        params={"api-version": GA},
        content=b"{not json",
        headers={"api-key": KEY, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "could not parse the JSON body" in error_of(response)["message"]


def test_unknown_top_level_field_is_unrecognized_argument(client: httpx.Client) -> None:
    response = chat(client, {**user("x"), "frobnicate": True})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Unrecognized request argument supplied: frobnicate",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_model_in_body_is_ignored(client: httpx.Client) -> None:
    response = chat(client, {**user("hi"), "model": "whatever"})
    assert response.status_code == 200
    assert response.json()["model"] == "gpt-4o-mini-2024-07-18"


# api-version feature gating ------------------------------------------------------------------------------


def test_developer_role_rejected_at_ga_accepted_at_preview(client: httpx.Client) -> None:
    body = {"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"}]}
    response = chat(client, body, version=GA)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Invalid value: 'developer'. Supported values are: 'system', 'assistant', 'user', "
            "'function', and 'tool'.",
            "type": "invalid_request_error",
            "param": "messages[0].role",
            "code": "invalid_value",
        }
    }
    assert chat(client, body, version="2024-12-01-preview").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "rejected_at", "accepted_at"),
    [
        ("reasoning_effort", "low", GA, "2024-12-01-preview"),
        ("store", True, GA, "preview"),
        ("metadata", {"a": "b"}, GA, "latest"),
        ("max_completion_tokens", 50, "2024-06-01", GA),
        ("stream_options", {"include_usage": True}, "2024-08-01-preview", "2024-09-01-preview"),
    ],
)
def test_version_gated_fields(
    client: httpx.Client, field: str, value: Any, rejected_at: str, accepted_at: str
) -> None:
    body = {**user("hi"), field: value}
    if field == "stream_options":
        body["stream"] = False
    rejected = chat(client, body, version=rejected_at)
    assert rejected.status_code == 400
    assert error_of(rejected)["message"] == f"Unrecognized request argument supplied: {field}"
    assert chat(client, body, version=accepted_at).status_code == 200, field


def test_every_known_version_answers(client: httpx.Client) -> None:
    from app.emulator import KNOWN_API_VERSIONS

    for version in KNOWN_API_VERSIONS:
        assert chat(client, user("hi"), version=version).status_code == 200, version


# Generated answers --------------------------------------------------------------------------------------


def test_text_answer_echoes_user_in_azure_shape(client: httpx.Client) -> None:
    response = chat(client, user("Say hi"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.headers["apim-request-id"]) == 36
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini-2024-07-18"
    assert body["system_fingerprint"]
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"] == {"role": "assistant", "content": "You said: Say hi", "refusal": None}
    safe = {"filtered": False, "severity": "safe"}
    assert choice["content_filter_results"] == {
        "hate": safe,
        "self_harm": safe,
        "sexual": safe,
        "violence": safe,
    }
    (prompt_filter,) = body["prompt_filter_results"]
    assert prompt_filter["prompt_index"] == 0
    assert prompt_filter["content_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == 5  # You / said / : / Say / hi
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    # Deterministic: same request, same content and usage.
    again = chat(client, user("Say hi")).json()
    assert again["choices"][0]["message"] == choice["message"]
    assert again["usage"] == usage


def test_content_parts_are_read(client: httpx.Client) -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}],
            }
        ]
    }
    assert chat(client, body).json()["choices"][0]["message"]["content"] == "You said: Hello\nthere"


def test_weather_question_calls_get_weather_with_paris(client: httpx.Client) -> None:
    location_tool = copy.deepcopy(WEATHER_TOOL)
    params = location_tool["function"]["parameters"]
    params["properties"] = {"location": params["properties"].pop("city"), **params["properties"]}
    params["required"] = ["location"]
    for tool in (WEATHER_TOOL, location_tool):
        body = {**user("What's the weather in Paris?"), "tools": [tool, STOCK_TOOL]}
        response = chat(client, body)
        assert response.status_code == 200, response.text
        (choice,) = response.json()["choices"]
        assert choice["finish_reason"] == "tool_calls"
        message = choice["message"]
        assert message["content"] is None
        (call,) = message["tool_calls"]
        assert call["type"] == "function"
        assert call["id"].startswith("call_") and len(call["id"]) == 29 and call["id"][5:].isalnum()
        assert call["function"]["name"] == "get_weather"
        arguments = json.loads(call["function"]["arguments"])
        jsonschema.validate(arguments, tool["function"]["parameters"])
        assert arguments.get("city", arguments.get("location")) == "Paris"


def test_no_tool_call_when_nothing_matches_or_tool_choice_none(client: httpx.Client) -> None:
    body = {**user("Tell me a joke"), "tools": [WEATHER_TOOL]}
    assert chat(client, body).json()["choices"][0]["message"]["content"] == "You said: Tell me a joke"
    body = {**user("What's the weather in Paris?"), "tools": [WEATHER_TOOL], "tool_choice": "none"}
    assert chat(client, body).json()["choices"][0]["finish_reason"] == "stop"


def test_required_and_named_tool_choice_force_a_call(client: httpx.Client) -> None:
    body = {**user("Tell me a joke"), "tools": [WEATHER_TOOL, STOCK_TOOL], "tool_choice": "required"}
    calls = chat(client, body).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather"]
    named = {"type": "function", "function": {"name": "get_stock_price"}}
    calls = chat(client, {**body, "tool_choice": named}).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_stock_price"]


def test_parallel_calls_and_parallel_false(client: httpx.Client) -> None:
    body = {**user("Weather in Paris and the stock quote for MSFT"), "tools": [WEATHER_TOOL, STOCK_TOOL]}
    calls = chat(client, body).json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_stock_price"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "Paris", "unit": "celsius"},
        {"ticker": "MSFT"},
    ]
    assert len({c["id"] for c in calls}) == 2
    calls = chat(client, {**body, "parallel_tool_calls": False}).json()["choices"][0]["message"]["tool_calls"]
    assert len(calls) == 1


def test_final_answer_uses_tool_result(client: httpx.Client) -> None:
    first = chat(client, {**user("What's the weather in Paris?"), "tools": [WEATHER_TOOL]}).json()
    assistant = first["choices"][0]["message"]
    call_id = assistant["tool_calls"][0]["id"]
    body = {
        "messages": [
            {"role": "user", "content": "What's the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": assistant["tool_calls"]},
            {"role": "tool", "tool_call_id": call_id, "content": "18C and sunny"},
        ],
        "tools": [WEATHER_TOOL],
    }
    response = chat(client, body)
    assert response.status_code == 200, response.text
    (choice,) = response.json()["choices"]
    assert choice["finish_reason"] == "stop"
    assert "18C and sunny" in choice["message"]["content"]
    assert "tool_calls" not in choice["message"]


def test_unanswered_tool_call_is_400(client: httpx.Client) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "user", "content": "well?"},
        ]
    }
    response = chat(client, body)
    assert response.status_code == 400
    assert "call_a" in error_of(response)["message"]


def test_json_schema_response_format_is_valid(client: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
            "kind": {"type": "string", "enum": ["fact", "opinion"]},
            "source": {
                "type": "object",
                "properties": {
                    "year": {"type": "integer", "minimum": 1900},
                    "url": {"type": ["string", "null"]},
                },
                "required": ["year", "url"],
                "additionalProperties": False,
            },
        },
        "required": ["answer", "confidence", "tags", "kind", "source"],
        "additionalProperties": False,
    }
    body = {
        **user("Is the sky blue?"),
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": schema, "strict": True},
        },
    }
    response = chat(client, body)
    assert response.status_code == 200, response.text
    content = json.loads(response.json()["choices"][0]["message"]["content"])
    jsonschema.validate(content, schema)
    assert "Is the sky blue?" in content["answer"]


def test_json_object_response_format(client: httpx.Client) -> None:
    body = {**user("hi"), "response_format": {"type": "json_object"}}
    content = json.loads(chat(client, body).json()["choices"][0]["message"]["content"])
    assert isinstance(content, dict) and content


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_length_truncation(client: httpx.Client, field: str) -> None:
    body = {**user("one two three four five six"), field: 4}
    (choice,) = chat(client, body).json()["choices"]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == "You said: one"
    assert chat(client, {**body, field: 100}).json()["choices"][0]["finish_reason"] == "stop"


def test_n_choices(client: httpx.Client) -> None:
    body = chat(client, {**user("hi"), "n": 3}).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 3 * 4


# Test hooks ---------------------------------------------------------------------------------------------


def test_scripted_replies_are_consumed_in_order(client: httpx.Client, state: EmulatorState) -> None:
    script = {
        "replies": [
            {"message": {"content": "scripted one"}, "usage": {"prompt_tokens": 7}},
            {
                "status": 429,
                "body": {"error": {"code": "429", "message": "Rate limit"}},
                "headers": {"retry-after-ms": "10"},
            },
            {
                "message": {
                    "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]
                }
            },
        ]
    }
    queued = client.post("/_emulator/script", json=script)
    assert queued.status_code == 200 and queued.json() == {"queued": 3, "pending": 3}
    assert [entry["kind"] for entry in client.get("/_emulator/script").json()] == [
        "ScriptedReply",
        "ScriptedResponse",
        "ScriptedReply",
    ]

    # An invalid request does not use up the scripted reply.
    assert chat(client, {"messages": []}).status_code == 400
    first = chat(client, user("hi")).json()
    assert first["choices"][0]["message"] == {"role": "assistant", "content": "scripted one", "refusal": None}
    assert first["choices"][0]["finish_reason"] == "stop"
    assert first["usage"]["prompt_tokens"] == 7
    # A scripted error fires whatever the body (like Azure's throttling in front of the model).
    second = chat(client, {"messages": []})
    assert second.status_code == 429
    assert second.headers["retry-after-ms"] == "10"
    assert second.headers["apim-request-id"]
    assert second.json() == {"error": {"code": "429", "message": "Rate limit"}}
    third = chat(client, user("hi")).json()["choices"][0]
    assert third["finish_reason"] == "tool_calls"
    call = third["message"]["tool_calls"][0]
    assert call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo"}
    assert state.pending == []
    assert chat(client, user("hi")).json()["choices"][0]["message"]["content"] == "You said: hi"


def test_scripted_raw_body_and_bad_script(client: httpx.Client) -> None:
    client.post("/_emulator/script", json={"replies": [{"status": 200, "body": "{truncated"}]})
    response = chat(client, user("hi"))
    assert response.status_code == 200 and response.text == "{truncated"
    bad_scripts: list[Any] = [{"replies": [{"nonsense": 1}]}, {"replies": [{"status": "x"}]}, {"nope": []}]
    for bad in bad_scripts:
        assert client.post("/_emulator/script", json=bad).status_code == 400


def test_recorded_requests(client: httpx.Client, state: EmulatorState) -> None:
    chat(client, {**user("first"), "temperature": 0.5})
    chat(client, user("second"), headers={"Authorization": f"Bearer {KEY}", "x-trace": "t1"})
    chat(client, user("denied"), headers={"api-key": "wrong"})
    recorded = client.get("/_emulator/requests").json()
    assert len(recorded) == 3
    first = recorded[0]
    assert first["method"] == "POST"
    assert first["path"] == CHAT
    assert first["deployment"] == DEPLOYMENT
    assert first["query"] == {"api-version": GA}
    assert first["body"] == {**user("first"), "temperature": 0.5}
    assert first["status"] == 200
    assert recorded[1]["headers"]["x-trace"] == "t1"
    assert recorded[2]["status"] == 401
    for entry in recorded:
        assert "api-key" not in entry["headers"] and "authorization" not in entry["headers"]
    # Same data in-process.
    assert [r.body["messages"][0]["content"] for r in state.requests] == ["first", "second", "denied"]
    client.post("/_emulator/script", json={"replies": [{"message": {"content": "x"}}]})
    assert client.delete("/_emulator/requests").status_code == 204
    assert client.get("/_emulator/requests").json() == []
    assert state.pending == []


# Real SDK -------------------------------------------------------------------------------------------------


def test_openai_sdk_azure_client(base: str, state: EmulatorState) -> None:
    client = openai.AzureOpenAI(azure_endpoint=base, api_key=KEY, api_version=GA, max_retries=0)
    completion = client.chat.completions.create(
        model=DEPLOYMENT, messages=[{"role": "user", "content": "Say hi"}]
    )
    assert completion.choices[0].message.content == "You said: Say hi"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    tool_completion = client.chat.completions.create(
        model=DEPLOYMENT,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    tool_calls = tool_completion.choices[0].message.tool_calls
    assert tool_calls is not None
    assert json.loads(tool_calls[0].function.arguments)["city"] == "Paris"  # type: ignore[union-attr]
    with pytest.raises(openai.AuthenticationError):
        openai.AzureOpenAI(
            azure_endpoint=base, api_key="bad", api_version=GA, max_retries=0
        ).chat.completions.create(model=DEPLOYMENT, messages=[{"role": "user", "content": "hi"}])
    assert state.requests[-1].status == 401


# Schema sample generator (pure function) ------------------------------------------------------------------


def test_sample_generator_handles_common_schema_features() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
            }
        },
        "properties": {
            "origin": {"$ref": "#/$defs/point"},
            "count": {"type": "integer", "minimum": 5, "maximum": 9, "multipleOf": 3},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "flag": {"type": "boolean"},
            "code": {"type": "string", "pattern": "^[A-Z][0-9]$"},
            "short": {"type": "string", "minLength": 3, "maxLength": 4},
            "email": {"type": "string", "format": "email"},
            "either": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 2}]},
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"const": 1}}, "required": ["b"]},
                ]
            },
            "items": {"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True},
        },
        "required": ["origin", "count", "ratio", "flag", "code", "short", "email", "either", "both", "items"],
        "additionalProperties": False,
    }
    value = sample(schema)
    jsonschema.validate(value, schema)
    numbers = sample(
        {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "integer"}}},
        SampleContext(numbers=[2.5, 3]),
    )
    assert numbers == {"a": 2.5, "b": 3}


# Conformance against Azure's published spec (reads ../shared; skipped when it is absent) -------------------


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON-schema ``null`` alternative; refs rebased onto the document."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.mark.shared
@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="../shared spec not available")
def test_responses_validate_against_azure_spec(client: httpx.Client) -> None:
    spec = _openapi_to_jsonschema(json.loads(SHARED_SPEC.read_text()))
    components = spec["components"]["schemas"]

    def check(instance: Any, name: str) -> None:
        # Embed the components so the schema's "#/components/..." refs resolve within it.
        jsonschema.validate(instance, {**components[name], "components": spec["components"]})

    check(chat(client, user("Say hi")).json(), "createChatCompletionResponse")
    check(
        chat(client, {**user("What's the weather in Paris?"), "tools": [WEATHER_TOOL]}).json(),
        "createChatCompletionResponse",
    )
    check(chat(client, {"messages": []}).json(), "errorResponse")
    request = {**user("hi"), "tools": [WEATHER_TOOL], "tool_choice": "auto", "n": 2}
    check(request, "createChatCompletionRequest")


def test_gpt_5_4_and_newer_refuse_function_tools_with_reasoning_on_chat() -> None:
    """As Azure's GPT-5.4+ deployments do: tools alone (they reason by default) or with an effort → 400;
    tools with reasoning_effort "none" → 200; older models take both."""
    config = EmulatorConfig(
        deployments=("new", "old"), models={"new": "gpt-5.4-2026-03-05", "old": "gpt-5.2-2025-12-11"}
    )
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    with running(create_emulator_app(config)) as url:

        def post(deployment: str, **extra: Any) -> httpx.Response:
            return httpx.post(
                f"{url}/openai/deployments/{deployment}/chat/completions",
                params={"api-version": "2025-04-01-preview"},
                headers={"api-key": config.api_key},
                json={**body, **extra},
            )

        for extra in ({}, {"reasoning_effort": "medium"}):
            refused = post("new", **extra)
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"]["message"] == (
                "Function tools with reasoning_effort are not supported for gpt-5.4 in /v1/chat/completions. "
                "Please use /v1/responses instead."
            )
        assert post("new", reasoning_effort="none").status_code == 200
        assert post("old", reasoning_effort="medium").status_code == 200
        no_tools = {"messages": body["messages"], "reasoning_effort": "high"}
        assert (
            httpx.post(
                f"{url}/openai/deployments/new/chat/completions",
                params={"api-version": "2025-04-01-preview"},
                headers={"api-key": config.api_key},
                json=no_tools,
            ).status_code
            == 200
        )
