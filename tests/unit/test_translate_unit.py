"""Unit tests of the pure translator `app.translate`: Responses ↔ Chat Completions, no I/O.

Requests are decoded with the gateway's own decoder (so a bare `{"role", "content"}` item works as on
the wire) and results are compared as plain JSON data, field by field, with exact expectations. A few
cases are transcribed from NeMo Gym's reference vectors where the gateway keeps NeMo Gym's behaviour;
the places where it deliberately differs are tested as such (e.g. `strict` is kept on tools, a string
input stays a string, refusals are not dropped).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import msgspec
import pytest

from app.models import generated as m
from app.translate import TranslationOptions, capabilities_for, chat_to_response, responses_to_chat
from app.translate.chat import chat_for_azure
from app.wire.decode import decode_chat_request, decode_create_response
from app.wire.errors import GatewayError

DEPLOYMENT = "my-deployment"
GA = TranslationOptions(deployment=DEPLOYMENT, capabilities=capabilities_for("2024-10-21"))
OLD = TranslationOptions(deployment=DEPLOYMENT, capabilities=capabilities_for("2024-06-01"))
NEW = TranslationOptions(deployment=DEPLOYMENT, capabilities=capabilities_for("2025-04-01-preview"))


def request(body: dict[str, Any]) -> m.CreateResponse:
    return decode_create_response(json.dumps(body).encode())


def to_chat(body: dict[str, Any], options: TranslationOptions = GA) -> dict[str, Any]:
    """The Chat request (as JSON data) for a Responses body."""
    result = msgspec.to_builtins(responses_to_chat(request(body), options))
    assert isinstance(result, dict)
    return result


def messages(body: dict[str, Any], options: TranslationOptions = GA) -> list[dict[str, Any]]:
    return to_chat(body, options)["messages"]


def refused(body: dict[str, Any], options: TranslationOptions = GA) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        responses_to_chat(request(body), options)
    return caught.value


def completion(message: dict[str, Any], finish_reason: str = "stop", **extra: Any) -> m.CreateChatCompletionResponse:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        **extra,
    }
    return msgspec.convert(body, m.CreateChatCompletionResponse)


def to_response(
    chat: m.CreateChatCompletionResponse, body: dict[str, Any] | None = None, options: TranslationOptions = GA
) -> dict[str, Any]:
    result = msgspec.to_builtins(chat_to_response(chat, request(body or {"input": "hi"}), options))
    assert isinstance(result, dict)
    return result


# ---------------------------------------------------------------------------------------------- input


def test_string_input_is_one_user_message_with_string_content() -> None:
    assert to_chat({"model": "ignored", "input": "just a string"}) == {
        "messages": [{"role": "user", "content": "just a string"}],
        "model": DEPLOYMENT,
    }


@pytest.mark.parametrize("role", ["user", "system", "assistant"])
def test_easy_message_string_content(role: str) -> None:
    assert messages({"input": [{"role": role, "content": "c"}]}) == [{"role": role, "content": "c"}]


def test_developer_message_is_system_on_ga_and_developer_when_supported() -> None:
    body = {"input": [{"role": "developer", "content": "d"}, {"role": "user", "content": "u"}]}
    assert messages(body)[0] == {"role": "system", "content": "d"}
    assert messages(body, NEW)[0] == {"role": "developer", "content": "d"}


def test_typed_messages_every_role() -> None:
    body = {
        "input": [
            {
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "s1"}, {"type": "input_text", "text": "s2"}],
            },
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "d"}]},
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "u1"}, {"type": "input_text", "text": "u2"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "id": "msg_1",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": "a1", "annotations": []},
                    {"type": "output_text", "text": "a2", "annotations": []},
                ],
            },
        ]
    }
    assert messages(body) == [
        {"role": "system", "content": "s1s2"},
        {"role": "system", "content": "d"},
        {"role": "user", "content": [{"type": "text", "text": "u1"}, {"type": "text", "text": "u2"}]},
        {"role": "assistant", "content": "a1a2"},
    ]


def test_message_status_and_id_are_not_forwarded() -> None:
    body = {"input": [{"type": "message", "role": "user", "status": "completed", "id": "x", "content": "hi"}]}
    assert messages(body) == [{"role": "user", "content": "hi"}]


def test_input_image_detail_defaults_to_auto() -> None:
    body = {
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "https://x/a.png"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                ],
            }
        ]
    }
    assert messages(body)[0]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "auto"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
    ]


def test_input_image_by_file_id_only_is_refused() -> None:
    error = refused({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]})
    assert error.status == 400
    assert error.param == "input[0].content[0].file_id"


def test_input_image_without_url_is_refused() -> None:
    error = refused({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": ""}]}]})
    assert error.status == 400
    assert error.param == "input[0].content[0].image_url"


def test_input_file_needs_newer_api_version() -> None:
    body = {"input": [{"role": "user", "content": [{"type": "input_file", "file_data": "data:..."}]}]}
    error = refused(body)
    assert error.param == "input[0].content[0]"
    assert "2025-01-01-preview" in error.message


def test_empty_content_list_is_refused() -> None:
    assert refused({"input": [{"role": "user", "content": []}]}).param == "input[0].content"


def test_no_input_is_refused() -> None:
    assert refused({"input": []}).param == "input"


def test_refusal_part_only_in_assistant_messages() -> None:
    assert refused({"input": [{"role": "user", "content": [{"type": "refusal", "refusal": "no"}]}]}).param == (
        "input[0].content[0].type"
    )
    assert messages({"input": [{"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]}]}) == [
        {"role": "assistant", "content": None, "refusal": "no"}
    ]


def test_system_message_with_image_is_refused() -> None:
    body = {"input": [{"role": "system", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]}]}
    assert refused(body).param == "input[0].content[0].type"


def test_assistant_message_with_image_is_a_400_not_a_crash() -> None:
    """Found by schemathesis: the error message read `part.type`, which tagged Structs do not have."""
    body = {"input": [{"role": "assistant", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]}]}
    error = refused(body)
    assert error.status == 400
    assert error.param == "input[0].content[0].type"
    assert "input_image" in error.message


def test_function_output_with_image_is_a_400_not_a_crash() -> None:
    body = {
        "input": [
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": [{"type": "input_image", "image_url": "https://x"}],
            }
        ]
    }
    error = refused(body)
    assert error.status == 400
    assert error.param == "input[0].output[0].type"
    assert "input_image" in error.message


def test_hosted_input_item_is_refused() -> None:
    error = refused({"input": [{"type": "item_reference", "id": "msg_1"}]})
    assert error.param == "input[0]"
    assert "item_reference" in error.message


# ---------------------------------------------------------------------------------------------- instructions


def test_instructions_become_leading_system_message() -> None:
    assert messages({"instructions": "Be brief.", "input": "hi"}) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


def test_instructions_fold_leading_system_and_developer() -> None:
    # NeMo Gym vector 02 instructions_fold_leading_system_and_developer.
    body = {
        "instructions": "you are a coding agent",
        "input": [
            {"role": "system", "content": "sys", "type": "message"},
            {"role": "developer", "content": "dev", "type": "message"},
            {"role": "user", "content": "usr", "type": "message"},
        ],
    }
    assert messages(body) == [
        {"role": "system", "content": "you are a coding agent\n\nsys\n\ndev"},
        {"role": "user", "content": "usr"},
    ]


def test_system_message_after_user_is_not_folded() -> None:
    body = {"instructions": "i", "input": [{"role": "user", "content": "u"}, {"role": "system", "content": "s"}]}
    assert messages(body) == [
        {"role": "system", "content": "i"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": "s"},
    ]


def test_no_instructions_adds_no_system_message() -> None:
    assert messages({"input": [{"role": "user", "content": "u"}]}) == [{"role": "user", "content": "u"}]


# ---------------------------------------------------------------------------------------------- tools


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": True,
}


def test_function_tool_keeps_strict() -> None:
    chat = to_chat({"input": "hi", "tools": [WEATHER]})
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER["parameters"],
                "strict": True,
            },
        }
    ]
    assert "tool_choice" not in chat


def test_tool_choice_and_parallel_tool_calls_need_tools() -> None:
    chat = to_chat({"input": "hi", "tool_choice": "auto", "parallel_tool_calls": False})
    assert "tool_choice" not in chat and "parallel_tool_calls" not in chat
    assert refused({"input": "hi", "tool_choice": "required"}).param == "tool_choice"
    assert refused({"input": "hi", "tool_choice": {"type": "function", "name": "f"}}).param == "tool_choice.name"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", "none"),
        ("auto", "auto"),
        ("required", "required"),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_mapping(choice: Any, expected: Any) -> None:
    chat = to_chat({"input": "hi", "tools": [WEATHER], "tool_choice": choice, "parallel_tool_calls": False})
    assert chat["tool_choice"] == expected
    assert chat["parallel_tool_calls"] is False


def test_hosted_tool_is_omitted_by_default_and_refused_when_asked() -> None:
    body = {"input": "hi", "tools": [WEATHER, {"type": "web_search"}]}
    chat = to_chat(body)
    assert [tool["function"]["name"] for tool in chat["tools"]] == ["get_weather"]
    error = refused(body, replace(GA, hosted_tools="reject"))
    assert error.param == "tools[1].type"
    assert "Hosted tool 'web_search'" in error.message and "hosted_tools" in error.message


def test_function_call_and_output_order() -> None:
    # NeMo Gym vector 03 function_call_uses_call_id_not_id, plus its output.
    body = {
        "input": [
            {"role": "user", "content": "weather?"},
            {
                "arguments": '{"city":"San Francisco"}',
                "call_id": "call_123",
                "name": "get_weather",
                "type": "function_call",
                "id": "func_123",
                "status": "completed",
            },
            {"type": "function_call_output", "call_id": "call_123", "output": "sunny"},
        ]
    }
    assert messages(body) == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"San Francisco"}'},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "call_123"},
    ]


def test_assistant_text_and_parallel_calls_are_one_message() -> None:
    body = {
        "input": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "Checking."},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "1"},
            {"type": "function_call_output", "call_id": "c2", "output": "2"},
        ]
    }
    result = messages(body)
    assert [message["role"] for message in result] == ["user", "assistant", "tool", "tool"]
    assert result[1]["content"] == "Checking."
    assert [call["id"] for call in result[1]["tool_calls"]] == ["c1", "c2"]
    assert [message["tool_call_id"] for message in result[2:]] == ["c1", "c2"]


def test_structured_function_output_text_parts() -> None:
    # NeMo Gym vector 03 structured_function_output_text_parts (with the call it answers: Chat needs it).
    body = {
        "input": [
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {
                "type": "function_call_output",
                "call_id": "call_1",
                "output": [{"type": "input_text", "text": "first"}, {"type": "input_text", "text": "second"}],
            }
        ]
    }
    assert messages(body)[1:] == [
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}],
        }
    ]


def test_two_assistant_messages_in_a_row_stay_two() -> None:
    body = {
        "input": [
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a1"},
            {"role": "assistant", "content": "a2"},
        ]
    }
    assert messages(body) == [
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a1"},
        {"role": "assistant", "content": "a2"},
    ]


def test_plain_assistant_turn_has_no_tool_calls_key() -> None:
    assert "tool_calls" not in messages({"input": [{"role": "assistant", "content": "a"}]})[0]


def test_reasoning_items_dropped_by_default_and_replayed_as_think_tags_when_asked() -> None:
    # NeMo Gym vector 04 multiturn_reasoning_history (think_tags mode).
    body = {
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"text": "Hello", "type": "input_text"}],
                "status": "completed",
            },
            {
                "id": "rs_123",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Considering ways to greet the user..."}],
                "status": "completed",
            },
            {
                "id": "msg_123",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Hi, how can I help?", "annotations": []}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What's the weather?"}],
                "status": "completed",
            },
        ]
    }
    think = TranslationOptions(deployment=DEPLOYMENT, reasoning_replay="think_tags")
    assert messages(body, think) == [
        {"content": [{"text": "Hello", "type": "text"}], "role": "user"},
        {"content": "<think>Considering ways to greet the user...</think>Hi, how can I help?", "role": "assistant"},
        {"content": [{"text": "What's the weather?", "type": "text"}], "role": "user"},
    ]
    assert messages(body)[1] == {"role": "assistant", "content": "Hi, how can I help?"}


# ---------------------------------------------------------------------------------------------- parameters


def test_max_output_tokens_by_api_version() -> None:
    assert to_chat({"input": "hi", "max_output_tokens": 50})["max_completion_tokens"] == 50
    old = to_chat({"input": "hi", "max_output_tokens": 50}, OLD)
    assert old["max_tokens"] == 50 and "max_completion_tokens" not in old


def test_temperature_and_top_p() -> None:
    chat = to_chat({"input": "hi", "temperature": 0.2, "top_p": 0.5})
    assert (chat["temperature"], chat["top_p"]) == (0.2, 0.5)
    chat = to_chat({"input": "hi", "temperature": None, "top_p": None})
    assert "temperature" not in chat and "top_p" not in chat


def test_metadata_store_dropped_on_ga_forwarded_when_supported() -> None:
    body = {"input": "hi", "metadata": {"k": "v"}, "store": True}
    ga = to_chat(body)
    assert "metadata" not in ga and "store" not in ga
    new = to_chat(body, NEW)
    assert new["metadata"] == {"k": "v"} and new["store"] is True


def test_reasoning_effort() -> None:
    error = refused({"input": "hi", "reasoning": {"effort": "low"}})
    assert error.param == "reasoning.effort" and "2024-12-01-preview" in error.message
    assert to_chat({"input": "hi", "reasoning": {"effort": "low"}}, NEW)["reasoning_effort"] == "low"
    assert "reasoning_effort" not in to_chat({"input": "hi", "reasoning": {"summary": "auto"}})


def test_json_schema_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    body = {"input": "hi", "text": {"format": {"type": "json_schema", "name": "n", "schema": schema, "strict": True}}}
    assert to_chat(body)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "n", "schema": schema, "strict": True},
    }
    assert refused(body, OLD).param == "text.format"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        # previous_response_id, conversation and background need the store: the service refuses them (e2e tests).
        ({"input": "hi", "prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"input": "hi", "truncation": "auto"}, "truncation"),
    ],
)
def test_unsupported_parameters(body: dict[str, Any], param: str) -> None:
    error = refused(body)
    assert error.status == 400 and error.param == param


# ---------------------------------------------------------------------------------------------- response


def test_text_reply_to_response() -> None:
    response = to_response(completion({"content": "hello"}))
    assert response["id"].startswith("resp_")
    assert response["object"] == "response"
    assert response["status"] == "completed"
    assert response["incomplete_details"] is None
    assert response["model"] == DEPLOYMENT
    assert response["created_at"] == 1700000000
    assert response["completed_at"] >= 1700000000
    [item] = response["output"]
    assert item["id"].startswith("msg_")
    assert item == {
        "type": "message",
        "id": item["id"],
        "role": "assistant",
        "content": [{"type": "output_text", "text": "hello", "annotations": [], "logprobs": []}],
        "status": "completed",
    }


def test_tool_calls_become_function_call_items() -> None:
    chat = completion(
        {
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        "tool_calls",
    )
    output = to_response(chat)["output"]
    assert [item["type"] for item in output] == ["message", "function_call", "function_call"]
    calls = output[1:]
    assert all(call["id"].startswith("fc_") for call in calls)
    assert [(c["call_id"], c["name"], c["arguments"], c["status"]) for c in calls] == [
        ("call_a", "get_weather", '{"city":"Paris"}', "completed"),
        ("call_b", "get_time", "{}", "completed"),
    ]


def test_tool_calls_only_have_no_message_item() -> None:
    chat = completion(
        {
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        "tool_calls",
    )
    assert [item["type"] for item in to_response(chat)["output"]] == ["function_call"]


def test_empty_reply_is_one_empty_message() -> None:
    [item] = to_response(completion({"content": None}))["output"]
    assert item["content"] == [{"type": "output_text", "text": "", "annotations": [], "logprobs": []}]


def test_refusal_is_kept() -> None:
    [item] = to_response(completion({"content": None, "refusal": "I can't."}))["output"]
    assert item["content"] == [{"type": "refusal", "refusal": "I can't."}]


@pytest.mark.parametrize(
    ("finish", "status", "reason"),
    [
        ("stop", "completed", None),
        ("tool_calls", "completed", None),
        ("length", "incomplete", "max_output_tokens"),
        ("content_filter", "incomplete", "content_filter"),
    ],
)
def test_finish_reason_to_status(finish: str, status: str, reason: str | None) -> None:
    response = to_response(completion({"content": "x"}, finish))
    assert response["status"] == status
    assert response["incomplete_details"] == ({"reason": reason} if reason else None)
    assert (response["completed_at"] is None) == (status == "incomplete")
    assert response["output"][0]["status"] == ("incomplete" if reason else "completed")


def test_usage_mapping_with_details() -> None:
    # NeMo Gym vector 08 finish_reason_length (usage part).
    chat = completion(
        {"content": "hi"},
        "length",
        usage={
            "prompt_tokens": 11,
            "completion_tokens": 5,
            "total_tokens": 19,
            "prompt_tokens_details": {"cached_tokens": 7},
            "completion_tokens_details": {"reasoning_tokens": 3},
        },
    )
    assert to_response(chat)["usage"] == {
        "input_tokens": 11,
        "input_tokens_details": {"cached_tokens": 7, "cache_write_tokens": 0},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 19,  # Azure's total, copied, not recomputed
    }


def test_usage_without_details_reports_zero() -> None:
    usage = to_response(completion({"content": "hi"}))["usage"]
    assert usage["input_tokens_details"]["cached_tokens"] == 0
    assert usage["output_tokens_details"]["reasoning_tokens"] == 0


def test_think_tags_parsed_only_when_enabled() -> None:
    # NeMo Gym vector 07 multiple_think_blocks_one_reasoning_item.
    content = (
        "<think>I need to check the user's order ID.</think><think>The order ID is 12345.</think>"
        "Your order has been shipped."
    )
    parser = TranslationOptions(deployment=DEPLOYMENT, reasoning_parser="think_tags")
    output = to_response(completion({"content": content}), options=parser)["output"]
    assert [item["type"] for item in output] == ["reasoning", "message"]
    assert output[0]["id"].startswith("rs_")
    assert [s["text"] for s in output[0]["summary"]] == [
        "I need to check the user's order ID.",
        "The order ID is 12345.",
    ]
    assert output[1]["content"][0]["text"] == "Your order has been shipped."
    plain = to_response(completion({"content": content}))["output"]
    assert [item["type"] for item in plain] == ["message"] and plain[0]["content"][0]["text"] == content


def test_response_echoes_request_parameters() -> None:
    body = {
        "input": "hi",
        "instructions": "Be kind.",
        "temperature": 0.3,
        "top_p": 0.8,
        "max_output_tokens": 77,
        "metadata": {"a": "b"},
        "tools": [WEATHER],
        "tool_choice": "required",
        "reasoning": {"summary": "auto"},
        "user": "u1",
    }
    response = to_response(completion({"content": "x"}), body)
    assert response["instructions"] == "Be kind."
    assert (response["temperature"], response["top_p"], response["max_output_tokens"]) == (0.3, 0.8, 77)
    assert response["metadata"] == {"a": "b"}
    assert response["tool_choice"] == "required"
    assert response["tools"][0]["strict"] is True and response["tools"][0]["name"] == "get_weather"
    assert response["reasoning"] == {"effort": None, "summary": "auto"}
    assert response["user"] == "u1"


def test_response_defaults_when_not_sent() -> None:
    response = to_response(completion({"content": "x"}))
    assert response["tool_choice"] == "auto"
    assert response["truncation"] == "disabled"
    assert response["parallel_tool_calls"] is True
    assert response["text"] == {"format": {"type": "text"}}
    assert response["metadata"] == {}
    assert response["reasoning"] is None
    assert response["store"] is False


# ---------------------------------------------------------------------------------------------- chat passthrough


def chat_request(body: dict[str, Any]) -> m.CreateChatCompletionRequest:
    return decode_chat_request(json.dumps(body).encode())


def test_chat_model_replaced_and_developer_sent_as_system_on_ga() -> None:
    chat = chat_for_azure(
        chat_request(
            {"model": "gpt-4o", "messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "u"}]}
        ),
        GA,
    )
    assert msgspec.to_builtins(chat) == {
        "messages": [{"role": "system", "content": "d"}, {"role": "user", "content": "u"}],
        "model": DEPLOYMENT,
    }


def test_chat_reasoning_effort_refused_on_ga() -> None:
    with pytest.raises(GatewayError) as caught:
        chat_for_azure(chat_request({"messages": [{"role": "user", "content": "u"}], "reasoning_effort": "low"}), GA)
    assert caught.value.param == "reasoning_effort"
    assert "2024-12-01-preview" in caught.value.message


def test_chat_max_completion_tokens_becomes_max_tokens_on_old_versions() -> None:
    chat = chat_for_azure(
        chat_request({"messages": [{"role": "user", "content": "u"}], "max_completion_tokens": 9}), OLD
    )
    result = msgspec.to_builtins(chat)
    assert result["max_tokens"] == 9 and "max_completion_tokens" not in result
