"""Responses `input` items (and `instructions`) → Chat Completions messages.

Messages, function calls and their outputs, and reasoning items (replayed as the `reasoning_replay`
option says) each have a Chat form; any other item is a 400 naming it. Content parts reach Azure only
where the api-version knows them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.params import given, needs_version, tag_of, unsupported
from app.translate.tools import chat_function_name, custom_arguments
from app.wire.errors import invalid_request

ChatMessage = m.ChatCompletionRequestMessage
UserPart = (
    m.ChatCompletionRequestMessageContentPartText
    | m.ChatCompletionRequestMessageContentPartImage
    | m.ChatCompletionRequestMessageContentPartAudio
    | m.ChatCompletionRequestMessageContentPartFile
)


# ---------------------------------------------------------------------------------------------- content


def _image_part(part: m.InputImageContent, param: str) -> m.ChatCompletionRequestMessageContentPartImage:
    if not part.image_url:
        if given(part.file_id):
            raise unsupported(
                f"{param}.file_id",
                "input_image by file_id is not supported: Azure Chat Completions has no Files API access. "
                "Send image_url as a URL or a data: URL.",
            )
        raise invalid_request(
            "input_image requires a non-empty image_url.", param=f"{param}.image_url", code="invalid_value"
        )
    detail = part.detail if part.detail is not UNSET else "auto"
    if detail == "original":
        raise unsupported(f"{param}.detail", "input_image detail 'original' has no Chat Completions equivalent.")
    return m.ChatCompletionRequestMessageContentPartImage(image_url=m.ChatImageUrl(url=part.image_url, detail=detail))


def _file_part(
    part: m.InputFileContent, param: str, options: TranslationOptions
) -> m.ChatCompletionRequestMessageContentPartFile:
    if not options.capabilities.file_parts:
        raise needs_version(param, "input_file", "file_parts", options)
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
        raise needs_version(param, "input_audio", "input_audio", options)
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
        raise invalid_request("Message content must not be an empty list.", param=param, code="invalid_value")
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

    def add_function_call(self, call_id: str, name: str, arguments: str) -> None:
        """A replayed call of any client tool, by its Chat function name (see `tools`)."""
        message = self.assistant()
        if think := self.take_think():
            message.content = think + (message.content or "")  # type: ignore[operator]
        call = m.ChatCompletionMessageToolCall(
            id=call_id,
            type="function",
            function=m.ChatCompletionFunctionCall(name=name, arguments=arguments),
        )
        if isinstance(message.tool_calls, list):
            message.tool_calls.append(call)
        else:
            message.tool_calls = [call]

    def add_reasoning(self, item: m.ReasoningInputItem) -> None:
        if self.options.reasoning_replay == "think_tags":
            self.think.extend(f"<think>{s.text}</think>" for s in item.summary if s.text)


def _function_output(
    item: m.FunctionCallOutputItem | m.CustomToolCallOutputItem, param: str
) -> m.ChatCompletionRequestToolMessage:
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


class _Pairing:
    """Chat's rule, checked in the client's terms: every tool output answers a call of the assistant turn just
    before it, and every call is answered (Azure would name `messages.[i].role`, a parameter a Responses client
    never sent). OpenAI's wording, the input item's index as `param`."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}  # call_id -> input index, for the calls of the current assistant turn
        self.answering = False  # an output of this turn has been seen: a call now starts the next turn

    def call(self, call_id: str, index: int) -> None:
        if self.answering:
            self.end()
        self.open[call_id] = index

    def answer(self, call_id: str, index: int) -> None:
        if self.open.pop(call_id, None) is None:
            raise invalid_request(
                f"No tool call found for function call output with call_id {call_id}.",
                param=f"input[{index}]",
                code="invalid_value",
            )
        self.answering = True

    def end(self) -> None:
        """A message (or the end of the input) ends the turn: every call of it must have its output."""
        if self.open:
            call_id, index = next(iter(self.open.items()))
            raise invalid_request(
                f"No tool output found for function call {call_id}.", param=f"input[{index}]", code="invalid_value"
            )
        self.answering = False


_CALL_OUTPUTS = (m.FunctionCallOutputItem, m.CustomToolCallOutputItem)


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _search_call_id(item: m.ToolSearchCallItem | m.ToolSearchOutputItem, param: str) -> str:
    if not isinstance(item.call_id, str) or not item.call_id:
        raise unsupported(
            f"{param}.call_id",
            f"A {tag_of(item)} item without call_id is server-executed tool search, which Chat Completions lacks.",
        )
    return item.call_id


def _search_output(item: m.ToolSearchOutputItem, param: str) -> m.ChatCompletionRequestToolMessage:
    """The tool result of a client's tool search: which tools it loaded (they are now in Chat's `tools`)."""
    names: list[str] = []
    for tool in item.tools:
        if isinstance(tool, m.NamespaceTool):
            names.extend(chat_function_name(member.name, tool.name) for member in tool.tools)
        elif isinstance(tool, m.FunctionTool | m.CustomTool):
            names.append(tool.name)
    content = _json({"loaded_tools": names})
    return m.ChatCompletionRequestToolMessage(content=content, tool_call_id=_search_call_id(item, param))


def chat_messages(request: m.CreateResponse, options: TranslationOptions) -> list[ChatMessage]:
    conversation = _Conversation(options)
    items = request.input
    if isinstance(items, str):
        conversation.add(m.ChatCompletionRequestUserMessage(content=items))
    elif isinstance(items, list):
        pairing = _Pairing()
        for index, item in enumerate(items):
            param = f"input[{index}]"
            if isinstance(item, m.InputMessage):
                pairing.end()
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
                pairing.call(item.call_id, index)
                # `namespace` is UNSET, null or a name; both empty forms are falsy (the common case, no call).
                name = chat_function_name(item.name, item.namespace) if item.namespace else item.name  # type: ignore[arg-type]
                conversation.add_function_call(item.call_id, name, item.arguments)
            elif isinstance(item, _CALL_OUTPUTS):
                message = _function_output(item, param)  # its own checks first: they name the exact field
                pairing.answer(item.call_id, index)
                conversation.add(message)
            elif isinstance(item, m.ReasoningInputItem):
                conversation.add_reasoning(item)
            elif isinstance(item, m.CustomToolCallItem):
                namespace = item.namespace if isinstance(item.namespace, str) else None
                name = chat_function_name(item.name, namespace)
                pairing.call(item.call_id, index)
                conversation.add_function_call(item.call_id, name, custom_arguments(item.input))
            elif isinstance(item, m.ToolSearchCallItem):
                arguments = item.arguments if isinstance(item.arguments, str) else _json(item.arguments)
                call_id = _search_call_id(item, param)
                pairing.call(call_id, index)
                conversation.add_function_call(call_id, "tool_search", arguments)
            elif isinstance(item, m.ToolSearchOutputItem):
                message = _search_output(item, param)
                pairing.answer(_search_call_id(item, param), index)
                conversation.add(message)
            elif isinstance(item, m.AdditionalToolsItem):
                pass  # its tools are offered to Azure with the request's own (`tools.input_tools`)
            else:
                kind = tag_of(item)  # every item Struct is tagged by `type`
                raise unsupported(
                    param,
                    f"Input item type '{kind}' at input[{index}] has no Chat Completions representation; "
                    "this gateway translates messages, reasoning, function, custom tool and client tool search calls "
                    "and their outputs, and additional_tools.",
                )
        pairing.end()
    conversation.flush()
    messages = conversation.messages
    if request.instructions:
        messages = _with_instructions(request.instructions, messages)
    if not messages:
        raise invalid_request(
            "Missing required parameter: 'input'. Send `input` as text or a list of items.",
            param="input",
            code="missing_required_parameter",
        )
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
