"""The translator's shared vocabulary: when a parameter counts as sent, a tagged Struct's `type`, and the
transport-neutral 400s it raises (`GatewayError`, never an HTTP type) when Chat cannot express something.
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import UNSET

from app.translate.capabilities import FIRST_VERSION
from app.translate.options import TranslationOptions
from app.wire.errors import GatewayError, invalid_request

# `include` values that ask for data only hosted tools produce: refused, since it can never exist here.
INCLUDE_IMPOSSIBLE = frozenset({
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
})


def unsupported(param: str, message: str, code: str = "unsupported_parameter") -> GatewayError:
    return invalid_request(message, param=param, code=code)


def needs_version(param: str, what: str, capability: str, options: TranslationOptions) -> GatewayError:
    return unsupported(
        param,
        f"{what} is not supported by Azure api-version {options.capabilities.api_version}; "
        f"it needs api-version {FIRST_VERSION[capability]} or newer.",
        code="unsupported_api_version",
    )


def tag_of(value: Any) -> str:
    """The `type` tag of a tagged Struct (msgspec keeps it in the class config, not as an attribute)."""
    return str(type(value).__struct_config__.tag)


def given(value: Any) -> bool:
    """A parameter counts as sent when it is present and not null."""
    return value is not UNSET and value is not None


# Chat parameters the translator writes, and the Responses parameter each one came from.
_RESPONSES_PARAM = {
    "max_completion_tokens": "max_output_tokens",
    "max_tokens": "max_output_tokens",
    "messages": "input",
    "response_format": "text.format",
    "reasoning_effort": "reasoning.effort",
    "verbosity": "text.verbosity",
    "logprobs": "include",
    "stream_options": "stream",
}
_HEAD = re.compile(r"^([A-Za-z_]+)")


def in_responses_terms(error: GatewayError) -> GatewayError:
    """Azure's complaint about the translated Chat request, in the words of the Responses request.

    A Responses client never sent ``messages.[0].role`` or ``max_completion_tokens``: ``param`` names the
    Responses parameter it came from instead (``input``, not an index - Chat messages and input items do not
    correspond one to one), and a quoted Chat name in the message is replaced the same way.
    """
    match = _HEAD.match(error.param or "")
    head = match.group(1) if match else ""
    if head not in _RESPONSES_PARAM:
        return error
    message = error.message
    for chat_name, responses_name in _RESPONSES_PARAM.items():
        message = message.replace(f"'{chat_name}'", f"'{responses_name}'")
    if head == "messages":
        message = f"Azure OpenAI rejected the conversation translated from `input`: {message}"
    return GatewayError(
        error.status,
        message,
        param=_RESPONSES_PARAM[head],
        code=error.code,
        type=error.type,
        headers=error.headers,
        extra=error.extra,
    )
