"""Errors speak the client's language (#13): OpenAI's bounds and codes, and on /v1/responses only the
parameters a Responses client can have sent. Each case failed before the fix.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

from app.models import generated as m
from app.service.azure_errors import from_upstream_status
from app.translate import TranslationOptions, responses_to_chat
from app.translate.params import in_responses_terms
from app.upstream import UpstreamResponse
from app.wire.decode import decode_chat_request, decode_create_response
from app.wire.errors import REQUEST_TOO_LARGE, GatewayError, from_validation_error

OPTIONS = TranslationOptions(deployment="gpt-4o-mini")


def decode_error(decode: Any, body: dict[str, Any]) -> GatewayError:
    with pytest.raises(msgspec.ValidationError) as caught:
        decode(msgspec.json.encode(body))
    return from_validation_error(caught.value)


def translate_error(body: dict[str, Any]) -> GatewayError:
    request = decode_create_response(msgspec.json.encode({"model": "m", **body}))
    with pytest.raises(GatewayError) as caught:
        responses_to_chat(request, OPTIONS)
    return caught.value


def test_max_output_tokens_below_openais_minimum_is_a_400_naming_it() -> None:
    error = decode_error(decode_create_response, {"model": "m", "input": "hi", "max_output_tokens": -5})
    assert (error.status, error.param, error.code) == (400, "max_output_tokens", "invalid_value")
    assert ">= 16" in error.message  # OpenAI's bound for max_output_tokens


@pytest.mark.parametrize(
    "decode, body, param",
    [
        (decode_create_response, {"model": "m", "input": "hi", "temperature": 5}, "temperature"),
        (decode_chat_request, {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 5},
         "temperature"),
        (decode_chat_request, {"model": "m", "messages": []}, "messages"),
        (decode_create_response, {"model": "m", "input": "hi", "top_p": 1.5}, "top_p"),
    ],
)  # fmt: skip
def test_a_value_out_of_range_is_invalid_value_not_invalid_type(decode: Any, body: dict[str, Any], param: str) -> None:
    error = decode_error(decode, body)
    assert (error.param, error.code) == (param, "invalid_value")
    assert error.message.startswith(f"Invalid value for '{param}'")


def test_a_wrong_type_is_still_invalid_type() -> None:
    error = decode_error(decode_create_response, {"model": "m", "input": "hi", "temperature": "hot"})
    assert (error.param, error.code) == ("temperature", "invalid_type")


def test_missing_input_has_a_code() -> None:
    error = translate_error({})
    assert (error.status, error.param, error.code) == (400, "input", "missing_required_parameter")


def test_function_call_output_without_its_call_names_the_input_item() -> None:
    error = translate_error(
        {
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call_output", "call_id": "call_x", "output": "42"},
            ]
        }
    )
    assert (error.param, error.code) == ("input[1]", "invalid_value")
    assert "call_x" in error.message and "messages" not in error.message


def test_function_call_without_its_output_names_the_call() -> None:
    error = translate_error(
        {
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call", "call_id": "call_a", "name": "f", "arguments": "{}"},
                {"role": "user", "content": "never mind"},
            ]
        }
    )
    assert (error.param, error.code) == ("input[1]", "invalid_value")
    assert "call_a" in error.message


def test_calls_and_outputs_that_pair_up_pass() -> None:
    body = {
        "input": [
            {"role": "user", "content": "hi"},
            {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "b", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "b", "output": "2"},
            {"type": "function_call_output", "call_id": "a", "output": "1"},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "3"},
        ]
    }
    request = decode_create_response(msgspec.json.encode({"model": "m", **body}))
    chat = responses_to_chat(request, OPTIONS)
    assert [type(message).__name__ for message in chat.messages] == [
        "ChatCompletionRequestUserMessage",
        "ChatCompletionRequestAssistantMessage",
        "ChatCompletionRequestToolMessage",
        "ChatCompletionRequestToolMessage",
        "ChatCompletionRequestAssistantMessage",
        "ChatCompletionRequestToolMessage",
    ]


def _azure(status: int, error: dict[str, Any]) -> GatewayError:
    reply = UpstreamResponse(status=status, headers=httpx.Headers(), body=msgspec.json.encode({"error": error}))
    return from_upstream_status(reply, deployment="d", endpoint="https://x.openai.azure.com")


def test_azures_chat_parameter_names_become_responses_ones() -> None:
    error = in_responses_terms(
        _azure(
            400,
            {
                "message": "Invalid 'max_completion_tokens': integer above maximum value.",
                "param": "max_completion_tokens",
                "code": "integer_above_max_value",
            },
        )
    )
    assert error.param == "max_output_tokens" and "'max_output_tokens'" in error.message
    assert "max_completion_tokens" not in error.message
    role = in_responses_terms(
        _azure(400, {"message": "messages with role 'tool' must follow...", "param": "messages.[2].role"})
    )
    assert role.param == "input"
    untouched = _azure(400, {"message": "Invalid 'temperature'.", "param": "temperature", "code": "invalid_value"})
    assert in_responses_terms(untouched) is untouched


def test_an_azure_413_has_the_gateways_own_413_code() -> None:
    error = _azure(413, {"message": "Request body too large.", "code": "413"})
    assert (error.status, error.code) == (413, REQUEST_TOO_LARGE)


def test_the_generated_model_carries_the_bound() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"model": "m", "max_output_tokens": 15}, m.CreateResponse)
    assert msgspec.convert({"model": "m", "max_output_tokens": 16}, m.CreateResponse).max_output_tokens == 16
