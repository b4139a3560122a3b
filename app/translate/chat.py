"""Chat Completions request → the same request as the configured Azure api-version accepts it.

Everything Azure accepts passes through unchanged; the model becomes the configured deployment. What the
api-version lacks is adapted when that cannot change the answer (a `developer` message is sent as
`system`, `metadata` and cache hints are dropped), and refused with a 400 naming the parameter and the
api-version it needs otherwise.
"""

from __future__ import annotations

from msgspec import UNSET, structs

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.params import given, needs_version, unsupported
from app.translate.tools import only_allowed

# Parameters whose absence cannot change the answer: dropped where the api-version lacks them.
_DROPPABLE = {
    "store": "store",
    "metadata": "metadata",
    "service_tier": "service_tier",
    "prompt_cache_key": "prompt_cache_key",
}
# Parameters that change the answer: refused where the api-version lacks them.
_REFUSED = {
    "reasoning_effort": "reasoning_effort",
    "verbosity": "verbosity",
    "modalities": "input_audio",
    "audio": "input_audio",
    "prediction": "input_audio",
}
# Parameters Azure's Chat Completions does not have at any api-version.
_NEVER = ("web_search_options", "moderation")


def chat_for_azure(
    request: m.CreateChatCompletionRequest, options: TranslationOptions
) -> m.CreateChatCompletionRequest:
    caps = options.capabilities
    request.model = options.deployment
    for name in _NEVER:
        if given(getattr(request, name)):
            raise unsupported(name, f"{name} has no Azure OpenAI Chat Completions equivalent.")
    for name, capability in _REFUSED.items():
        if given(getattr(request, name)) and not getattr(caps, capability):
            raise needs_version(name, name, capability, options)
    for name, capability in _DROPPABLE.items():
        if getattr(request, name) is not UNSET and not getattr(caps, capability):
            setattr(request, name, UNSET)
    # Cache hints never change an answer, and Azure's Chat Completions has no retention setting.
    request.prompt_cache_retention = UNSET
    request.prompt_cache_options = UNSET
    if given(request.safety_identifier):
        if not given(request.user):
            request.user = request.safety_identifier
        request.safety_identifier = UNSET
    if given(request.max_completion_tokens) and not caps.max_completion_tokens:
        if given(request.max_tokens):
            raise needs_version("max_completion_tokens", "max_completion_tokens", "max_completion_tokens", options)
        request.max_tokens, request.max_completion_tokens = request.max_completion_tokens, UNSET
    if request.parallel_tool_calls is not UNSET and not caps.parallel_tool_calls:
        if request.parallel_tool_calls is False:
            raise needs_version("parallel_tool_calls", "parallel_tool_calls", "parallel_tool_calls", options)
        request.parallel_tool_calls = UNSET
    if request.stream_options is not UNSET and not caps.stream_options:
        request.stream_options = UNSET
    if isinstance(request.response_format, m.ResponseFormatJsonSchema) and not caps.json_schema:
        raise needs_version("response_format", "response_format json_schema", "json_schema", options)
    _check_user_parts(request.messages, options)
    if isinstance(request.tool_choice, m.ChatCompletionAllowedToolsChoice):
        _apply_allowed_tools(request)
    if not caps.developer_role:
        request.messages = [
            m.ChatCompletionRequestSystemMessage(**structs.asdict(message))
            if isinstance(message, m.ChatCompletionRequestDeveloperMessage)
            else message
            for message in request.messages
        ]
    return request


def _check_user_parts(messages: list[m.ChatCompletionRequestMessage], options: TranslationOptions) -> None:
    """File and audio parts reach Azure only where the api-version knows them."""
    caps = options.capabilities
    for index, message in enumerate(messages):
        if not isinstance(message, m.ChatCompletionRequestUserMessage) or isinstance(message.content, str):
            continue
        for number, part in enumerate(message.content):
            where = f"messages[{index}].content[{number}]"
            if isinstance(part, m.ChatCompletionRequestMessageContentPartFile) and not caps.file_parts:
                raise needs_version(where, "A file content part", "file_parts", options)
            if isinstance(part, m.ChatCompletionRequestMessageContentPartAudio) and not caps.input_audio:
                raise needs_version(where, "An input_audio content part", "input_audio", options)


def _apply_allowed_tools(request: m.CreateChatCompletionRequest) -> None:
    """`allowed_tools` (absent from Azure's dated api-versions) as the equivalent: only those tools, and the mode.

    The model can call only the allowed tools either way, so the answer cannot change.
    """
    choice = request.tool_choice
    assert isinstance(choice, m.ChatCompletionAllowedToolsChoice)
    names = []
    for index, entry in enumerate(choice.allowed_tools.tools):
        function = entry.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if entry.get("type") != "function" or not isinstance(name, str):
            raise unsupported(
                f"tool_choice.allowed_tools.tools[{index}]",
                'allowed_tools can list only function tools, as {"type": "function", "function": {"name"}}.',
            )
        names.append(name)
    tools = request.tools if isinstance(request.tools, list) else []
    request.tools = only_allowed(tools, [("tool_choice", name) for name in names])
    request.tool_choice = choice.allowed_tools.mode
