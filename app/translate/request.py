"""Responses request → Chat Completions request.

Every Responses feature that Chat Completions can express is mapped; everything else raises a 400 that
names the parameter (`GatewayError`). Nothing is dropped silently when dropping it could change the
answer, and nothing is sent that the configured api-version does not accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from app.models import generated as m
from app.translate.capabilities import FIRST_VERSION
from app.translate.options import TranslationOptions
from app.translate.response import wants_logprobs
from app.wire.errors import GatewayError, invalid_request

ChatMessage = m.ChatCompletionRequestMessage
UserPart = (
    m.ChatCompletionRequestMessageContentPartText
    | m.ChatCompletionRequestMessageContentPartImage
    | m.ChatCompletionRequestMessageContentPartAudio
    | m.ChatCompletionRequestMessageContentPartFile
)

# `include` values that ask for data only hosted tools produce: refused, since it can never exist here.
_INCLUDE_IMPOSSIBLE = {
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "code_interpreter_call.outputs",
    "computer_call_output.output.image_url",
}


def unsupported(param: str, message: str, code: str = "unsupported_parameter") -> GatewayError:
    return invalid_request(message, param=param, code=code)


def _needs_version(param: str, what: str, capability: str, options: TranslationOptions) -> GatewayError:
    return unsupported(
        param,
        f"{what} is not supported by Azure api-version {options.capabilities.api_version}; "
        f"it needs api-version {FIRST_VERSION[capability]} or newer.",
        code="unsupported_api_version",
    )


def tag_of(value: Any) -> str:
    """The `type` tag of a tagged Struct (msgspec keeps it in the class config, not as an attribute)."""
    return str(type(value).__struct_config__.tag)


def _given(value: Any) -> bool:
    """A parameter counts as sent when it is present and not null."""
    return value is not UNSET and value is not None


# ---------------------------------------------------------------------------------------------- content


def _image_part(part: m.InputImageContent, param: str) -> m.ChatCompletionRequestMessageContentPartImage:
    if not part.image_url:
        if _given(part.file_id):
            raise unsupported(
                f"{param}.file_id",
                "input_image by file_id is not supported: Azure Chat Completions has no Files API access. "
                "Send image_url as a URL or a data: URL.",
            )
        raise invalid_request("input_image requires a non-empty image_url.", param=f"{param}.image_url")
    detail = part.detail if part.detail is not UNSET else "auto"
    if detail == "original":
        raise unsupported(f"{param}.detail", "input_image detail 'original' has no Chat Completions equivalent.")
    return m.ChatCompletionRequestMessageContentPartImage(
        image_url=m.ChatImageUrl(url=part.image_url, detail=detail)
    )


def _file_part(
    part: m.InputFileContent, param: str, options: TranslationOptions
) -> m.ChatCompletionRequestMessageContentPartFile:
    if not options.capabilities.file_parts:
        raise _needs_version(param, "input_file", "file_parts", options)
    if not isinstance(part.file_data, str) or not part.file_data:
        raise unsupported(param, "input_file is supported only with inline file_data (not file_id or file_url).")
    file = m.ChatFile(file_data=part.file_data)
    if isinstance(part.filename, str):
        file.filename = part.filename
    return m.ChatCompletionRequestMessageContentPartFile(file=file)


def _audio_part(
    part: m.InputAudioContent, param: str, options: TranslationOptions
) -> m.ChatCompletionRequestMessageContentPartAudio:
    if not options.capabilities.input_audio:
        raise _needs_version(param, "input_audio", "input_audio", options)
    audio = m.ChatInputAudio(data=part.input_audio.data, format=part.input_audio.format)
    return m.ChatCompletionRequestMessageContentPartAudio(input_audio=audio)


def _text_of(part: Any) -> str | None:
    if isinstance(part, m.InputTextContent | m.OutputTextContent):
        return part.text
    return None


def _user_content(
    content: str | list[m.InputMessageContent], param: str, options: TranslationOptions
) -> str | list[UserPart]:
    if isinstance(content, str):
        return content
    parts: list[UserPart] = []
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        text = _text_of(part)
        if text is not None:
            parts.append(m.ChatCompletionRequestMessageContentPartText(text=text))
        elif isinstance(part, m.InputImageContent):
            parts.append(_image_part(part, where))
        elif isinstance(part, m.InputFileContent):
            parts.append(_file_part(part, where, options))
        elif isinstance(part, m.InputAudioContent):
            parts.append(_audio_part(part, where, options))
        else:
            raise unsupported(f"{where}.type", "A refusal part is only valid in an assistant message.")
    if not parts:
        raise invalid_request("Message content must not be an empty list.", param=param)
    return parts


def _text_only(content: str | list[m.InputMessageContent], param: str, role: str) -> str:
    """System and developer messages (and instructions) carry text only."""
    if isinstance(content, str):
        return content
    texts = []
    for index, part in enumerate(content):
        text = _text_of(part)
        if text is None:
            raise unsupported(
                f"{param}[{index}].type",
                f"A {role} message can contain only text parts; Chat Completions has no "
                f"'{tag_of(part)}' for {role} messages.",
            )
        texts.append(text)
    return "".join(texts)


# ---------------------------------------------------------------------------------------------- input


class _Conversation:
    """Builds Chat messages from Responses items, holding back the assistant turn being assembled.

    Chat needs each `tool` message to follow the assistant message that made the call, so an assistant
    message and the `function_call` items right after it become one assistant message carrying both
    `content` and `tool_calls`.
    """

    def __init__(self, options: TranslationOptions) -> None:
        self.options = options
        self.messages: list[ChatMessage] = []
        self.pending: m.ChatCompletionRequestAssistantMessage | None = None
        self.think: list[str] = []

    def flush(self) -> None:
        """Close the assistant turn being assembled, before a non-assistant item or at the end."""
        if self.think:
            # Reasoning with no assistant text after it in the turn still reaches Azure (think_tags mode).
            message = self.assistant()
            message.content = (message.content or "") + "".join(self.think)  # type: ignore[operator]
            self.think = []
        if self.pending is not None:
            self.messages.append(self.pending)
            self.pending = None

    def assistant(self) -> m.ChatCompletionRequestAssistantMessage:
        if self.pending is None:
            self.pending = m.ChatCompletionRequestAssistantMessage(content=None)
        return self.pending

    def take_think(self) -> str:
        think, self.think = "".join(self.think), []
        return think

    def add(self, message: ChatMessage) -> None:
        self.flush()
        self.messages.append(message)

    def add_assistant_message(self, item: m.InputMessage, param: str) -> None:
        # Two assistant messages in a row stay two messages: joining them would merge separate turns.
        if self.pending is not None:
            self.messages.append(self.pending)
            self.pending = None
        text: list[str] = []
        refusal: list[str] = []
        if isinstance(item.content, str):
            text.append(item.content)
        else:
            for index, part in enumerate(item.content):
                part_text = _text_of(part)
                if part_text is not None:
                    text.append(part_text)
                elif isinstance(part, m.RefusalContent):
                    refusal.append(part.refusal)
                else:
                    raise unsupported(
                        f"{param}.content[{index}].type",
                        f"An assistant message cannot contain '{tag_of(part)}' parts.",
                    )
        message = self.assistant()
        joined = self.take_think() + "".join(text)
        message.content = joined if (joined or not refusal) else None
        if refusal:
            message.refusal = "".join(refusal)

    def add_function_call(self, item: m.FunctionCallItem) -> None:
        message = self.assistant()
        if think := self.take_think():
            message.content = think + (message.content or "")  # type: ignore[operator]
        call = m.ChatCompletionMessageToolCall(
            id=item.call_id,
            type="function",
            function=m.ChatCompletionFunctionCall(name=item.name, arguments=item.arguments),
        )
        if isinstance(message.tool_calls, list):
            message.tool_calls.append(call)
        else:
            message.tool_calls = [call]

    def add_reasoning(self, item: m.ReasoningInputItem) -> None:
        if self.options.reasoning_replay == "think_tags":
            self.think.extend(f"<think>{s.text}</think>" for s in item.summary if s.text)


def _function_output(item: m.FunctionCallOutputItem, param: str) -> m.ChatCompletionRequestToolMessage:
    output = item.output
    if isinstance(output, str):
        content: str | list[m.ChatCompletionRequestMessageContentPartText] = output
    else:
        parts = []
        for index, part in enumerate(output):
            if not isinstance(part, m.InputTextContent):
                raise unsupported(
                    f"{param}.output[{index}].type",
                    f"A function_call_output can carry only text for Chat Completions tool messages; "
                    f"'{tag_of(part)}' parts have no Chat equivalent.",
                )
            parts.append(m.ChatCompletionRequestMessageContentPartText(text=part.text))
        content = parts if parts else ""
    return m.ChatCompletionRequestToolMessage(content=content, tool_call_id=item.call_id)


def _messages(request: m.CreateResponse, options: TranslationOptions) -> list[ChatMessage]:
    conversation = _Conversation(options)
    items = request.input
    if isinstance(items, str):
        conversation.add(m.ChatCompletionRequestUserMessage(content=items))
    elif isinstance(items, list):
        for index, item in enumerate(items):
            param = f"input[{index}]"
            if isinstance(item, m.InputMessage):
                if item.role == "assistant":
                    conversation.add_assistant_message(item, param)
                elif item.role == "user":
                    content = _user_content(item.content, f"{param}.content", options)
                    conversation.add(m.ChatCompletionRequestUserMessage(content=content))
                else:
                    text = _text_only(item.content, f"{param}.content", item.role)
                    if item.role == "developer" and options.capabilities.developer_role:
                        conversation.add(m.ChatCompletionRequestDeveloperMessage(content=text))
                    else:
                        conversation.add(m.ChatCompletionRequestSystemMessage(content=text))
            elif isinstance(item, m.FunctionCallItem):
                conversation.add_function_call(item)
            elif isinstance(item, m.FunctionCallOutputItem):
                conversation.add(_function_output(item, param))
            elif isinstance(item, m.ReasoningInputItem):
                conversation.add_reasoning(item)
            else:
                kind = tag_of(item)  # every item Struct is tagged by `type`
                raise unsupported(
                    param,
                    f"Input item type '{kind}' at input[{index}] has no Chat Completions representation; "
                    "this gateway translates messages, function_call, function_call_output and reasoning items.",
                )
    conversation.flush()
    messages = conversation.messages
    if request.instructions:
        messages = _with_instructions(request.instructions, messages)
    if not messages:
        raise invalid_request("The request has no input: send `input` as text or a list of items.", param="input")
    return messages


def _with_instructions(instructions: str, messages: list[ChatMessage]) -> list[ChatMessage]:
    """`instructions` becomes the single leading system message, absorbing leading system/developer ones."""
    parts = [instructions]
    index = 0
    while index < len(messages):
        message = messages[index]
        if not isinstance(message, m.ChatCompletionRequestSystemMessage | m.ChatCompletionRequestDeveloperMessage):
            break
        content = message.content
        parts.append(content if isinstance(content, str) else "".join(p.text for p in content))
        index += 1
    return [m.ChatCompletionRequestSystemMessage(content="\n\n".join(parts)), *messages[index:]]


# ---------------------------------------------------------------------------------------------- tools


def _tools(tools: Sequence[m.Tool], options: TranslationOptions) -> list[m.ChatCompletionTool]:
    out = []
    for index, tool in enumerate(tools):
        param = f"tools[{index}]"
        if not isinstance(tool, m.FunctionTool):
            kind = tag_of(tool)
            raise unsupported(
                f"{param}.type",
                f"Hosted tool type '{kind}' is not supported: Azure Chat Completions runs only function tools.",
            )
        if tool.defer_loading is True:
            raise unsupported(f"{param}.defer_loading", "defer_loading needs tool_search, which Chat lacks.")
        if _given(tool.allowed_callers):
            raise unsupported(f"{param}.allowed_callers", "allowed_callers has no Chat Completions equivalent.")
        if _given(tool.output_schema):
            raise unsupported(f"{param}.output_schema", "output_schema has no Chat Completions equivalent.")
        function = m.FunctionObject(name=tool.name)
        if isinstance(tool.description, str):
            function.description = tool.description
        if isinstance(tool.parameters, dict):
            function.parameters = tool.parameters
        if isinstance(tool.strict, bool):
            function.strict = tool.strict
        out.append(m.ChatCompletionTool(type="function", function=function))
    return out


def _tool_choice(
    request: m.CreateResponse, tools: list[m.ChatCompletionTool]
) -> tuple[m.ChatCompletionToolChoiceOption | UnsetType, list[m.ChatCompletionTool]]:
    choice = request.tool_choice
    names = [tool.function.name for tool in tools]
    if choice is UNSET:
        return UNSET, tools
    if isinstance(choice, str):
        if choice == "required" and not tools:
            raise invalid_request("tool_choice 'required' needs at least one tool.", param="tool_choice")
        return choice, tools
    if isinstance(choice, m.ToolChoiceFunction):
        if choice.name not in names:
            raise invalid_request(
                f"tool_choice names function '{choice.name}', which is not in tools.", param="tool_choice.name"
            )
        named = m.ChatCompletionNamedToolChoice(function=m.ChatCompletionFunctionCallOption(name=choice.name))
        return named, tools
    if isinstance(choice, m.ToolChoiceAllowed):
        allowed = []
        for index, entry in enumerate(choice.tools):
            if entry.get("type") != "function" or not isinstance(entry.get("name"), str):
                raise unsupported(
                    f"tool_choice.tools[{index}]", "allowed_tools can list only function tools, by name."
                )
            if entry["name"] not in names:
                raise invalid_request(
                    f"allowed_tools names function '{entry['name']}', which is not in tools.",
                    param=f"tool_choice.tools[{index}].name",
                )
            allowed.append(entry["name"])
        return choice.mode, [tool for tool in tools if tool.function.name in allowed]
    kind = tag_of(choice)
    raise unsupported("tool_choice", f"tool_choice type '{kind}' is a hosted tool, which Chat Completions lacks.")


# ---------------------------------------------------------------------------------------------- request


def _refuse_unsupported(request: m.CreateResponse) -> None:
    """Parameters with no Chat Completions equivalent whose loss would change the answer."""
    if request.background is True:
        raise unsupported("background", "background responses are not supported yet by this gateway.")
    for name in ("previous_response_id", "conversation", "prompt"):
        if _given(getattr(request, name)):
            raise unsupported(
                name,
                f"{name} is not supported yet: this gateway stores no responses. Send the whole conversation "
                "in `input`.",
            )
    if request.truncation == "auto":
        raise unsupported(
            "truncation", "truncation 'auto' is not supported: Azure Chat Completions never truncates input."
        )
    if _given(request.max_tool_calls):
        raise unsupported(
            "max_tool_calls",
            "max_tool_calls has no Chat Completions equivalent: one Chat turn can return any number of tool "
            "calls. Leave it unset, or set parallel_tool_calls to false for at most one call.",
        )
    if _given(request.moderation):
        raise unsupported("moderation", "moderation has no Azure Chat Completions equivalent.")
    if _given(request.context_management):
        raise unsupported("context_management", "context_management has no Chat Completions equivalent.")
    if _given(request.include):
        for index, value in enumerate(request.include or ()):
            if value in _INCLUDE_IMPOSSIBLE:
                raise unsupported(
                    f"include[{index}]", f"include '{value}' asks for hosted-tool data, which cannot exist here."
                )


def responses_to_chat(request: m.CreateResponse, options: TranslationOptions) -> m.CreateChatCompletionRequest:
    """Translate a Responses request for the configured deployment and api-version."""
    caps = options.capabilities
    _refuse_unsupported(request)
    chat = m.CreateChatCompletionRequest(messages=_messages(request, options), model=options.deployment)
    if request.stream is True:
        chat.stream = True
        # Usage arrives in a last chunk only when asked for, and only api-versions that know stream_options
        # accept the question; without it the streamed Response reports usage null.
        if caps.stream_options:
            chat.stream_options = m.ChatCompletionStreamOptions(include_usage=True)

    tools = _tools(request.tools, options) if isinstance(request.tools, list) else []
    choice, tools = _tool_choice(request, tools)
    if tools:
        chat.tools = tools
        chat.tool_choice = choice
        if isinstance(request.parallel_tool_calls, bool):
            if caps.parallel_tool_calls:
                chat.parallel_tool_calls = request.parallel_tool_calls
            elif request.parallel_tool_calls is False:
                raise _needs_version("parallel_tool_calls", "parallel_tool_calls", "parallel_tool_calls", options)
    elif isinstance(choice, m.ChatCompletionNamedToolChoice):
        raise invalid_request("tool_choice names a function but no tools were sent.", param="tool_choice")

    if _given(request.max_output_tokens):
        parameter = options.token_limit_parameter
        if parameter == "auto":
            parameter = "max_completion_tokens" if caps.max_completion_tokens else "max_tokens"
        elif parameter == "max_completion_tokens" and not caps.max_completion_tokens:
            # The operator's override cannot make Azure accept a parameter its api-version lacks.
            raise _needs_version(
                "max_output_tokens",
                "max_output_tokens (sent as max_completion_tokens by token_limit_parameter)",
                "max_completion_tokens",
                options,
            )
        setattr(chat, parameter, request.max_output_tokens)
    if _given(request.temperature):
        chat.temperature = request.temperature
    if _given(request.top_p):
        chat.top_p = request.top_p

    if _given(request.top_logprobs) and request.top_logprobs:
        chat.top_logprobs = request.top_logprobs
    # One rule for asking Azure and for building the parts: the response side reads the same function.
    if wants_logprobs(request):
        chat.logprobs = True

    _text(request, chat, options)
    _reasoning(request, chat, options)

    user = request.safety_identifier if _given(request.safety_identifier) else request.user
    if isinstance(user, str):
        chat.user = user
    if caps.store and isinstance(request.store, bool):
        chat.store = request.store
    if caps.metadata and isinstance(request.metadata, dict):
        chat.metadata = request.metadata
    if caps.service_tier and _given(request.service_tier):
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
            raise _needs_version("text.format", "text.format json_schema", "json_schema", options)
        schema = m.ChatJsonSchema(name=fmt.name)
        if isinstance(fmt.description, str):
            schema.description = fmt.description
        if isinstance(fmt.schema, dict):
            schema.schema = fmt.schema
        if fmt.strict is not UNSET:
            schema.strict = fmt.strict
        chat.response_format = m.ResponseFormatJsonSchema(json_schema=schema)
    if _given(request.text.verbosity):
        if not options.capabilities.verbosity:
            raise _needs_version("text.verbosity", "text.verbosity", "verbosity", options)
        chat.verbosity = request.text.verbosity


def _reasoning(request: m.CreateResponse, chat: m.CreateChatCompletionRequest, options: TranslationOptions) -> None:
    # `reasoning.summary` (and the older `generate_summary`) has no Chat equivalent and cannot change the
    # answer's content, so it is accepted and only echoed.
    if not isinstance(request.reasoning, m.Reasoning) or not _given(request.reasoning.effort):
        return
    if not options.capabilities.reasoning_effort:
        raise _needs_version("reasoning.effort", "reasoning.effort", "reasoning_effort", options)
    chat.reasoning_effort = request.reasoning.effort
