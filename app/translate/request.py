"""Responses request → Chat Completions request.

Every Responses feature that Chat Completions can express is mapped; everything else raises a 400 that
names the parameter (`GatewayError`). Nothing is dropped silently when dropping it could change the
answer, and nothing is sent that the configured api-version does not accept. The input items become
messages in `messages.py`, the tools in `tools.py`; this module maps the request's own parameters.
Refusals that depend on stored state (`previous_response_id`, `conversation`, `background`) are the
service's, not the translator's: a request reaches here once they have been resolved or refused.
"""

from __future__ import annotations

from msgspec import UNSET

from app.models import generated as m
from app.translate.messages import chat_messages
from app.translate.options import TranslationOptions
from app.translate.params import INCLUDE_IMPOSSIBLE, given, needs_version, unsupported
from app.translate.response import wants_logprobs
from app.translate.tools import ToolSet, chat_tool_choice, tool_set
from app.wire.errors import invalid_request

# ---------------------------------------------------------------------------------------------- request


def _refuse_unsupported(request: m.CreateResponse) -> None:
    """Parameters with no Chat Completions equivalent whose loss would change the answer."""
    if given(request.prompt):
        raise unsupported(
            "prompt",
            "prompt is not supported yet: this gateway stores no responses. Send the whole conversation in `input`.",
        )
    if request.truncation == "auto":
        raise unsupported(
            "truncation", "truncation 'auto' is not supported: Azure Chat Completions never truncates input."
        )
    if given(request.max_tool_calls):
        raise unsupported(
            "max_tool_calls",
            "max_tool_calls has no Chat Completions equivalent: one Chat turn can return any number of tool "
            "calls. Leave it unset, or set parallel_tool_calls to false for at most one call.",
        )
    if given(request.moderation):
        raise unsupported("moderation", "moderation has no Azure Chat Completions equivalent.")
    if given(request.context_management):
        # Honouring compact_threshold needs the prompt's token count before the call, and no tokenizer that
        # works offline for every Azure deployment is installed; a guess could compact too late (Azure's 400)
        # or drop context the client meant to keep. Explicit compaction is there instead.
        raise unsupported(
            "context_management",
            "context_management (automatic compaction at a token threshold) is not supported by this gateway. "
            "Compact explicitly: POST /v1/responses/compact, then send its output as the start of `input`.",
        )
    if given(request.include):
        for index, value in enumerate(request.include or ()):
            if value in INCLUDE_IMPOSSIBLE:
                raise unsupported(
                    f"include[{index}]", f"include '{value}' asks for hosted-tool data, which cannot exist here."
                )


def responses_to_chat(
    request: m.CreateResponse, options: TranslationOptions, tools: ToolSet | None = None
) -> m.CreateChatCompletionRequest:
    """Translate a Responses request for the configured deployment and api-version.

    `tools` is `tool_set(request, options)` when the caller already made it (it also maps the calls back
    and names the hosted tools left out); `client_metadata` only describes the client and is not sent.
    """
    caps = options.capabilities
    _refuse_unsupported(request)
    if tools is None:
        tools = tool_set(request, options)
    chat = m.CreateChatCompletionRequest(messages=chat_messages(request, options), model=options.deployment)
    if request.stream is True:
        chat.stream = True
        # Usage arrives in a last chunk only when asked for, and only api-versions that know stream_options
        # accept the question; without it the streamed Response reports usage null.
        if caps.stream_options:
            chat.stream_options = m.ChatCompletionStreamOptions(include_usage=True)

    choice, chat_tools = chat_tool_choice(request, tools.chat)
    if chat_tools:
        chat.tools = chat_tools
        chat.tool_choice = choice
        if isinstance(request.parallel_tool_calls, bool):
            if caps.parallel_tool_calls:
                chat.parallel_tool_calls = request.parallel_tool_calls
            elif request.parallel_tool_calls is False:
                raise needs_version("parallel_tool_calls", "parallel_tool_calls", "parallel_tool_calls", options)
    elif isinstance(choice, m.ChatCompletionNamedToolChoice):
        raise invalid_request(
            "tool_choice names a function but no tools were sent.", param="tool_choice", code="invalid_value"
        )

    if given(request.max_output_tokens):
        parameter = options.token_limit_parameter
        if parameter == "auto":
            parameter = "max_completion_tokens" if caps.max_completion_tokens else "max_tokens"
        elif parameter == "max_completion_tokens" and not caps.max_completion_tokens:
            # The operator's override cannot make Azure accept a parameter its api-version lacks.
            raise needs_version(
                "max_output_tokens",
                "max_output_tokens (sent as max_completion_tokens by token_limit_parameter)",
                "max_completion_tokens",
                options,
            )
        setattr(chat, parameter, request.max_output_tokens)
    if given(request.temperature):
        chat.temperature = request.temperature
    if given(request.top_p):
        chat.top_p = request.top_p

    if given(request.top_logprobs) and request.top_logprobs:
        chat.top_logprobs = request.top_logprobs
    # One rule for asking Azure and for building the parts: the response side reads the same function.
    if wants_logprobs(request):
        chat.logprobs = True

    _text(request, chat, options)
    _reasoning(request, chat, options)

    user = request.safety_identifier if given(request.safety_identifier) else request.user
    if isinstance(user, str):
        chat.user = user
    if caps.store and isinstance(request.store, bool):
        chat.store = request.store
    if caps.metadata and isinstance(request.metadata, dict):
        chat.metadata = request.metadata
    if caps.service_tier and given(request.service_tier):
        chat.service_tier = request.service_tier
    if caps.prompt_cache_key and isinstance(request.prompt_cache_key, str):
        chat.prompt_cache_key = request.prompt_cache_key
    return chat


def _text(request: m.CreateResponse, chat: m.CreateChatCompletionRequest, options: TranslationOptions) -> None:
    if not isinstance(request.text, m.ResponseTextParam):
        return
    fmt = request.text.format
    if isinstance(fmt, m.TextFormatJsonObject):
        chat.response_format = m.ResponseFormatJsonObject()
    elif isinstance(fmt, m.TextFormatJsonSchema):
        if not options.capabilities.json_schema:
            raise needs_version("text.format", "text.format json_schema", "json_schema", options)
        schema = m.ChatJsonSchema(name=fmt.name)
        if isinstance(fmt.description, str):
            schema.description = fmt.description
        if isinstance(fmt.schema, dict):
            schema.schema = fmt.schema
        if fmt.strict is not UNSET:
            schema.strict = fmt.strict
        chat.response_format = m.ResponseFormatJsonSchema(json_schema=schema)
    if given(request.text.verbosity):
        if not options.capabilities.verbosity:
            raise needs_version("text.verbosity", "text.verbosity", "verbosity", options)
        chat.verbosity = request.text.verbosity


def _reasoning(request: m.CreateResponse, chat: m.CreateChatCompletionRequest, options: TranslationOptions) -> None:
    # `reasoning.summary` (and the older `generate_summary`) has no Chat equivalent and cannot change the
    # answer's content, so it is accepted and only echoed.
    if not isinstance(request.reasoning, m.Reasoning) or not given(request.reasoning.effort):
        return
    if not options.capabilities.reasoning_effort:
        raise needs_version("reasoning.effort", "reasoning.effort", "reasoning_effort", options)
    chat.reasoning_effort = request.reasoning.effort
