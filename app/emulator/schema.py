"""Azure's ``createChatCompletionRequest`` (inference spec 2024-10-21) as hand-written msgspec Structs.

Why hand-written rather than generated: the published document has two bugs (``json_schema`` requires a
``type`` property it does not define; the function message requires an undefined ``function_call_id``), and
a generator would faithfully reproduce both. Why msgspec: one strict decode gives the exact JSON path of the
first problem (``$.messages[0].content``), which is what Azure puts in ``param``.

Every Struct forbids unknown fields, like the service. Unions are tagged the way the spec discriminates
them (message ``role``, content part ``type``, ``response_format.type``, ``data_sources[].type``), so an
unknown role fails at ``messages[i].role`` instead of as an opaque "matched no variant".

The top-level Struct is the union of all versions' fields (``reasoning_effort``, ``store``, ...): which of
them one request may use is decided beforehand by :mod:`app.emulator.versions`, with Azure's own message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "AssistantMessage",
    "ChatCompletionRequest",
    "DeveloperMessage",
    "FunctionMessage",
    "ImagePart",
    "Message",
    "NamedToolChoice",
    "RefusalPart",
    "ResponseFormatJsonObject",
    "ResponseFormatJsonSchema",
    "ResponseFormatText",
    "SystemMessage",
    "TextPart",
    "Tool",
    "ToolMessage",
    "UserMessage",
]

# Function / response-format names: "a-z, A-Z, 0-9, or contain underscores and dashes, max length 64".
Name = Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
Temperature = Annotated[float, Meta(ge=0, le=2)]
TopP = Annotated[float, Meta(ge=0, le=1)]
Penalty = Annotated[float, Meta(ge=-2, le=2)]


class _Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


# Content parts ---------------------------------------------------------------------------------------


class TextPart(_Base, tag_field="type", tag="text"):
    text: str


class ImageUrl(_Base):
    url: str
    detail: Literal["auto", "low", "high"] = "auto"


class ImagePart(_Base, tag_field="type", tag="image_url"):
    image_url: ImageUrl


class RefusalPart(_Base, tag_field="type", tag="refusal"):
    refusal: str


class InputAudio(_Base):
    data: str
    format: Literal["wav", "mp3"]


class AudioPart(_Base, tag_field="type", tag="input_audio"):
    """Newer api-versions only; the version check rejects it earlier for older ones."""

    input_audio: InputAudio


class FileData(_Base):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class FilePart(_Base, tag_field="type", tag="file"):
    """Newer api-versions only; the version check rejects it earlier for older ones."""

    file: FileData


# minItems: 1 on every content-part array in the spec.
SystemContent = str | Annotated[list[TextPart], Meta(min_length=1)]
UserContent = str | Annotated[list[TextPart | ImagePart | AudioPart | FilePart], Meta(min_length=1)]
AssistantContent = str | Annotated[list[TextPart | RefusalPart], Meta(min_length=1)]


# Messages --------------------------------------------------------------------------------------------


class SystemMessage(_Base, tag_field="role", tag="system"):
    content: SystemContent
    name: str | None = None


class DeveloperMessage(_Base, tag_field="role", tag="developer"):
    """Only valid from 2024-12-01-preview on; the version check rejects it earlier for older versions."""

    content: SystemContent
    name: str | None = None


class UserMessage(_Base, tag_field="role", tag="user"):
    content: UserContent
    name: str | None = None


class FunctionCall(_Base):
    name: str
    arguments: str


class ToolCallFunction(_Base):
    name: str
    arguments: str


class ToolCall(_Base):
    id: str
    type: Literal["function"]
    function: ToolCallFunction


class AssistantMessage(_Base, tag_field="role", tag="assistant"):
    content: AssistantContent | None = None
    refusal: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None


class ToolMessage(_Base, tag_field="role", tag="tool"):
    content: SystemContent
    tool_call_id: str


class FunctionMessage(_Base, tag_field="role", tag="function"):
    """Deprecated. The spec's ``required: [function_call_id]`` is a bug; ``name`` is what the API needs."""

    content: str | None
    name: str


Message = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage


# Tools -----------------------------------------------------------------------------------------------


class FunctionObject(_Base):
    name: Name
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Base):
    type: Literal["function"]
    function: FunctionObject


class NamedFunction(_Base):
    name: str


class NamedToolChoice(_Base):
    type: Literal["function"]
    function: NamedFunction


class LegacyFunction(_Base):
    """``functions[]`` entry (deprecated API)."""

    name: Name
    description: str | None = None
    parameters: dict[str, Any] | None = None


class FunctionCallOption(_Base):
    name: str


# Response format ---------------------------------------------------------------------------------------


class ResponseFormatText(_Base, tag_field="type", tag="text"):
    pass


class ResponseFormatJsonObject(_Base, tag_field="type", tag="json_object"):
    pass


class JsonSchemaFormat(_Base):
    # The spec also "requires" a `type` here; it is not a property of json_schema (spec bug), so not required.
    name: Name
    description: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


class ResponseFormatJsonSchema(_Base, tag_field="type", tag="json_schema"):
    json_schema: JsonSchemaFormat


ResponseFormat = ResponseFormatText | ResponseFormatJsonObject | ResponseFormatJsonSchema


# Azure "On Your Data" extensions ----------------------------------------------------------------------
# Only the discriminator is modelled strictly: the emulator does not implement retrieval, it just accepts
# a well-formed configuration so clients that send one are not rejected.


class AzureSearchDataSource(_Base, tag_field="type", tag="azure_search"):
    parameters: dict[str, Any]


class AzureCosmosDbDataSource(_Base, tag_field="type", tag="azure_cosmos_db"):
    parameters: dict[str, Any]


class StreamOptions(_Base):
    include_usage: bool | None = None


# The request -------------------------------------------------------------------------------------------


class ChatCompletionRequest(_Base):
    """``createChatCompletionRequest``; only ``messages`` is required."""

    messages: Annotated[list[Message], Meta(min_length=1)]
    # Not in Azure's schema (the deployment picks the model), but the live service ignores it, and the
    # openai SDK always sends it, so accept and ignore.
    model: str | None = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    stop: str | Annotated[list[str], Meta(min_length=1, max_length=4)] | None = None
    max_tokens: Annotated[int, Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Meta(ge=1)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, int] | None = None
    user: str | None = None
    data_sources: list[AzureSearchDataSource | AzureCosmosDbDataSource] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None = None
    n: Annotated[int, Meta(ge=1, le=128)] | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    function_call: Literal["none", "auto"] | FunctionCallOption | None = None
    functions: Annotated[list[LegacyFunction], Meta(min_length=1, max_length=128)] | None = None
    # Newer-version fields (gated by api-version before decoding).
    # "none" and "xhigh" arrived with the GPT-5.1/5.2 families, "minimal" with GPT-5.
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    prediction: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    prompt_cache_key: str | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


REQUEST_FIELDS: frozenset[str] = frozenset(ChatCompletionRequest.__struct_fields__)
