"""`POST /v1/responses` end to end: the real `openai` SDK → the gateway under uvicorn → the Azure emulator.

What a Responses client sees (status, output items, usage, echoed parameters, errors in OpenAI's envelope)
and what Azure receives (path, api-version, the exact Chat messages) are both checked, since the gateway's
job is the translation between the two.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from conftest import API_VERSION, AZURE_KEY, CHAT_PATH, DEPLOYMENT, Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app

pytestmark = pytest.mark.usefixtures("clean_emulator")

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def _error(reply: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `reply` is `status` with OpenAI's error envelope, and return the inner error object."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    return error


# ---------------------------------------------------------------------------------------------- basics


def test_simple_text_input(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(model="anything", input="Say hi")

    assert response.status == "completed"
    assert response.output_text
    assert response.model == DEPLOYMENT  # the deployment, not what the client asked for
    assert response.id.startswith("resp_")
    assert [item.type for item in response.output] == ["message"]
    assert response.output[0].id.startswith("msg_")
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens

    received = emulator.last_request()
    assert received["path"] == CHAT_PATH
    assert received["query"] == {"api-version": API_VERSION}
    assert received["body"] == {"messages": [{"role": "user", "content": "Say hi"}], "model": DEPLOYMENT}


@pytest.mark.parametrize("model", ["gpt-4o", "o3-mini", "gpt-4o-mini"])
def test_client_model_never_reaches_azure(client: openai.OpenAI, emulator: Emulator, model: str) -> None:
    response = client.responses.create(model=model, input="hello")
    assert response.model == DEPLOYMENT
    received = emulator.last_request()
    assert received["path"] == CHAT_PATH
    assert received["body"]["model"] == DEPLOYMENT


def test_input_item_without_type_is_a_message(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(model="m", input=[{"role": "user", "content": "hi"}])  # type: ignore[list-item]
    assert response.status == "completed"
    assert emulator.last_body()["messages"] == [{"role": "user", "content": "hi"}]


def test_multi_turn_with_instructions_and_developer(client: openai.OpenAI, emulator: Emulator) -> None:
    client.responses.create(
        model="m",
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": "What is 2+2?"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "4", "annotations": []}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And 3+3?"}]},
        ],
    )
    assert emulator.last_body()["messages"] == [
        {"role": "system", "content": "Be brief.\n\nAnswer in English."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": [{"type": "text", "text": "And 3+3?"}]},
    ]


def test_system_message_without_instructions(client: openai.OpenAI, emulator: Emulator) -> None:
    client.responses.create(
        model="m",
        input=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hi"},
        ],
    )
    assert emulator.last_body()["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hi"},
    ]


def test_image_input_reaches_azure_with_detail_auto(client: openai.OpenAI, emulator: Emulator) -> None:
    url = "https://example.com/cat.png"
    client.responses.create(
        model="m",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": url},
                ],
            }
        ],
    )
    assert emulator.last_body()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url, "detail": "auto"}},
            ],
        }
    ]


# ---------------------------------------------------------------------------------------------- tools


def test_tool_call_round_trip(client: openai.OpenAI, emulator: Emulator) -> None:
    question = {"role": "user", "content": "What's the weather in Paris?"}
    first = client.responses.create(model="m", input=[question], tools=[WEATHER_TOOL])  # type: ignore[list-item]

    assert first.status == "completed"
    [call] = first.output
    assert call.type == "function_call"
    assert call.id is not None and call.id.startswith("fc_")
    assert call.name == "get_weather"
    azure_reply_calls = emulator.requests()[-1]
    assert azure_reply_calls["status"] == 200
    sent_tools = emulator.last_body()["tools"]
    assert sent_tools == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather for a city",
                "parameters": WEATHER_TOOL["parameters"],
                "strict": True,
            },
        }
    ]
    assert call.call_id.startswith("call_")  # the id Azure (the emulator) generated, passed on as is
    assert json.loads(call.arguments)["city"] == "Paris"

    second = client.responses.create(
        model="m",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        input=[
            question,  # type: ignore[list-item]
            call.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature_c": 21}'},
        ],
    )
    messages = emulator.last_body()["messages"]
    assert messages == [
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": call.arguments},
                }
            ],
        },
        {"role": "tool", "content": '{"temperature_c": 21}', "tool_call_id": call.call_id},
    ]
    assert second.status == "completed"
    assert "temperature_c" in second.output_text and "21" in second.output_text


@pytest.mark.parametrize(
    ("choice", "azure_choice"),
    [
        ("none", "none"),
        ("required", "required"),
        ("auto", "auto"),
        (
            {"type": "function", "name": "get_weather"},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice_echoed_and_forwarded(
    client: openai.OpenAI, emulator: Emulator, choice: Any, azure_choice: Any
) -> None:
    response = client.responses.create(
        model="m",
        input="Tell me a joke",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice=choice,
    )
    echoed = response.tool_choice
    assert (echoed if isinstance(echoed, str) else echoed.model_dump(exclude_none=True)) == choice
    assert emulator.last_body()["tool_choice"] == azure_choice
    assert emulator.last_body()["tools"][0]["function"]["strict"] is True
    assert response.tools[0].strict is True  # type: ignore[union-attr]
    kinds = [item.type for item in response.output]
    assert kinds == (["message"] if choice == "none" or choice == "auto" else ["function_call"])


def test_parallel_tool_calls_forwarded(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(
        model="m",
        input="Weather in Rome?",
        tools=[WEATHER_TOOL],
        parallel_tool_calls=False,  # type: ignore[list-item]
    )
    assert response.parallel_tool_calls is False
    assert emulator.last_body()["parallel_tool_calls"] is False


# ---------------------------------------------------------------------------------------------- finish reasons


def test_max_output_tokens_gives_incomplete(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(
        model="m",
        input="Please repeat this long sentence back to me word for word, every single one of them, in order",
        max_output_tokens=16,  # OpenAI's minimum
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.max_output_tokens == 16
    assert response.output[0].status == "incomplete"  # type: ignore[union-attr]
    body = emulator.last_body()
    assert body["max_completion_tokens"] == 16  # 2024-10-21 knows it; max_tokens is refused by reasoning models
    assert "max_tokens" not in body


def test_scripted_length_finish(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.script({"message": {"content": "partial"}, "finish_reason": "length"})
    response = client.responses.create(model="m", input="hi")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "partial"
    assert response.completed_at is None


def test_content_filter_finish(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.script({"message": {"content": ""}, "finish_reason": "content_filter"})
    response = client.responses.create(model="m", input="hi")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "content_filter"


def test_usage_details_cached_and_reasoning(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.script(
        {
            "message": {"content": "ok"},
            "usage": {
                "prompt_tokens": 120,
                "completion_tokens": 30,
                "total_tokens": 150,
                "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 12, "audio_tokens": 0},
            },
        }
    )
    usage = client.responses.create(model="m", input="hi").usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (120, 30, 150)
    assert usage.input_tokens_details.cached_tokens == 64
    assert usage.output_tokens_details.reasoning_tokens == 12


def test_refusal_becomes_refusal_content(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.script({"message": {"content": None, "refusal": "I can't help with that."}})
    response = client.responses.create(model="m", input="hi")
    [message] = response.output
    assert message.type == "message"
    assert [part.type for part in message.content] == ["refusal"]
    assert message.content[0].refusal == "I can't help with that."  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- echo


def test_parameters_echoed_and_forwarded(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(
        model="m",
        input="hi",
        instructions="Be kind.",
        temperature=0.3,
        top_p=0.9,
        max_output_tokens=200,
        metadata={"run": "42"},
        reasoning={"summary": "auto"},
    )
    assert response.status == "completed"
    assert response.instructions == "Be kind."
    assert response.temperature == 0.3
    assert response.top_p == 0.9
    assert response.max_output_tokens == 200
    assert response.metadata == {"run": "42"}
    assert response.reasoning is not None and response.reasoning.summary == "auto"
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "text"
    body = emulator.last_body()
    assert body["temperature"] == 0.3
    assert body["top_p"] == 0.9
    assert body["max_completion_tokens"] == 200
    assert body["messages"][0] == {"role": "system", "content": "Be kind."}
    # 2024-10-21 has no `metadata` on Chat Completions; it cannot change the answer, so it is only echoed.
    assert "metadata" not in body


def test_json_schema_text_format(client: openai.OpenAI, emulator: Emulator) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model="m",
        input="Tell me about Paris",
        text={"format": {"type": "json_schema", "name": "city_info", "schema": schema, "strict": True}},
    )
    assert emulator.last_body()["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "city_info", "schema": schema, "strict": True},
    }
    jsonschema.validate(json.loads(response.output_text), schema)
    assert response.text is not None and response.text.format is not None
    echoed = response.text.format.model_dump(by_alias=True, exclude_none=True)
    assert echoed["type"] == "json_schema" and echoed["name"] == "city_info"
    assert echoed["schema"] == schema and echoed["strict"] is True


def test_json_object_text_format(client: openai.OpenAI, emulator: Emulator) -> None:
    response = client.responses.create(model="m", input="Reply in JSON", text={"format": {"type": "json_object"}})
    assert emulator.last_body()["response_format"] == {"type": "json_object"}
    assert isinstance(json.loads(response.output_text), dict)


# ---------------------------------------------------------------------------------------------- errors


def test_unknown_parameter(http: httpx.Client, emulator: Emulator) -> None:
    error = _error(http.post("/v1/responses", json={"input": "hi", "frobnicate": 1}), 400)
    assert error["param"] == "frobnicate"
    assert error["type"] == "invalid_request_error"
    assert "frobnicate" in error["message"]
    assert emulator.requests() == []


def test_unknown_nested_parameter(http: httpx.Client) -> None:
    body = {"input": [{"role": "user", "content": [{"type": "input_text", "text": "hi", "bogus": 1}]}]}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "input[0].content[0].bogus"


def test_wrong_type_names_json_path(http: httpx.Client) -> None:
    body = {"input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}]}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "input[0].content[0].text"
    assert error["type"] == "invalid_request_error"


def test_missing_required_field(http: httpx.Client) -> None:
    body = {"input": [{"type": "function_call_output", "output": "x"}]}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "input[0].call_id"


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b"\xff\xfe"])
def test_invalid_json(http: httpx.Client, raw: bytes) -> None:
    reply = http.post("/v1/responses", content=raw, headers={"content-type": "application/json"})
    error = _error(reply, 400)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("body", [[], "hi", 42, None])
def test_body_not_an_object(http: httpx.Client, body: Any) -> None:
    # content= rather than json=: httpx sends no body and no Content-Type at all for json=None.
    reply = http.post("/v1/responses", content=json.dumps(body), headers={"content-type": "application/json"})
    _error(reply, 400)


def test_hosted_tool_omitted_and_said(http: httpx.Client, emulator: Emulator) -> None:
    # hosted_tools = "omit" (the default): the request is answered without it, and the client is told.
    body = {"input": "hi", "tools": [WEATHER_TOOL, {"type": "web_search"}, {"type": "file_search"}]}
    reply = http.post("/v1/responses", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-gateway-omitted"] == "tools[1] web_search, tools[2] file_search"
    assert [tool["function"]["name"] for tool in emulator.last_body()["tools"]] == ["get_weather"]


def test_tool_choice_forcing_a_hosted_tool_refused(http: httpx.Client) -> None:
    body = {"input": "hi", "tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search_preview"}}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "tool_choice"
    assert "hosted tool 'web_search_preview'" in error["message"]


def test_client_builtin_tool_refused_as_such(http: httpx.Client) -> None:
    error = _error(http.post("/v1/responses", json={"input": "hi", "tools": [{"type": "shell"}]}), 400)
    assert error["param"] == "tools[0].type"
    assert "client-executed built-in tool 'shell'" in error["message"]


def test_previous_response_id_refused(http: httpx.Client) -> None:
    error = _error(http.post("/v1/responses", json={"input": "hi", "previous_response_id": "resp_123"}), 400)
    assert error["param"] == "previous_response_id"


def test_truncation_auto_refused(http: httpx.Client) -> None:
    error = _error(http.post("/v1/responses", json={"input": "hi", "truncation": "auto"}), 400)
    assert error["param"] == "truncation"


def test_truncation_disabled_accepted(client: openai.OpenAI) -> None:
    assert client.responses.create(model="m", input="hi", truncation="disabled").truncation == "disabled"


def test_reasoning_effort_needs_newer_api_version(http: httpx.Client, emulator: Emulator) -> None:
    error = _error(http.post("/v1/responses", json={"input": "hi", "reasoning": {"effort": "low"}}), 400)
    assert error["param"] == "reasoning.effort"
    assert "2024-12-01-preview" in error["message"]
    assert API_VERSION in error["message"]
    assert emulator.requests() == []


def test_tool_choice_naming_unknown_function(http: httpx.Client) -> None:
    body = {"input": "hi", "tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "name": "nope"}}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "tool_choice.name"


def test_image_by_file_id_refused(http: httpx.Client) -> None:
    body = {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]}
    error = _error(http.post("/v1/responses", json=body), 400)
    assert error["param"] == "input[0].content[0].file_id"


@pytest.mark.parametrize(
    ("item", "param"),
    [
        (
            {"role": "assistant", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]},
            "input[0].content[0].type",
        ),
        ({"role": "assistant", "content": [{"type": "input_file", "file_data": "x"}]}, "input[0].content[0].type"),
        (
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": [{"type": "input_image", "image_url": "https://x"}],
            },
            "input[0].output[0].type",
        ),
    ],
)
def test_untranslatable_part_is_400_not_500(http: httpx.Client, item: dict[str, Any], param: str) -> None:
    """Found by test_schemathesis: these crashed the translator (500) while building the 400's message."""
    error = _error(http.post("/v1/responses", json={"input": [item]}), 400)
    assert error["param"] == param


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/responses/resp_123/cancel", "/"])
def test_unknown_route(http: httpx.Client, path: str) -> None:
    error = _error(http.post(path, json={}), 404)
    assert error["type"] == "not_found_error"


def test_wrong_method(http: httpx.Client) -> None:
    _error(http.get("/v1/responses"), 405)


# ---------------------------------------------------------------------------------------------- Azure failures


def test_azure_401_is_502_without_the_key(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script({"status": 401, "body": {"error": {"code": "401", "message": "Access denied"}}})
    error = _error(http.post("/v1/responses", json={"input": "hi"}), 502)
    assert "credentials" in error["message"]
    assert "openai_api_key" in error["message"]
    assert AZURE_KEY not in error["message"]


def test_azure_deployment_not_found_is_502(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script(
        {"status": 404, "body": {"error": {"code": "DeploymentNotFound", "message": "The API deployment ..."}}}
    )
    error = _error(http.post("/v1/responses", json={"input": "hi"}), 502)
    assert DEPLOYMENT in error["message"]


def test_azure_400_passed_on(http: httpx.Client, emulator: Emulator) -> None:
    message = "Invalid 'messages[0].content': string too long."
    emulator.script(
        {
            "status": 400,
            "body": {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": "messages[0].content",
                    "code": "string_above_max_length",
                }
            },
        }
    )
    error = _error(http.post("/v1/responses", json={"input": "hi"}), 400)
    assert error["message"].endswith(message)  # Azure's words, said to be about the translated `input`
    assert error["param"] == "input"  # the client sent no `messages` (#13)
    assert error["code"] == "string_above_max_length"


def test_azure_content_filter_400(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script(
        {
            "status": 400,
            "body": {
                "error": {
                    "message": "The response was filtered",
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                    "innererror": {"code": "ResponsibleAIPolicyViolation"},
                }
            },
        }
    )
    error = _error(http.post("/v1/responses", json={"input": "hi"}), 400)
    assert error["code"] == "content_filter"
    assert error["message"] == "The response was filtered"


def test_azure_429_keeps_retry_after(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script(
        {
            "status": 429,
            "body": {"error": {"code": "429", "message": "Requests have exceeded the rate limit."}},
            "headers": {"retry-after": "7"},
        }
    )
    reply = http.post("/v1/responses", json={"input": "hi"})
    error = _error(reply, 429)
    assert reply.headers["retry-after"] == "7"
    assert error["type"] == "rate_limit_error"
    assert "rate limit" in error["message"]


def test_azure_429_retry_after_ms_gives_retry_after(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script(
        {"status": 429, "body": {"error": {"code": "429", "message": "slow"}}, "headers": {"retry-after-ms": "2500"}}
    )
    reply = http.post("/v1/responses", json={"input": "hi"})
    _error(reply, 429)
    assert reply.headers["retry-after"] in {"2", "3"}
    assert reply.headers["retry-after-ms"] == "2500"


@pytest.mark.parametrize("status", [500, 503])
def test_azure_5xx_is_502(http: httpx.Client, emulator: Emulator, status: int) -> None:
    emulator.script({"status": status, "body": {"error": {"code": "InternalServerError", "message": "boom"}}})
    error = _error(http.post("/v1/responses", json={"input": "hi"}), 502)
    assert error["type"] == "server_error"
    assert str(status) in error["message"]


def test_azure_malformed_body_is_502(http: httpx.Client, emulator: Emulator) -> None:
    emulator.script({"status": 200, "body": "this is not json"})
    _error(http.post("/v1/responses", json={"input": "hi"}), 502)


def test_sdk_sees_azure_failure_as_openai_error(client: openai.OpenAI, emulator: Emulator) -> None:
    emulator.script({"status": 500, "body": {"error": {"code": "InternalServerError", "message": "boom"}}})
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model="m", input="hi")
    assert caught.value.status_code == 502


def test_misconfigured_deployment_is_502(emulator: Emulator) -> None:
    app = create_app(gateway_settings(emulator.url, openai_model="no-such-deployment"))
    with running(app) as url:
        reply = httpx.post(f"{url}/v1/responses", json={"input": "hi"}, timeout=30)
    error = _error(reply, 502)
    assert "no-such-deployment" in error["message"]
    assert emulator.last_request()["path"] == "/openai/deployments/no-such-deployment/chat/completions"


def test_wrong_azure_key_is_502(emulator: Emulator) -> None:
    from app.settings.load import Secret

    app = create_app(gateway_settings(emulator.url, openai_api_key=Secret("wrong-key-123")))
    with running(app) as url:
        reply = httpx.post(f"{url}/v1/responses", json={"input": "hi"}, timeout=30)
    error = _error(reply, 502)
    assert "credentials" in error["message"]
    assert "wrong-key-123" not in reply.text
    assert AZURE_KEY not in reply.text


def test_unreachable_azure_is_502(emulator: Emulator) -> None:
    from support.servers import free_port

    app = create_app(gateway_settings(f"http://127.0.0.1:{free_port()}"))
    with running(app) as url:
        reply = httpx.post(f"{url}/v1/responses", json={"input": "hi"}, timeout=30)
    _error(reply, 502)
