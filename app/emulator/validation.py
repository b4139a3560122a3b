"""Turn a request body into a :class:`ChatCompletionRequest` or raise the 400 Azure would send.

Checks run in the order the service applies them, so the *first* problem reported matches: JSON syntax,
fields unknown to the api-version, message roles, then the schema (msgspec), then the cross-field rules
the schema cannot express (tool_choice without tools, tool messages without a preceding tool call).
Those last rules matter for a gateway: translating the Responses API's ``function_call_output`` into chat
messages in the wrong order is exactly the bug they catch.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from app.emulator import errors
from app.emulator.schema import (
    REQUEST_FIELDS,
    AssistantMessage,
    ChatCompletionRequest,
    NamedToolChoice,
    ToolMessage,
)
from app.emulator.versions import GATED_FIELDS, VersionFeatures

__all__ = ["decode_body", "validate_request"]

_AT: Final = re.compile(r"^(?P<text>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD: Final = re.compile(r"`([^`]+)`")
_TYPE_MISMATCH: Final = re.compile(r"^Expected `[^`]+`, got `[^`]+`$")

_UNSET: Final = object()


def decode_body(raw: bytes) -> Any:
    """The body as JSON builtins, or raise Azure's unparseable-JSON 400."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise errors.invalid_json() from exc


def validate_request(body: Any, features: VersionFeatures) -> ChatCompletionRequest:
    if not isinstance(body, dict):
        raise errors.invalid_request("Invalid type for body: expected an object.", code="invalid_type")
    for key in body:
        if key not in REQUEST_FIELDS or (key in GATED_FIELDS and key not in features.optional_fields):
            raise errors.unrecognized_argument(key)
    messages = body.get("messages")
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            role = message.get("role", _UNSET) if isinstance(message, dict) else _UNSET
            if role is not _UNSET and role not in features.roles:
                raise errors.invalid_role(role, index, features.roles)
            if role == "user" and not features.media_parts:
                _check_user_parts(message.get("content"), index)
    response_format = body.get("response_format")
    if (
        isinstance(response_format, dict)
        and response_format.get("type") == "json_schema"
        and not features.json_schema_format
    ):
        raise errors.invalid_request(
            "Invalid value: 'json_schema'. Supported values are: 'json_object' and 'text'.",
            param="response_format.type",
            code="invalid_value",
        )
    try:
        request = msgspec.convert(body, ChatCompletionRequest)
    except msgspec.ValidationError as exc:
        raise _from_validation_error(exc) from exc
    _check_tools(request)
    _check_tool_messages(request)
    return request


_MODEL_VERSION = re.compile(r"^gpt-(\d+)(?:\.(\d+))?")


def refuses_reasoning_with_tools(model: str) -> bool:
    """GPT-5.4 and newer: Chat Completions refuses function tools unless reasoning is off."""
    found = _MODEL_VERSION.match(model)
    return found is not None and (int(found.group(1)), int(found.group(2) or 0)) >= (5, 4)


def check_model_rules(request: ChatCompletionRequest, model: str) -> None:
    """What the deployed model (not the api-version) refuses, as Azure words it.

    GPT-5.4+ reasons by default, so function tools are refused unless ``reasoning_effort`` is ``"none"``
    (a raw probe: tools alone → 400, tools with effort none → 200).
    """
    if request.tools and request.reasoning_effort != "none" and refuses_reasoning_with_tools(model):
        family = _MODEL_VERSION.match(model).group(0)  # type: ignore[union-attr]
        raise errors.invalid_request(
            f"Function tools with reasoning_effort are not supported for {family} in /v1/chat/completions. "
            "Please use /v1/responses instead.",
            param="reasoning_effort",
            code="unsupported_parameter",
        )


def _check_user_parts(content: Any, index: int) -> None:
    """Older api-versions know only text and image_url parts in a user message."""
    if not isinstance(content, list):
        return
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("file", "input_audio"):
            raise errors.invalid_request(
                f"Invalid value: '{kind}'. Supported values are: 'text' and 'image_url'.",
                param=f"messages[{index}].content[{number}].type",
                code="invalid_value",
            )


def _from_validation_error(exc: msgspec.ValidationError) -> errors.AzureError:
    """Azure's 400 for a msgspec error, ``param`` being its JSON path without the leading ``$.``."""
    match = _AT.match(str(exc))
    text = match.group("text") if match else str(exc)
    path = (match.group("path") or "") if match else ""
    path = path[1:] if path.startswith(".") else path
    named = _FIELD.search(text)
    if text.startswith("Object missing required field") and named:
        param = f"{path}.{named.group(1)}" if path else named.group(1)
        return errors.invalid_request(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if text.startswith("Object contains unknown field") and named:
        param = f"{path}.{named.group(1)}" if path else named.group(1)
        return errors.invalid_request(
            f"Unrecognized request argument supplied: {param}", param=param, code="unknown_parameter"
        )
    param = path or None
    if _TYPE_MISMATCH.match(text):
        return errors.invalid_request(
            f"Invalid type for '{param}': {text[0].lower()}{text[1:]}.", param=param, code="invalid_type"
        )
    return errors.invalid_request(f"Invalid value for '{param}': {text}.", param=param, code="invalid_value")


def _check_tools(request: ChatCompletionRequest) -> None:
    # OpenAI's wording for these, which Azure passes through.
    if not request.tools:
        if request.tool_choice is not None:
            raise errors.invalid_request(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                param="tool_choice",
            )
        if request.parallel_tool_calls is not None:
            raise errors.invalid_request(
                "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' "
                "are specified.",
                param="parallel_tool_calls",
            )
        return
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice) and choice.function.name not in {
        t.function.name for t in request.tools
    }:
        raise errors.invalid_request(
            f"Invalid value for 'tool_choice': tool '{choice.function.name}' is not in 'tools'.",
            param="tool_choice",
        )


def _check_tool_messages(request: ChatCompletionRequest) -> None:
    """Tool messages must answer the tool calls of the assistant message just before them, all of them."""
    outstanding: list[str] = []
    opened_at = -1
    for index, message in enumerate(request.messages):
        if isinstance(message, ToolMessage):
            if message.tool_call_id not in outstanding:
                raise errors.invalid_request(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    param=f"messages.[{index}].role",
                )
            outstanding.remove(message.tool_call_id)
            continue
        if outstanding:
            raise _unanswered(opened_at, outstanding)
        if isinstance(message, AssistantMessage) and message.tool_calls:
            outstanding = [call.id for call in message.tool_calls]
            opened_at = index
    if outstanding:
        raise _unanswered(opened_at, outstanding)


def _unanswered(index: int, ids: list[str]) -> errors.AzureError:
    return errors.invalid_request(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(ids)}",
        param=f"messages.[{index}].role",
    )
