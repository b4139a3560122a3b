"""Every row of the translation table, end to end: client → gateway (uvicorn) → emulator (uvicorn) → back.

Each test asserts on both sides: the Chat Completions request Azure (the emulator) received, and what the
client got back (a Response, or a 400 in OpenAI's envelope naming the parameter, with nothing sent to
Azure). Gateways run at several api-versions; see translation_harness.GATEWAYS.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from support.translation_harness import APR_PREVIEW, DEC_PREVIEW, GA, GA_2024_06, O_SERIES_DEPLOYMENT, WEATHER, Stack

from app.models import generated as m
from app.translate.tools import CLIENT_BUILTINS

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = "data:application/pdf;base64,JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"
WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="

STOCK = {
    "type": "function",
    "name": "get_stock_price",
    "description": "Look up a stock quote by ticker symbol",
    "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]},
}


def chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """How a Responses function tool must reach Azure: wrapped, every field (strict too) kept."""
    return {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def reply(message: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"message": message, **kw}


def _tags(prefix: str) -> list[str]:
    """Every `type` tag of the generated hosted tool / item / tool_choice Structs."""
    return sorted(
        cls.__struct_config__.tag  # type: ignore[attr-defined]
        for name, cls in vars(m).items()
        if name.startswith(prefix) and isinstance(cls, type) and issubclass(cls, msgspec.Struct)
    )


HOSTED_TOOLS = _tags("HostedTool")
HOSTED_ITEMS = _tags("HostedItem")
HOSTED_TOOL_CHOICES = _tags("ToolChoiceHosted")


# ============================================================================================ input items


def test_input_as_string_is_one_user_message(stack: Stack) -> None:
    x = stack.responses(GA, {"model": "anything", "input": "Say hi"})
    assert x.messages == [{"role": "user", "content": "Say hi"}]
    assert x.sent is not None and x.sent["model"] == "gpt-4o-mini"  # the client's model is overwritten
    assert x.body["model"] == "gpt-4o-mini"
    assert x.text == "You said: Say hi"
    (message,) = x.body["output"]
    assert message["role"] == "assistant" and message["status"] == "completed"
    assert message["id"].startswith("msg_")


def test_easy_and_typed_messages_in_every_role(stack: Stack) -> None:
    x = stack.responses(
        DEC_PREVIEW,
        {
            "input": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "input_text", "text": "Use metric units."}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello"}]},
                {"role": "assistant", "content": "How can I help?"},
                {"type": "message", "role": "user", "content": "Weather?"},
            ]
        },
    )
    assert x.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Use metric units."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Hello"},
        {"role": "assistant", "content": "How can I help?"},
        {"role": "user", "content": "Weather?"},
    ]
    assert x.text == "You said: Weather?"


def test_developer_message_reaches_azure_2024_10_21_as_system(stack: Stack) -> None:
    x = stack.responses(GA, {"input": [{"role": "developer", "content": "Be brief."}, user("Hi")]})
    assert x.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_input_text_becomes_text_and_input_image_becomes_image_url(stack: Stack) -> None:
    content = [
        {"type": "input_text", "text": "What is in these?"},
        {"type": "input_image", "image_url": PNG},
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "high"},
    ]
    x = stack.responses(GA, {"input": [{"role": "user", "content": content}]})
    assert x.messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": PNG, "detail": "auto"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
            ],
        }
    ]


def test_input_image_by_file_id_is_refused(stack: Stack) -> None:
    content = [{"type": "input_text", "text": "Look"}, {"type": "input_image", "file_id": "file-abc"}]
    error = stack.refused(GA, {"input": [{"role": "user", "content": content}]})
    assert error["param"] == "input[0].content[1].file_id"
    assert "file_id" in error["message"]


def test_input_file_with_file_data_becomes_a_file_part_where_supported(stack: Stack) -> None:
    content = [{"type": "input_file", "filename": "a.pdf", "file_data": PDF}, {"type": "input_text", "text": "Sum?"}]
    x = stack.responses(APR_PREVIEW, {"input": [{"role": "user", "content": content}]})
    assert x.messages == [
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"file_data": PDF, "filename": "a.pdf"}},
                {"type": "text", "text": "Sum?"},
            ],
        }
    ]


def test_input_file_is_refused_where_the_api_version_lacks_file_parts(stack: Stack) -> None:
    content = [{"type": "input_file", "filename": "a.pdf", "file_data": PDF}]
    error = stack.refused(GA, {"input": [{"role": "user", "content": content}]})
    assert error["param"] == "input[0].content[0]"
    assert error["code"] == "unsupported_api_version"
    assert GA in error["message"] and "2025-01-01-preview" in error["message"]


def test_input_file_without_file_data_is_refused(stack: Stack) -> None:
    content = [{"type": "input_file", "file_id": "file-abc"}]
    error = stack.refused(APR_PREVIEW, {"input": [{"role": "user", "content": content}]})
    assert error["param"] == "input[0].content[0]"
    assert "file_data" in error["message"]


def test_input_audio_is_refused_unless_supported(stack: Stack) -> None:
    content = [{"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}]
    error = stack.refused(GA, {"input": [{"role": "user", "content": content}]})
    assert error["param"] == "input[0].content[0]"
    assert "input_audio" in error["message"] and "2025-01-01-preview" in error["message"]
    x = stack.responses(APR_PREVIEW, {"input": [{"role": "user", "content": content}]})
    assert x.messages == [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}]}
    ]


def test_assistant_output_text_parts_are_joined(stack: Stack) -> None:
    parts = [{"type": "output_text", "text": "Hel"}, {"type": "output_text", "text": "lo"}]
    x = stack.responses(GA, {"input": [user("Hi"), {"role": "assistant", "content": parts}, user("Bye")]})
    assert x.messages[1] == {"role": "assistant", "content": "Hello"}


def test_assistant_message_and_following_function_calls_become_one_message(stack: Stack) -> None:
    items = [
        user("Weather in Paris and Oslo?"),
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        {"type": "function_call_output", "call_id": "call_2", "output": "9C"},
    ]
    x = stack.responses(GA, {"input": items, "tools": [WEATHER]}, reply=reply({"content": "Paris 18C, Oslo 9C."}))
    assert x.messages == [
        {"role": "user", "content": "Weather in Paris and Oslo?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                tool_call("call_1", "get_weather", '{"city":"Paris"}'),
                tool_call("call_2", "get_weather", '{"city":"Oslo"}'),
            ],
        },
        {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
        {"role": "tool", "content": "9C", "tool_call_id": "call_2"},
    ]
    assert x.text == "Paris 18C, Oslo 9C."


def test_run_of_function_calls_is_one_assistant_message_and_outputs_follow_their_call(stack: Stack) -> None:
    items = [
        user("Weather?"),
        {"type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
        {"type": "function_call", "call_id": "call_b", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call", "call_id": "call_c", "name": "get_stock_price", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_b", "output": "rain"},
        {"type": "function_call_output", "call_id": "call_c", "output": "42"},
    ]
    x = stack.responses(GA, {"input": items, "tools": [WEATHER, STOCK], "tool_choice": "none"})
    roles = [(msg["role"], [c["id"] for c in msg.get("tool_calls", [])], msg.get("tool_call_id")) for msg in x.messages]
    assert roles == [
        ("user", [], None),
        ("assistant", ["call_a"], None),
        ("tool", [], "call_a"),
        ("assistant", ["call_b", "call_c"], None),
        ("tool", [], "call_b"),
        ("tool", [], "call_c"),
    ]
    assert x.messages[1]["content"] is None
    assert x.text == "Based on the tool result: 42"


def test_two_assistant_messages_in_a_row_stay_two(stack: Stack) -> None:
    items = [user("Hi"), {"role": "assistant", "content": "First."}, {"role": "assistant", "content": "Second."}]
    x = stack.responses(GA, {"input": items})
    assert x.messages[1:] == [{"role": "assistant", "content": "First."}, {"role": "assistant", "content": "Second."}]


def test_refusal_part_becomes_assistant_refusal(stack: Stack) -> None:
    refusal = {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't help with that."}]}
    x = stack.responses(GA, {"input": [user("Do it"), refusal, user("Why?")]})
    assert x.messages[1] == {"role": "assistant", "content": None, "refusal": "I can't help with that."}


def test_function_call_becomes_tool_call_with_call_id_and_output_becomes_tool_message(stack: Stack) -> None:
    items = [
        user("Stock of MSFT?"),
        {"type": "function_call", "id": "fc_1", "call_id": "call_x", "name": "get_stock_price", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "call_x",
            "output": [{"type": "input_text", "text": "MSFT "}, {"type": "input_text", "text": "420"}],
        },
    ]
    x = stack.responses(GA, {"input": items, "tools": [STOCK]})
    assert x.messages[1]["tool_calls"] == [
        {"id": "call_x", "type": "function", "function": {"name": "get_stock_price", "arguments": "{}"}}
    ]
    assert x.messages[2] == {
        "role": "tool",
        "content": [{"type": "text", "text": "MSFT "}, {"type": "text", "text": "420"}],
        "tool_call_id": "call_x",
    }


@pytest.mark.parametrize(
    "part",
    [{"type": "input_image", "image_url": PNG}, {"type": "input_file", "file_data": PDF, "filename": "a.pdf"}],
)
def test_function_call_output_with_image_or_file_parts_is_refused(stack: Stack, part: dict[str, Any]) -> None:
    items = [
        user("Chart?"),
        {"type": "function_call", "call_id": "call_x", "name": "get_stock_price", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_x", "output": [{"type": "input_text", "text": "x"}, part]},
    ]
    error = stack.refused(APR_PREVIEW, {"input": items, "tools": [STOCK]})
    assert error["param"] == "input[2].output[1].type"
    assert part["type"] in error["message"]


REASONING = {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "User greets."}]}


def test_reasoning_items_are_dropped_by_default(stack: Stack) -> None:
    items = [user("Hi"), REASONING, {"role": "assistant", "content": "Hello!"}, user("Bye")]
    x = stack.responses(GA, {"input": items})
    assert x.messages == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]


def test_reasoning_replay_think_tags_wraps_summaries_on_the_next_assistant_message(stack: Stack) -> None:
    items = [
        user("Hi"),
        REASONING,
        {"role": "assistant", "content": "Hello!"},
        user("Weather?"),
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Need a tool."}]},
        {"type": "function_call", "call_id": "call_w", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_w", "output": "sunny"},
    ]
    x = stack.responses("think_tags", {"input": items, "tools": [WEATHER]})
    assert x.messages[1] == {"role": "assistant", "content": "<think>User greets.</think>Hello!"}
    assert x.messages[3]["content"] == "<think>Need a tool.</think>"
    assert [c["id"] for c in x.messages[3]["tool_calls"]] == ["call_w"]


def test_item_reference_is_refused_naming_type_and_index(stack: Stack) -> None:
    error = stack.refused(GA, {"input": [user("Hi"), {"type": "item_reference", "id": "msg_1"}]})
    assert error["param"] == "input[1]"
    assert "'item_reference'" in error["message"] and "input[1]" in error["message"]
    # The official API's bare {"id"} form is an item_reference too.
    error = stack.refused(GA, {"input": [{"id": "msg_1"}]})
    assert error["param"] == "input[0]" and "item_reference" in error["message"]


@pytest.mark.parametrize("kind", HOSTED_ITEMS)
def test_every_hosted_tool_item_is_refused_naming_type_and_index(stack: Stack, kind: str) -> None:
    error = stack.refused(GA, {"input": [user("Hi"), {"type": kind, "id": "x_1"}]})
    assert error["param"] == "input[1]"
    assert f"'{kind}'" in error["message"] and "input[1]" in error["message"]


# ============================================================================================ parameters


def test_instructions_become_one_leading_system_message_folding_leading_system_and_developer(stack: Stack) -> None:
    items = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Use metric units."},
        user("Hi"),
        {"role": "system", "content": "Later system text stays where it is."},
    ]
    x = stack.responses(DEC_PREVIEW, {"instructions": "You are a weather bot.", "input": items})
    assert x.messages == [
        {"role": "system", "content": "You are a weather bot.\n\nBe brief.\n\nUse metric units."},
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "Later system text stays where it is."},
    ]
    assert x.body["instructions"] == "You are a weather bot."


def test_function_tools_are_wrapped_keeping_strict(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "What's the weather in Paris?", "tools": [WEATHER, STOCK]})
    assert x.sent is not None
    assert x.sent["tools"] == [chat_tool(WEATHER), chat_tool(STOCK)]
    assert x.sent["tools"][0]["function"]["strict"] is True
    (call,) = x.output("function_call")
    assert call["name"] == "get_weather" and call["arguments"] == '{"city": "Paris"}'
    assert x.body["tools"][0] == WEATHER


@pytest.mark.parametrize("kind", HOSTED_TOOLS)
def test_every_hosted_tool_is_omitted_and_said_or_refused_naming_it(stack: Stack, kind: str) -> None:
    body = {"input": "Hi", "tools": [WEATHER, {"type": kind}]}
    if kind in CLIENT_BUILTINS:  # the client would run it, but its calls are Responses-only items
        error = stack.refused(GA, body)
        assert error["param"] == "tools[1].type"
        assert f"client-executed built-in tool '{kind}'" in error["message"]
        return
    x = stack.responses(GA, body)  # hosted_tools = "omit", the default
    assert x.headers["x-gateway-omitted"] == f"tools[1] {kind}"
    assert x.sent is not None and [t["function"]["name"] for t in x.sent["tools"]] == ["get_weather"]
    error = stack.refused("hosted_reject", body)
    assert error["param"] == "tools[1].type"
    assert f"Hosted tool '{kind}'" in error["message"]


@pytest.mark.parametrize("choice", ["none", "auto", "required"])
def test_tool_choice_strings_pass_directly(stack: Stack, choice: str) -> None:
    x = stack.responses(GA, {"input": "Hello there", "tools": [WEATHER], "tool_choice": choice})
    assert x.sent is not None and x.sent["tool_choice"] == choice
    assert len(x.output("function_call")) == (1 if choice == "required" else 0)
    assert x.body["tool_choice"] == choice


def test_tool_choice_required_without_tools_is_refused(stack: Stack) -> None:
    error = stack.refused(GA, {"input": "Hi", "tool_choice": "required"})
    assert error["param"] == "tool_choice"


def test_named_function_tool_choice_is_wrapped(stack: Stack) -> None:
    body = {"input": "Hello", "tools": [WEATHER, STOCK], "tool_choice": {"type": "function", "name": "get_stock_price"}}
    x = stack.responses(GA, body)
    assert x.sent is not None
    assert x.sent["tool_choice"] == {"type": "function", "function": {"name": "get_stock_price"}}
    (call,) = x.output("function_call")
    assert call["name"] == "get_stock_price"
    assert x.body["tool_choice"] == {"type": "function", "name": "get_stock_price"}


@pytest.mark.parametrize("kind", HOSTED_TOOL_CHOICES)
def test_hosted_tool_choice_is_refused(stack: Stack, kind: str) -> None:
    error = stack.refused(GA, {"input": "Hi", "tools": [WEATHER], "tool_choice": {"type": kind}})
    assert error["param"] == "tool_choice"
    assert f"'{kind}'" in error["message"]


@pytest.mark.parametrize("mode", ["auto", "required"])
def test_allowed_tools_sends_only_those_tools_with_the_mode(stack: Stack, mode: str) -> None:
    choice = {"type": "allowed_tools", "mode": mode, "tools": [{"type": "function", "name": "get_stock_price"}]}
    x = stack.responses(GA, {"input": "Weather in Paris?", "tools": [WEATHER, STOCK], "tool_choice": choice})
    assert x.sent is not None
    assert x.sent["tools"] == [chat_tool(STOCK)]
    assert x.sent["tool_choice"] == mode
    assert x.body["tool_choice"] == choice
    assert [c["name"] for c in x.output("function_call")] == (["get_stock_price"] if mode == "required" else [])


def test_tool_choice_and_parallel_tool_calls_are_not_sent_without_tools(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "tool_choice": "auto", "parallel_tool_calls": False, "tools": []})
    assert x.sent is not None
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(x.sent)
    assert x.body["tool_choice"] == "auto" and x.body["parallel_tool_calls"] is False


def test_text_format_text_sends_nothing(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "text": {"format": {"type": "text"}}})
    assert x.sent is not None and "response_format" not in x.sent
    assert x.body["text"]["format"] == {"type": "text"}


def test_text_format_json_object(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Answer in JSON", "text": {"format": {"type": "json_object"}}})
    assert x.sent is not None and x.sent["response_format"] == {"type": "json_object"}
    assert x.text == '{"answer": "You said: Answer in JSON"}'


def test_text_format_json_schema_keeps_every_field(stack: Stack) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
        "required": ["city", "temp"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "name": "weather", "description": "A report", "schema": schema, "strict": True}
    x = stack.responses(GA, {"input": "Weather in Paris", "text": {"format": fmt}})
    assert x.sent is not None
    assert x.sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "weather", "description": "A report", "schema": schema, "strict": True},
    }
    assert set(msgspec.json.decode(x.text)) == {"city", "temp"}
    assert x.body["text"]["format"] == fmt


def test_text_format_json_schema_is_refused_before_2024_08_01_preview(stack: Stack) -> None:
    fmt = {"type": "json_schema", "name": "w", "schema": {"type": "object"}}
    error = stack.refused(GA_2024_06, {"input": "Hi", "text": {"format": fmt}})
    assert error["param"] == "text.format" and "2024-08-01-preview" in error["message"]


def test_text_verbosity_is_refused_where_the_api_version_lacks_it(stack: Stack) -> None:
    error = stack.refused(GA, {"input": "Hi", "text": {"verbosity": "low"}})
    assert error["param"] == "text.verbosity" and error["code"] == "unsupported_api_version"
    assert "2025-01-01-preview" in error["message"]
    x = stack.responses(APR_PREVIEW, {"input": "Hi", "text": {"verbosity": "low"}})
    assert x.sent is not None and x.sent["verbosity"] == "low"
    assert x.body["text"]["verbosity"] == "low"


def test_max_output_tokens_becomes_max_completion_tokens_from_2024_09_01_preview(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hello there", "max_output_tokens": 50})
    assert x.sent is not None and x.sent["max_completion_tokens"] == 50 and "max_tokens" not in x.sent
    assert x.body["max_output_tokens"] == 50


def test_max_output_tokens_becomes_max_tokens_before_2024_09_01_preview(stack: Stack) -> None:
    x = stack.responses(GA_2024_06, {"input": "Hello there", "max_output_tokens": 50})
    assert x.sent is not None and x.sent["max_tokens"] == 50 and "max_completion_tokens" not in x.sent


def test_max_output_tokens_never_follows_the_deployment_name(stack: Stack) -> None:
    x = stack.responses("o_series_2024_06", {"input": "Hello there", "max_output_tokens": 50})
    assert x.sent is not None and x.sent["max_tokens"] == 50 and "max_completion_tokens" not in x.sent
    assert x.sent["model"] == O_SERIES_DEPLOYMENT


def test_token_limit_parameter_setting_overrides(stack: Stack) -> None:
    x = stack.responses("max_tokens_override", {"input": "Hello there", "max_output_tokens": 50})
    assert x.sent is not None and x.sent["max_tokens"] == 50 and "max_completion_tokens" not in x.sent
    error = stack.refused("max_completion_tokens_override_2024_06", {"input": "Hi", "max_output_tokens": 50})
    assert error["param"] == "max_output_tokens" and "2024-09-01-preview" in error["message"]


def test_max_output_tokens_reached_gives_an_incomplete_response(stack: Stack) -> None:
    x = stack.responses(GA, {"input": " ".join(f"w{i}" for i in range(20)), "max_output_tokens": 16})
    assert x.body["status"] == "incomplete"
    assert x.body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert x.body["completed_at"] is None
    assert x.output("message")[0]["status"] == "incomplete"


def test_reasoning_effort_becomes_reasoning_effort_where_supported(stack: Stack) -> None:
    x = stack.responses(DEC_PREVIEW, {"input": "Hi", "reasoning": {"effort": "high", "summary": "auto"}})
    assert x.sent is not None and x.sent["reasoning_effort"] == "high"
    assert x.body["reasoning"] == {"effort": "high", "summary": "auto"}


def test_reasoning_effort_is_refused_on_2024_10_21_naming_the_needed_api_version(stack: Stack) -> None:
    error = stack.refused(GA, {"input": "Hi", "reasoning": {"effort": "low"}})
    assert error["param"] == "reasoning.effort"
    assert error["code"] == "unsupported_api_version"
    assert error["message"] == (
        "reasoning.effort is not supported by Azure api-version 2024-10-21; "
        "it needs api-version 2024-12-01-preview or newer."
    )


def test_reasoning_summary_is_accepted_with_no_chat_equivalent(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "reasoning": {"summary": "detailed"}})
    assert x.sent is not None and "reasoning_effort" not in x.sent
    assert x.body["reasoning"] == {"effort": None, "summary": "detailed"}


def test_sampling_parameters_pass_through(stack: Stack) -> None:
    body = {
        "input": "Weather in Paris?",
        "tools": [WEATHER],
        "temperature": 0.3,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "top_logprobs": 2,
    }
    x = stack.responses(GA, body)
    assert x.sent is not None
    assert {k: x.sent[k] for k in ("temperature", "top_p", "parallel_tool_calls", "top_logprobs")} == {
        "temperature": 0.3,
        "top_p": 0.9,
        "parallel_tool_calls": False,
        "top_logprobs": 2,
    }
    assert x.sent["logprobs"] is True  # Chat needs it for top_logprobs
    for key in ("temperature", "top_p", "parallel_tool_calls", "top_logprobs"):
        assert x.body[key] == body[key]


def test_include_logprobs_requests_logprobs_and_returns_them_on_output_text(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "include": ["message.output_text.logprobs"], "top_logprobs": 2})
    assert x.sent is not None and x.sent["logprobs"] is True and x.sent["top_logprobs"] == 2
    (part,) = x.output("message")[0]["content"]
    tokens = [entry["token"] for entry in part["logprobs"]]
    assert "".join(tokens) == "Yousaid:Hi"
    assert all(len(entry["top_logprobs"]) == 2 for entry in part["logprobs"])
    assert part["logprobs"][0] == {
        "token": "You",
        "logprob": 0.0,
        "bytes": list(b"You"),
        "top_logprobs": [
            {"token": "You", "logprob": 0.0, "bytes": list(b"You")},
            {"token": "You1", "logprob": -1.0, "bytes": list(b"You1")},
        ],
    }
    assert x.body["include"] == ["message.output_text.logprobs"]
    plain = stack.responses(GA, {"input": "Hi"})
    assert plain.sent is not None and "logprobs" not in plain.sent
    assert plain.output("message")[0]["content"][0]["logprobs"] == []


@pytest.mark.parametrize("value", ["message.input_image.image_url", "reasoning.encrypted_content"])
def test_harmless_include_values_are_accepted(stack: Stack, value: str) -> None:
    x = stack.responses(GA, {"input": "Hi", "include": [value]})
    assert x.sent is not None and "logprobs" not in x.sent
    assert x.body["include"] == [value]


@pytest.mark.parametrize(
    "value",
    [
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
    ],
)
def test_include_values_asking_for_data_that_cannot_exist_are_refused(stack: Stack, value: str) -> None:
    error = stack.refused(GA, {"input": "Hi", "include": ["message.output_text.logprobs", value]})
    assert error["param"] == "include[1]" and value in error["message"]


def test_user_and_safety_identifier_become_user(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "user": "u-1"})
    assert x.sent is not None and x.sent["user"] == "u-1"
    assert x.body["user"] == "u-1"
    x = stack.responses(GA, {"input": "Hi", "user": "u-1", "safety_identifier": "hash-9"})
    assert x.sent is not None and x.sent["user"] == "hash-9" and "safety_identifier" not in x.sent
    assert x.body["safety_identifier"] == "hash-9" and x.body["user"] == "u-1"


def test_metadata_and_store_are_echoed_and_sent_only_where_accepted(stack: Stack) -> None:
    body = {"input": "Hi", "metadata": {"run": "42"}, "store": False}
    x = stack.responses(GA, body)
    assert x.sent is not None and "metadata" not in x.sent and "store" not in x.sent
    assert x.body["metadata"] == {"run": "42"} and x.body["store"] is False
    x = stack.responses(APR_PREVIEW, body)
    assert x.sent is not None and x.sent["metadata"] == {"run": "42"} and x.sent["store"] is False
    assert x.body["metadata"] == {"run": "42"} and x.body["store"] is False


def test_service_tier_and_prompt_cache_key_are_forwarded_only_where_supported(stack: Stack) -> None:
    body = {"input": "Hi", "service_tier": "default", "prompt_cache_key": "tenant-7"}
    x = stack.responses(GA, body)
    assert x.sent is not None and "service_tier" not in x.sent and "prompt_cache_key" not in x.sent
    assert x.body["service_tier"] == "default" and x.body["prompt_cache_key"] == "tenant-7"
    x = stack.responses(APR_PREVIEW, body)
    assert x.sent is not None and x.sent["service_tier"] == "default" and x.sent["prompt_cache_key"] == "tenant-7"


def test_truncation_disabled_is_accepted_and_auto_refused(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi", "truncation": "disabled"})
    assert x.sent is not None and "truncation" not in x.sent
    assert x.body["truncation"] == "disabled"
    error = stack.refused(GA, {"input": "Hi", "truncation": "auto"})
    assert error["param"] == "truncation"


@pytest.mark.parametrize(("param", "value"), [("prompt", {"id": "pmpt_123"})])
def test_stateful_parameters_are_refused_as_not_supported_yet(stack: Stack, param: str, value: Any) -> None:
    # previous_response_id and conversation are served by the store (tests/e2e/test_stored_responses.py),
    # background by app.service.background (tests/e2e/test_background.py).
    error = stack.refused(GA, {"input": "Hi", param: value})
    assert error["param"] == param
    assert "not supported yet" in error["message"]


def test_max_tool_calls_is_refused(stack: Stack) -> None:
    error = stack.refused(GA, {"input": "Hi", "tools": [WEATHER], "max_tool_calls": 1})
    assert error["param"] == "max_tool_calls"


# ============================================================================================ response


def test_output_order_is_reasoning_message_function_calls(stack: Stack) -> None:
    message = {
        "reasoning_content": "The user wants weather.",
        "content": "Let me check.",
        "tool_calls": [
            tool_call("call_A", "get_weather", '{"city":"Oslo"}'),
            tool_call("call_B", "get_weather", '{"city":"Rome"}'),
        ],
    }
    x = stack.responses(APR_PREVIEW, {"input": "Weather?", "tools": [WEATHER]}, reply=reply(message))
    assert [item["type"] for item in x.body["output"]] == ["reasoning", "message", "function_call", "function_call"]
    reasoning, msg, first, second = x.body["output"]
    assert reasoning["id"].startswith("rs_")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "The user wants weather."}]
    assert msg["content"][0]["text"] == "Let me check."
    assert (first["call_id"], second["call_id"]) == ("call_A", "call_B")
    assert first["id"].startswith("fc_") and first["id"] != second["id"]
    assert first["status"] == "completed" and first["arguments"] == '{"city":"Oslo"}'
    assert first["name"] == "get_weather"


def test_tool_only_answer_has_no_message_item(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Weather in Oslo?", "tools": [WEATHER]})
    assert [item["type"] for item in x.body["output"]] == ["function_call"]


def test_think_tags_become_reasoning_only_when_the_parser_is_on(stack: Stack) -> None:
    message = {"content": "<think>Greeting.</think>Hello!"}
    x = stack.responses(APR_PREVIEW, {"input": "Hi"}, reply=reply(message))
    assert x.output("reasoning") == [] and x.text == "<think>Greeting.</think>Hello!"
    x = stack.responses("think_tags", {"input": "Hi"}, reply=reply(message))
    (reasoning,) = x.output("reasoning")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Greeting."}]
    assert x.text == "Hello!"
    assert x.body["output"][0]["type"] == "reasoning"


def test_azure_citations_with_a_url_become_url_citation_annotations(stack: Stack) -> None:
    context = {
        "citations": [
            {"content": "doc one", "title": "Doc 1", "url": "https://example.com/1"},
            {"content": "doc two", "title": "Doc 2", "url": None, "filepath": "two.md"},
        ],
        "intent": "weather",
    }
    x = stack.responses(GA, {"input": "Hi"}, reply=reply({"content": "See [doc1].", "context": context}))
    (part,) = x.output("message")[0]["content"]
    assert part["annotations"] == [
        {"type": "url_citation", "url": "https://example.com/1", "start_index": 0, "end_index": 11, "title": "Doc 1"}
    ]


def test_message_refusal_becomes_a_refusal_part(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Do it"}, reply=reply({"content": None, "refusal": "I can't help."}))
    (message,) = x.output("message")
    assert message["content"] == [{"type": "refusal", "refusal": "I can't help."}]


def test_usage_maps_with_cached_and_reasoning_tokens(stack: Stack) -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 30,
        "total_tokens": 131,
        "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 12},
    }
    x = stack.responses(GA, {"input": "Hi"}, reply=reply({"content": "Hello"}, usage=usage))
    assert x.body["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 0},
        "output_tokens": 30,
        "output_tokens_details": {"reasoning_tokens": 12},
        "total_tokens": 131,
    }


def test_content_filter_finish_is_incomplete(stack: Stack) -> None:
    x = stack.responses(GA, {"input": "Hi"}, reply=reply({"content": "Partial"}, finish_reason="content_filter"))
    assert x.body["status"] == "incomplete"
    assert x.body["incomplete_details"] == {"reason": "content_filter"}


def test_envelope_echoes_every_request_parameter(stack: Stack) -> None:
    fmt = {"type": "json_schema", "name": "w", "description": None, "schema": {"type": "object"}, "strict": False}
    body = {
        "model": "client-model",
        "instructions": "Be brief.",
        "input": "Weather?",
        "tools": [WEATHER],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "max_output_tokens": 200,
        "temperature": 0.5,
        "top_p": 0.8,
        "top_logprobs": 0,
        "text": {"format": fmt, "verbosity": "medium"},
        "reasoning": {"effort": "low", "summary": "concise"},
        "include": ["message.output_text.logprobs"],
        "metadata": {"k": "v"},
        "store": False,
        "background": False,
        "user": "u",
        "safety_identifier": "s",
        "prompt_cache_key": "p",
        "prompt_cache_retention": "24h",
        "service_tier": "default",
        "truncation": "disabled",
    }
    x = stack.responses(APR_PREVIEW, body, reply=reply({"content": "{}"}))
    echoed = {k: x.body[k] for k in body if k not in ("input", "model")}
    assert echoed == {k: v for k, v in body.items() if k not in ("input", "model")}
    r = x.body
    assert r["object"] == "response" and r["id"].startswith("resp_")
    assert r["status"] == "completed" and r["error"] is None and r["incomplete_details"] is None
    assert isinstance(r["created_at"], int) and r["completed_at"] >= r["created_at"]
    assert r["previous_response_id"] is None
    assert r["usage"]["input_tokens"] > 0


def test_envelope_defaults_when_parameters_are_not_sent(stack: Stack) -> None:
    r = stack.responses(GA, {"input": "Hi"}).body
    assert r["tools"] == [] and r["tool_choice"] == "auto" and r["parallel_tool_calls"] is True
    assert r["text"]["format"] == {"type": "text"}
    assert r["reasoning"] is None and r["max_output_tokens"] is None and r["instructions"] is None
    assert r["store"] is True and r["metadata"] == {} and r["truncation"] == "disabled"
    assert r["temperature"] == 1.0 and r["top_p"] == 1.0


# ============================================================================================ chat route


def test_chat_fields_the_api_version_accepts_pass_through_unchanged(stack: Stack) -> None:
    body = {
        "model": "client-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "n": 2,
        "stop": ["\n\n"],
        "seed": 7,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "user": "u-1",
        "max_completion_tokens": 100,
        "logprobs": True,
        "top_logprobs": 1,
        "tools": [chat_tool(WEATHER)],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "data_sources": [{"type": "azure_search", "parameters": {"endpoint": "https://s", "index_name": "i"}}],
    }
    x = stack.call(GA, body, path="/v1/chat/completions")
    assert x.status == 200, x.body
    assert x.sent == {**body, "model": "gpt-4o-mini"}
    assert len(x.body["choices"]) == 2


def test_chat_response_format_json_schema_passes_through(stack: Stack) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True}}
    x = stack.call(GA, {"messages": [user("Hi")], "response_format": rf}, path="/v1/chat/completions")
    assert x.status == 200 and x.sent is not None and x.sent["response_format"] == rf


def test_chat_developer_becomes_system_where_missing(stack: Stack) -> None:
    body = {"messages": [{"role": "developer", "content": "Be brief."}, user("Hi")]}
    x = stack.call(GA, body, path="/v1/chat/completions")
    assert x.status == 200 and x.messages[0] == {"role": "system", "content": "Be brief."}
    x = stack.call(DEC_PREVIEW, body, path="/v1/chat/completions")
    assert x.status == 200 and x.messages[0] == {"role": "developer", "content": "Be brief."}


def test_chat_fields_the_api_version_lacks_are_refused_or_dropped(stack: Stack) -> None:
    error = stack.refused(GA, {"messages": [user("Hi")], "reasoning_effort": "low"}, path="/v1/chat/completions")
    assert error["param"] == "reasoning_effort" and "2024-12-01-preview" in error["message"]
    body = {"messages": [user("Hi")], "metadata": {"a": "b"}, "store": True}
    x = stack.call(GA, body, path="/v1/chat/completions")
    assert x.status == 200 and x.sent is not None and "metadata" not in x.sent and "store" not in x.sent
    x = stack.call(APR_PREVIEW, {**body, "reasoning_effort": "low"}, path="/v1/chat/completions")
    assert x.status == 200 and x.sent == {**body, "reasoning_effort": "low", "model": "gpt-4o-mini"}
    part = {"type": "file", "file": {"file_data": PDF, "filename": "a.pdf"}}
    error = stack.refused(GA, {"messages": [{"role": "user", "content": [part]}]}, path="/v1/chat/completions")
    assert error["param"] == "messages[0].content[0]" and "2025-01-01-preview" in error["message"]


def test_chat_azure_extra_response_fields_come_back_unchanged(stack: Stack) -> None:
    x = stack.call(GA, {"messages": [user("Hi")]}, path="/v1/chat/completions")
    assert x.status == 200
    assert x.body["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "filtered": False,
        "detected": False,
    }
    assert x.body["choices"][0]["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}


def test_chat_allowed_tools_is_sent_as_those_tools_and_the_mode(stack: Stack) -> None:
    body = {
        "messages": [user("Weather in Oslo?")],
        "tools": [chat_tool(WEATHER), chat_tool(STOCK)],
        "tool_choice": {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_stock_price"}}],
            },
        },
    }
    x = stack.call(GA, body, path="/v1/chat/completions")
    assert x.status == 200 and x.sent is not None
    assert x.sent["tools"] == [chat_tool(STOCK)] and x.sent["tool_choice"] == "required"
    assert x.body["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_stock_price"


def test_chat_json_schema_is_refused_before_2024_08_01_preview(stack: Stack) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}}}
    error = stack.refused(GA_2024_06, {"messages": [user("Hi")], "response_format": rf}, path="/v1/chat/completions")
    assert error["param"] == "response_format" and "2024-08-01-preview" in error["message"]
