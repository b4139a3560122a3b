# GENERATED FILE: do not edit by hand.
# Made from openapi.yaml by scripts/generate_models.py (`make models`);
# tests/test_models_fresh.py fails when it differs from what the script makes.

from __future__ import annotations
from msgspec import Meta, Struct, UNSET, UnsetType, field
from typing import Annotated, Any, Literal, TypeAlias


class Error(Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(Struct):
    error: Error


MetadataAdditionalProperty: TypeAlias = Annotated[str, Meta(max_length=512)]


Metadata: TypeAlias = Annotated[dict[str, MetadataAdditionalProperty], Meta(max_length=16)]


ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


Verbosity: TypeAlias = Literal["low", "medium", "high"]


ServiceTier: TypeAlias = Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"]


class Model(Struct):
    id: Annotated[str, Meta(description="The Azure deployment name.")]
    object: Literal["model"]
    created: Annotated[int, Meta(description="When this gateway process started (Unix seconds).")]
    owned_by: str


class ListModelsResponse(Struct):
    object: Literal["list"]
    data: list[Model]


class InputTextContent(Struct, tag_field="type", tag="input_text", forbid_unknown_fields=True):
    text: str
    prompt_cache_breakpoint: dict[str, Any] | UnsetType = UNSET


class InputImageContent(Struct, tag_field="type", tag="input_image", forbid_unknown_fields=True):
    image_url: str | None | UnsetType = UNSET
    file_id: str | None | UnsetType = UNSET
    detail: Literal["low", "high", "auto", "original"] | UnsetType = UNSET
    prompt_cache_breakpoint: dict[str, Any] | UnsetType = UNSET


class InputFileContent(Struct, tag_field="type", tag="input_file", forbid_unknown_fields=True):
    file_id: str | None | UnsetType = UNSET
    filename: str | UnsetType = UNSET
    file_data: str | UnsetType = UNSET
    file_url: str | UnsetType = UNSET
    detail: Literal["low", "high", "auto"] | UnsetType = UNSET
    prompt_cache_breakpoint: dict[str, Any] | UnsetType = UNSET


class InputAudio(Struct, forbid_unknown_fields=True):
    data: str
    format: Literal["mp3", "wav"]


class FunctionCallItem(Struct, tag_field="type", tag="function_call", forbid_unknown_fields=True):
    call_id: str
    name: str
    arguments: str
    id: str | None | UnsetType = UNSET
    namespace: (
        Annotated[
            str,
            Meta(description="The namespace tool the function belongs to (the gateway flattens namespaces for Azure)."),
        ]
        | None
        | UnsetType
    ) = UNSET
    caller: dict[str, Any] | None | UnsetType = UNSET
    async_: bool | None | UnsetType = field(name="async", default=UNSET)
    async__1: (
        Annotated[
            bool,
            Meta(
                description="How the openai SDK's `model_dump()` spells `async`; accepted so its dumps replay as they are."
            ),
        ]
        | None
        | UnsetType
    ) = field(name="async_", default=UNSET)
    created_by: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


Output: TypeAlias = Annotated[str, Meta(max_length=10485760)]


FunctionCallOutputContent: TypeAlias = InputTextContent | InputImageContent | InputFileContent


class ItemReference(Struct, tag_field="type", tag="item_reference", forbid_unknown_fields=True):
    id: str


class CustomToolCallItem(Struct, tag_field="type", tag="custom_tool_call", forbid_unknown_fields=True):
    call_id: str
    name: str
    input: str
    id: str | None | UnsetType = UNSET
    namespace: str | None | UnsetType = UNSET
    caller: dict[str, Any] | None | UnsetType = UNSET
    async_: bool | None | UnsetType = field(name="async", default=UNSET)
    async__1: bool | None | UnsetType = field(name="async_", default=UNSET)
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


class CustomToolCallOutputItem(Struct, tag_field="type", tag="custom_tool_call_output", forbid_unknown_fields=True):
    call_id: str
    output: str | list[FunctionCallOutputContent]
    id: str | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


class ToolSearchCallItem(Struct, tag_field="type", tag="tool_search_call", forbid_unknown_fields=True):
    arguments: Any
    id: str | None | UnsetType = UNSET
    call_id: str | None | UnsetType = UNSET
    execution: Literal["server", "client"] | None | UnsetType = UNSET
    created_by: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


class HostedToolFileSearch(Struct, tag_field="type", tag="file_search"):
    pass


class HostedToolComputer(Struct, tag_field="type", tag="computer"):
    pass


class HostedToolComputerUsePreview(Struct, tag_field="type", tag="computer_use_preview"):
    pass


class HostedToolWebSearch(Struct, tag_field="type", tag="web_search"):
    pass


class HostedToolWebSearch20250826(Struct, tag_field="type", tag="web_search_2025_08_26"):
    pass


class HostedToolMcp(Struct, tag_field="type", tag="mcp"):
    pass


class HostedToolCodeInterpreter(Struct, tag_field="type", tag="code_interpreter"):
    pass


class HostedToolProgrammaticToolCalling(Struct, tag_field="type", tag="programmatic_tool_calling"):
    pass


class HostedToolImageGeneration(Struct, tag_field="type", tag="image_generation"):
    pass


class HostedToolLocalShell(Struct, tag_field="type", tag="local_shell"):
    pass


class HostedToolShell(Struct, tag_field="type", tag="shell"):
    pass


class HostedToolWebSearchPreview(Struct, tag_field="type", tag="web_search_preview"):
    pass


class HostedToolWebSearchPreview20250311(Struct, tag_field="type", tag="web_search_preview_2025_03_11"):
    pass


class HostedToolApplyPatch(Struct, tag_field="type", tag="apply_patch"):
    pass


class HostedItemFileSearchCall(Struct, tag_field="type", tag="file_search_call"):
    pass


class HostedItemComputerCall(Struct, tag_field="type", tag="computer_call"):
    pass


class HostedItemComputerCallOutput(Struct, tag_field="type", tag="computer_call_output"):
    pass


class HostedItemWebSearchCall(Struct, tag_field="type", tag="web_search_call"):
    pass


class CompactionInputItem(Struct, tag_field="type", tag="compaction", forbid_unknown_fields=True):
    encrypted_content: str
    id: str | UnsetType = UNSET
    created_by: str | UnsetType = UNSET


class HostedItemCompactionTrigger(Struct, tag_field="type", tag="compaction_trigger"):
    pass


class HostedItemImageGenerationCall(Struct, tag_field="type", tag="image_generation_call"):
    pass


class HostedItemCodeInterpreterCall(Struct, tag_field="type", tag="code_interpreter_call"):
    pass


class HostedItemLocalShellCall(Struct, tag_field="type", tag="local_shell_call"):
    pass


class HostedItemLocalShellCallOutput(Struct, tag_field="type", tag="local_shell_call_output"):
    pass


class HostedItemShellCall(Struct, tag_field="type", tag="shell_call"):
    pass


class HostedItemShellCallOutput(Struct, tag_field="type", tag="shell_call_output"):
    pass


class HostedItemApplyPatchCall(Struct, tag_field="type", tag="apply_patch_call"):
    pass


class HostedItemApplyPatchCallOutput(Struct, tag_field="type", tag="apply_patch_call_output"):
    pass


class HostedItemMcpListTools(Struct, tag_field="type", tag="mcp_list_tools"):
    pass


class HostedItemMcpApprovalRequest(Struct, tag_field="type", tag="mcp_approval_request"):
    pass


class HostedItemMcpApprovalResponse(Struct, tag_field="type", tag="mcp_approval_response"):
    pass


class HostedItemMcpCall(Struct, tag_field="type", tag="mcp_call"):
    pass


class HostedItemProgram(Struct, tag_field="type", tag="program"):
    pass


class HostedItemProgramOutput(Struct, tag_field="type", tag="program_output"):
    pass


class ToolChoiceHostedFileSearch(Struct, tag_field="type", tag="file_search"):
    pass


class ToolChoiceHostedWebSearchPreview(Struct, tag_field="type", tag="web_search_preview"):
    pass


class ToolChoiceHostedComputer(Struct, tag_field="type", tag="computer"):
    pass


class ToolChoiceHostedComputerUsePreview(Struct, tag_field="type", tag="computer_use_preview"):
    pass


class ToolChoiceHostedComputerUse(Struct, tag_field="type", tag="computer_use"):
    pass


class ToolChoiceHostedWebSearchPreview20250311(Struct, tag_field="type", tag="web_search_preview_2025_03_11"):
    pass


class ToolChoiceHostedImageGeneration(Struct, tag_field="type", tag="image_generation"):
    pass


class ToolChoiceHostedCodeInterpreter(Struct, tag_field="type", tag="code_interpreter"):
    pass


class ToolChoiceHostedMcp(Struct, tag_field="type", tag="mcp"):
    pass


class ToolChoiceCustom(Struct, tag_field="type", tag="custom", forbid_unknown_fields=True):
    name: str


class ToolChoiceHostedProgrammaticToolCalling(Struct, tag_field="type", tag="programmatic_tool_calling"):
    pass


class ToolChoiceHostedApplyPatch(Struct, tag_field="type", tag="apply_patch"):
    pass


class ToolChoiceHostedShell(Struct, tag_field="type", tag="shell"):
    pass


class CustomToolFormatText(Struct, tag_field="type", tag="text", forbid_unknown_fields=True):
    pass


class CustomToolFormatGrammar(Struct, tag_field="type", tag="grammar", forbid_unknown_fields=True):
    syntax: Literal["lark", "regex"]
    definition: str


class ToolSearchTool(Struct, tag_field="type", tag="tool_search", forbid_unknown_fields=True):
    execution: Literal["server", "client"] | None | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    parameters: dict[str, Any] | None | UnsetType = UNSET


class FunctionTool(Struct, tag_field="type", tag="function", forbid_unknown_fields=True):
    name: str
    description: str | None | UnsetType = UNSET
    parameters: dict[str, Any] | None | UnsetType = UNSET
    strict: bool | None | UnsetType = UNSET
    output_schema: dict[str, Any] | None | UnsetType = UNSET
    defer_loading: bool | UnsetType = UNSET
    allowed_callers: list[dict[str, Any]] | None | UnsetType = UNSET


ToolChoiceOptions: TypeAlias = Literal["none", "auto", "required"]


class ToolChoiceFunction(Struct, tag_field="type", tag="function", forbid_unknown_fields=True):
    name: str


class ToolChoiceAllowed(Struct, tag_field="type", tag="allowed_tools", forbid_unknown_fields=True):
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class TextFormatText(Struct, tag_field="type", tag="text", forbid_unknown_fields=True):
    pass


class TextFormatJsonObject(Struct, tag_field="type", tag="json_object", forbid_unknown_fields=True):
    pass


class TextFormatJsonSchema(Struct, tag_field="type", tag="json_schema", forbid_unknown_fields=True):
    name: str
    schema: dict[str, Any] | None
    description: str | None | UnsetType = UNSET
    strict: bool | None | UnsetType = UNSET


class Reasoning(Struct, forbid_unknown_fields=True):
    effort: ReasoningEffort | None | UnsetType = UNSET
    summary: Literal["auto", "concise", "detailed"] | None | UnsetType = UNSET
    generate_summary: Literal["auto", "concise", "detailed"] | None | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    context: Literal["auto", "current_turn", "all_turns"] | None | UnsetType = UNSET


IncludeEnum: TypeAlias = Literal[
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
]


class ResponseStreamOptions(Struct, forbid_unknown_fields=True):
    include_obfuscation: bool | UnsetType = UNSET


class PromptCacheOptionsParam(Struct, forbid_unknown_fields=True):
    ttl: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET


class ConversationParam(Struct, forbid_unknown_fields=True):
    id: str


class Prompt(Struct, forbid_unknown_fields=True):
    id: str
    version: str | None | UnsetType = UNSET
    variables: dict[str, Any] | None | UnsetType = UNSET


class ModerationParam(Struct, forbid_unknown_fields=True):
    model: str
    policy: dict[str, Any] | None | UnsetType = UNSET


class ContextManagementParam(Struct, forbid_unknown_fields=True):
    type: str
    compact_threshold: Annotated[int, Meta(ge=1000)] | None | UnsetType = UNSET


class CompactionItem(Struct, tag_field="type", tag="compaction"):
    id: str
    encrypted_content: str
    created_by: str | UnsetType = UNSET


class WebSocketErrorEvent(Struct):
    type: Literal["error"]
    status: int
    error: Error


class IncompleteDetails(Struct):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseError(Struct):
    code: str
    message: str


class InputTokensDetails(Struct):
    cached_tokens: int
    cache_write_tokens: int


class OutputTokensDetails(Struct):
    reasoning_tokens: int


class RefusalContent(Struct, tag_field="type", tag="refusal"):
    refusal: str


class UrlCitation(Struct):
    type: Literal["url_citation"]
    url: str
    start_index: int
    end_index: int
    title: str


class TopLogProb(Struct):
    token: str
    logprob: float
    bytes: list[int]


class FunctionToolCall(Struct, tag_field="type", tag="function_call"):
    id: str
    call_id: str
    name: str
    arguments: str
    status: Literal["in_progress", "completed", "incomplete"]
    namespace: (
        Annotated[
            str,
            Meta(description="Present when the function is a member of a namespace tool."),
        ]
        | UnsetType
    ) = UNSET


class CustomToolCall(Struct, tag_field="type", tag="custom_tool_call"):
    id: str
    call_id: str
    name: str
    input: str
    status: Literal["in_progress", "completed", "incomplete"]
    namespace: str | UnsetType = UNSET


class ToolSearchCall(Struct, tag_field="type", tag="tool_search_call"):
    id: str
    call_id: str
    execution: Literal["server", "client"]
    arguments: Any
    status: Literal["in_progress", "completed", "incomplete"]


class SummaryTextContent(Struct, forbid_unknown_fields=True):
    type: Literal["summary_text"]
    text: str


class ReasoningTextContent(Struct, forbid_unknown_fields=True):
    type: Literal["reasoning_text"]
    text: str


class ResponseDeleted(Struct):
    id: str
    object: Literal["response"]
    deleted: bool


class ConversationRef(Struct):
    id: str


class FunctionCallOutputResource(Struct, tag_field="type", tag="function_call_output"):
    id: str
    call_id: str
    output: str | list[FunctionCallOutputContent]
    status: Literal["in_progress", "completed", "incomplete"]


class ConversationResource(Struct):
    id: str
    object: Literal["conversation"]
    metadata: Metadata
    created_at: int


class ConversationDeleted(Struct):
    id: str
    object: Literal["conversation.deleted"]
    deleted: bool


class UpdateConversationBody(Struct, forbid_unknown_fields=True):
    metadata: Metadata


class ResponseRefusalDeltaEvent(Struct, tag_field="type", tag="response.refusal.delta"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    delta: str


class ResponseRefusalDoneEvent(Struct, tag_field="type", tag="response.refusal.done"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    refusal: str


class ResponseFunctionCallArgumentsDeltaEvent(Struct, tag_field="type", tag="response.function_call_arguments.delta"):
    sequence_number: int
    item_id: str
    output_index: int
    delta: str


class ResponseFunctionCallArgumentsDoneEvent(Struct, tag_field="type", tag="response.function_call_arguments.done"):
    sequence_number: int
    item_id: str
    output_index: int
    name: str
    arguments: str


class ResponseReasoningSummaryPartAddedEvent(Struct, tag_field="type", tag="response.reasoning_summary_part.added"):
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    part: SummaryTextContent


class ResponseReasoningSummaryPartDoneEvent(Struct, tag_field="type", tag="response.reasoning_summary_part.done"):
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    part: SummaryTextContent


class ResponseReasoningSummaryTextDeltaEvent(Struct, tag_field="type", tag="response.reasoning_summary_text.delta"):
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    delta: str


class ResponseReasoningSummaryTextDoneEvent(Struct, tag_field="type", tag="response.reasoning_summary_text.done"):
    sequence_number: int
    item_id: str
    output_index: int
    summary_index: int
    text: str


Stop: TypeAlias = Annotated[list[str], Meta(max_length=4, min_length=1)]


class ChatCompletionRequestFunctionMessage(Struct, tag_field="role", tag="function", forbid_unknown_fields=True):
    content: str | None
    name: str


class ChatCompletionRequestMessageContentPartText(Struct, tag_field="type", tag="text", forbid_unknown_fields=True):
    text: str


class ChatCompletionRequestMessageContentPartRefusal(
    Struct, tag_field="type", tag="refusal", forbid_unknown_fields=True
):
    refusal: str


class ChatImageUrl(Struct, forbid_unknown_fields=True):
    url: str
    detail: Literal["auto", "low", "high"] | UnsetType = UNSET


class ChatInputAudio(Struct, forbid_unknown_fields=True):
    data: str
    format: Literal["wav", "mp3"]


class ChatFile(Struct, forbid_unknown_fields=True):
    filename: str | UnsetType = UNSET
    file_data: str | UnsetType = UNSET
    file_id: str | UnsetType = UNSET


class ChatCompletionFunctionCall(Struct, forbid_unknown_fields=True):
    name: str
    arguments: str


class FunctionObject(Struct, forbid_unknown_fields=True):
    name: str
    description: str | UnsetType = UNSET
    parameters: dict[str, Any] | UnsetType = UNSET
    strict: bool | None | UnsetType = UNSET


class ChatCompletionFunctions(Struct, forbid_unknown_fields=True):
    name: str
    description: str | UnsetType = UNSET
    parameters: dict[str, Any] | UnsetType = UNSET


class ChatCompletionFunctionCallOption(Struct, forbid_unknown_fields=True):
    name: str


class ChatCompletionNamedToolChoice(Struct, tag_field="type", tag="function", forbid_unknown_fields=True):
    function: ChatCompletionFunctionCallOption


class ChatAllowedTools(Struct, forbid_unknown_fields=True):
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class ResponseFormatText(Struct, tag_field="type", tag="text", forbid_unknown_fields=True):
    pass


class ResponseFormatJsonObject(Struct, tag_field="type", tag="json_object", forbid_unknown_fields=True):
    pass


class ChatJsonSchema(Struct, forbid_unknown_fields=True):
    name: str
    description: str | UnsetType = UNSET
    schema: dict[str, Any] | UnsetType = UNSET
    strict: bool | None | UnsetType = UNSET


class ChatCompletionStreamOptions(Struct, forbid_unknown_fields=True):
    include_usage: bool | UnsetType = UNSET
    include_obfuscation: bool | UnsetType = UNSET


class TopLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] | None | UnsetType = UNSET


class ChatCompletionTokenLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] | None | UnsetType = UNSET
    top_logprobs: list[TopLogprob] | UnsetType = UNSET


class ChatCompletionResponseToolCall(Struct):
    id: str
    function: ChatCompletionFunctionCall
    type: str | UnsetType = UNSET


class AzureCitation(Struct):
    content: str
    title: str | None | UnsetType = UNSET
    url: str | None | UnsetType = UNSET
    filepath: str | None | UnsetType = UNSET
    chunk_id: str | None | UnsetType = UNSET


class PromptTokensDetails(Struct):
    cached_tokens: int | None | UnsetType = UNSET
    audio_tokens: int | None | UnsetType = UNSET


class CompletionTokensDetails(Struct):
    reasoning_tokens: int | None | UnsetType = UNSET
    audio_tokens: int | None | UnsetType = UNSET
    accepted_prediction_tokens: int | None | UnsetType = UNSET
    rejected_prediction_tokens: int | None | UnsetType = UNSET


class ChatCompletionFunctionCallChunk(Struct):
    name: str | None | UnsetType = UNSET
    arguments: str | None | UnsetType = UNSET


class InputAudioContent(Struct, tag_field="type", tag="input_audio", forbid_unknown_fields=True):
    input_audio: InputAudio


class FunctionCallOutputItem(Struct, tag_field="type", tag="function_call_output", forbid_unknown_fields=True):
    call_id: Annotated[str, Meta(max_length=64, min_length=1)]
    output: Output | list[FunctionCallOutputContent]
    id: str | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    namespace: str | None | UnsetType = UNSET
    caller: dict[str, Any] | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


class ReasoningInputItem(Struct, tag_field="type", tag="reasoning", forbid_unknown_fields=True):
    summary: list[SummaryTextContent]
    id: str | None | UnsetType = UNSET
    content: (
        Annotated[
            list[ReasoningTextContent],
            Meta(description="Null as Codex and NeMo Gym replay it."),
        ]
        | None
        | UnsetType
    ) = UNSET
    encrypted_content: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


CustomToolFormat: TypeAlias = CustomToolFormatText | CustomToolFormatGrammar


ToolChoiceObject: TypeAlias = (
    ToolChoiceFunction
    | ToolChoiceAllowed
    | ToolChoiceHostedFileSearch
    | ToolChoiceHostedWebSearchPreview
    | ToolChoiceHostedComputer
    | ToolChoiceHostedComputerUsePreview
    | ToolChoiceHostedComputerUse
    | ToolChoiceHostedWebSearchPreview20250311
    | ToolChoiceHostedImageGeneration
    | ToolChoiceHostedCodeInterpreter
    | ToolChoiceHostedMcp
    | ToolChoiceCustom
    | ToolChoiceHostedProgrammaticToolCalling
    | ToolChoiceHostedApplyPatch
    | ToolChoiceHostedShell
)


TextResponseFormat: TypeAlias = TextFormatText | TextFormatJsonSchema | TextFormatJsonObject


class ResponseUsage(Struct):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


Annotation: TypeAlias = UrlCitation


class LogProb(Struct):
    token: str
    logprob: float
    bytes: list[int]
    top_logprobs: list[TopLogProb]


class ReasoningItem(Struct, tag_field="type", tag="reasoning"):
    id: str
    summary: list[SummaryTextContent]
    content: list[ReasoningTextContent] | UnsetType = UNSET
    encrypted_content: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | UnsetType = UNSET


class ResponseTextDeltaEvent(Struct, tag_field="type", tag="response.output_text.delta"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[LogProb]


class ResponseTextDoneEvent(Struct, tag_field="type", tag="response.output_text.done"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    text: str
    logprobs: list[LogProb]


ChatTextContentList: TypeAlias = Annotated[list[ChatCompletionRequestMessageContentPartText], Meta(min_length=1)]


ChatCompletionRequestAssistantMessageContentPart: TypeAlias = (
    ChatCompletionRequestMessageContentPartText | ChatCompletionRequestMessageContentPartRefusal
)


class ChatCompletionRequestMessageContentPartImage(
    Struct, tag_field="type", tag="image_url", forbid_unknown_fields=True
):
    image_url: ChatImageUrl


class ChatCompletionRequestMessageContentPartAudio(
    Struct, tag_field="type", tag="input_audio", forbid_unknown_fields=True
):
    input_audio: ChatInputAudio


class ChatCompletionRequestMessageContentPartFile(Struct, tag_field="type", tag="file", forbid_unknown_fields=True):
    file: ChatFile


class ChatCompletionMessageToolCall(Struct, forbid_unknown_fields=True):
    id: str
    type: Literal["function"]
    function: ChatCompletionFunctionCall


class ChatCompletionTool(Struct, forbid_unknown_fields=True):
    type: Literal["function"]
    function: FunctionObject


class ChatCompletionAllowedToolsChoice(Struct, tag_field="type", tag="allowed_tools", forbid_unknown_fields=True):
    allowed_tools: ChatAllowedTools


class ResponseFormatJsonSchema(Struct, tag_field="type", tag="json_schema", forbid_unknown_fields=True):
    json_schema: ChatJsonSchema


class ChatChoiceLogprobs(Struct):
    content: list[ChatCompletionTokenLogprob] | None | UnsetType = UNSET
    refusal: list[ChatCompletionTokenLogprob] | None | UnsetType = UNSET


class AzureChatContext(Struct):
    intent: str | None | UnsetType = UNSET
    citations: list[AzureCitation] | None | UnsetType = UNSET


class CompletionUsage(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None | UnsetType = UNSET
    completion_tokens_details: CompletionTokensDetails | None | UnsetType = UNSET


class ChatCompletionMessageToolCallChunk(Struct):
    index: int
    id: str | None | UnsetType = UNSET
    type: str | None | UnsetType = UNSET
    function: ChatCompletionFunctionCallChunk | None | UnsetType = UNSET


class CustomTool(Struct, tag_field="type", tag="custom", forbid_unknown_fields=True):
    name: str
    description: str | None | UnsetType = UNSET
    format: CustomToolFormat | UnsetType = UNSET
    defer_loading: bool | UnsetType = UNSET


NamespaceMember: TypeAlias = FunctionTool | CustomTool


ToolChoiceParam: TypeAlias = ToolChoiceOptions | ToolChoiceObject


class ResponseTextParam(Struct, forbid_unknown_fields=True):
    format: TextResponseFormat | UnsetType = UNSET
    verbosity: Verbosity | None | UnsetType = UNSET


class OutputTextContent(Struct, tag_field="type", tag="output_text"):
    text: str
    annotations: list[Annotation] | UnsetType = UNSET
    logprobs: (
        Annotated[
            list[LogProb],
            Meta(
                description="Always an array in responses; null accepted in input (the openai SDK's model_dump of an answer without logprobs)."
            ),
        ]
        | None
        | UnsetType
    ) = UNSET


ChatTextContent: TypeAlias = str | ChatTextContentList


ChatAssistantContentList: TypeAlias = Annotated[
    list[ChatCompletionRequestAssistantMessageContentPart], Meta(min_length=1)
]


ChatCompletionRequestUserMessageContentPart: TypeAlias = (
    ChatCompletionRequestMessageContentPartText
    | ChatCompletionRequestMessageContentPartImage
    | ChatCompletionRequestMessageContentPartAudio
    | ChatCompletionRequestMessageContentPartFile
)


ChatCompletionToolChoiceObject: TypeAlias = ChatCompletionNamedToolChoice | ChatCompletionAllowedToolsChoice


ChatResponseFormat: TypeAlias = ResponseFormatText | ResponseFormatJsonObject | ResponseFormatJsonSchema


class ChatCompletionResponseMessage(Struct):
    role: Literal["assistant"]
    content: str | None | UnsetType = UNSET
    refusal: str | None | UnsetType = UNSET
    reasoning_content: (
        Annotated[str, Meta(description="Reasoning text, sent by some Azure deployments.")] | None | UnsetType
    ) = UNSET
    tool_calls: list[ChatCompletionResponseToolCall] | None | UnsetType = UNSET
    function_call: ChatCompletionFunctionCall | None | UnsetType = UNSET
    annotations: list[dict[str, Any]] | None | UnsetType = UNSET
    audio: dict[str, Any] | None | UnsetType = UNSET
    context: AzureChatContext | None | UnsetType = UNSET


class ChatCompletionStreamDelta(Struct):
    role: str | None | UnsetType = UNSET
    content: str | None | UnsetType = UNSET
    refusal: str | None | UnsetType = UNSET
    reasoning_content: (
        Annotated[str, Meta(description="Reasoning text, sent by some Azure deployments.")] | None | UnsetType
    ) = UNSET
    tool_calls: list[ChatCompletionMessageToolCallChunk] | None | UnsetType = UNSET
    function_call: ChatCompletionFunctionCallChunk | None | UnsetType = UNSET
    context: AzureChatContext | None | UnsetType = UNSET


InputMessageContent: TypeAlias = (
    InputTextContent | InputImageContent | InputFileContent | InputAudioContent | OutputTextContent | RefusalContent
)


class NamespaceTool(Struct, tag_field="type", tag="namespace", forbid_unknown_fields=True):
    name: str
    tools: list[NamespaceMember]
    description: str | None | UnsetType = UNSET


class CompactedMessage(Struct, tag_field="type", tag="message"):
    id: str
    status: Literal["completed"]
    role: Literal["user"]
    content: list[InputMessageContent]


OutputMessageContent: TypeAlias = OutputTextContent | RefusalContent


class MessageResource(Struct, tag_field="type", tag="message"):
    id: str
    status: Literal["in_progress", "completed", "incomplete"]
    role: Literal["user", "assistant", "system", "developer"]
    content: list[InputMessageContent]
    phase: Literal["commentary", "final_answer"] | None | UnsetType = UNSET


class ResponseContentPartAddedEvent(Struct, tag_field="type", tag="response.content_part.added"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    part: OutputMessageContent


class ResponseContentPartDoneEvent(Struct, tag_field="type", tag="response.content_part.done"):
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    part: OutputMessageContent


class ChatCompletionRequestSystemMessage(Struct, tag_field="role", tag="system", forbid_unknown_fields=True):
    content: ChatTextContent
    name: str | UnsetType = UNSET


class ChatCompletionRequestDeveloperMessage(Struct, tag_field="role", tag="developer", forbid_unknown_fields=True):
    content: ChatTextContent
    name: str | UnsetType = UNSET


class ChatCompletionRequestAssistantMessage(Struct, tag_field="role", tag="assistant", forbid_unknown_fields=True):
    content: str | ChatAssistantContentList | None | UnsetType = UNSET
    refusal: str | None | UnsetType = UNSET
    name: str | UnsetType = UNSET
    audio: dict[str, Any] | None | UnsetType = UNSET
    tool_calls: list[ChatCompletionMessageToolCall] | UnsetType = UNSET
    function_call: ChatCompletionFunctionCall | None | UnsetType = UNSET


class ChatCompletionRequestToolMessage(Struct, tag_field="role", tag="tool", forbid_unknown_fields=True):
    content: ChatTextContent
    tool_call_id: str


ChatUserContentList: TypeAlias = Annotated[list[ChatCompletionRequestUserMessageContentPart], Meta(min_length=1)]


ChatCompletionToolChoiceOption: TypeAlias = ToolChoiceOptions | ChatCompletionToolChoiceObject


class ChatCompletionChoice(Struct):
    index: int
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter", "function_call"] | None
    message: ChatCompletionResponseMessage
    logprobs: ChatChoiceLogprobs | None | UnsetType = UNSET
    content_filter_results: dict[str, Any] | UnsetType = UNSET


class ChatCompletionStreamChoice(Struct):
    index: int
    delta: ChatCompletionStreamDelta | UnsetType = UNSET
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter", "function_call"] | None | UnsetType = UNSET
    logprobs: ChatChoiceLogprobs | None | UnsetType = UNSET
    content_filter_results: dict[str, Any] | UnsetType = UNSET
    content_filter_offsets: dict[str, Any] | UnsetType = UNSET


class InputMessage(Struct, tag_field="type", tag="message", forbid_unknown_fields=True):
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[InputMessageContent]
    id: str | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET
    phase: Literal["commentary", "final_answer"] | None | UnsetType = UNSET


Tool: TypeAlias = (
    FunctionTool
    | HostedToolFileSearch
    | HostedToolComputer
    | HostedToolComputerUsePreview
    | HostedToolWebSearch
    | HostedToolWebSearch20250826
    | HostedToolMcp
    | HostedToolCodeInterpreter
    | HostedToolProgrammaticToolCalling
    | HostedToolImageGeneration
    | HostedToolLocalShell
    | HostedToolShell
    | CustomTool
    | NamespaceTool
    | ToolSearchTool
    | HostedToolWebSearchPreview
    | HostedToolWebSearchPreview20250311
    | HostedToolApplyPatch
)


CompactedItem: TypeAlias = CompactedMessage | CompactionItem


class OutputMessage(Struct, tag_field="type", tag="message"):
    id: str
    role: Literal["assistant"]
    content: list[OutputMessageContent]
    status: Literal["in_progress", "completed", "incomplete"]


ItemResource: TypeAlias = Annotated[
    MessageResource | FunctionToolCall | FunctionCallOutputResource | ReasoningItem,
    Meta(
        description="A stored item: an input item the gateway was given (with the id and status it was given or got) or\nan output item it returned. Its JSON is also a valid input item, which is how chains replay it.\n"
    ),
]


class ResponseItemList(Struct):
    object: Literal["list"]
    data: list[ItemResource]
    has_more: bool
    first_id: str | None
    last_id: str | None


class ConversationItemList(Struct):
    object: Literal["list"]
    data: list[ItemResource]
    has_more: bool
    first_id: str | None
    last_id: str | None


class ChatCompletionRequestUserMessage(Struct, tag_field="role", tag="user", forbid_unknown_fields=True):
    content: str | ChatUserContentList
    name: str | UnsetType = UNSET


class CreateChatCompletionResponse(Struct):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatCompletionChoice]
    system_fingerprint: str | None | UnsetType = UNSET
    service_tier: str | None | UnsetType = UNSET
    usage: CompletionUsage | None | UnsetType = UNSET
    prompt_filter_results: list[dict[str, Any]] | UnsetType = UNSET


class CreateChatCompletionStreamResponse(Struct):
    id: str
    object: Annotated[
        str,
        Meta(description="`chat.completion.chunk`; empty in Azure's prompt-filter chunk."),
    ]
    created: int
    model: str
    choices: list[ChatCompletionStreamChoice]
    system_fingerprint: str | None | UnsetType = UNSET
    service_tier: str | None | UnsetType = UNSET
    usage: CompletionUsage | None | UnsetType = UNSET
    prompt_filter_results: list[dict[str, Any]] | UnsetType = UNSET


class ToolSearchOutputItem(Struct, tag_field="type", tag="tool_search_output", forbid_unknown_fields=True):
    tools: list[Tool]
    id: str | None | UnsetType = UNSET
    call_id: str | None | UnsetType = UNSET
    execution: Literal["server", "client"] | None | UnsetType = UNSET
    status: Literal["in_progress", "completed", "incomplete"] | None | UnsetType = UNSET


class AdditionalToolsItem(Struct, tag_field="type", tag="additional_tools", forbid_unknown_fields=True):
    tools: list[Tool]
    id: str | None | UnsetType = UNSET
    role: str | None | UnsetType = UNSET


class ResponseCompaction(Struct):
    id: str
    object: Literal["response.compaction"]
    output: list[CompactedItem]
    created_at: int
    usage: ResponseUsage


OutputItem: TypeAlias = OutputMessage | FunctionToolCall | ReasoningItem | CustomToolCall | ToolSearchCall


class ResponseOutputItemAddedEvent(Struct, tag_field="type", tag="response.output_item.added"):
    sequence_number: int
    output_index: int
    item: OutputItem


class ResponseOutputItemDoneEvent(Struct, tag_field="type", tag="response.output_item.done"):
    sequence_number: int
    output_index: int
    item: OutputItem


ChatCompletionRequestMessage: TypeAlias = (
    ChatCompletionRequestSystemMessage
    | ChatCompletionRequestDeveloperMessage
    | ChatCompletionRequestUserMessage
    | ChatCompletionRequestAssistantMessage
    | ChatCompletionRequestToolMessage
    | ChatCompletionRequestFunctionMessage
)


InputItem: TypeAlias = Annotated[
    InputMessage
    | FunctionCallItem
    | FunctionCallOutputItem
    | ReasoningInputItem
    | ItemReference
    | HostedItemFileSearchCall
    | HostedItemComputerCall
    | HostedItemComputerCallOutput
    | HostedItemWebSearchCall
    | ToolSearchCallItem
    | ToolSearchOutputItem
    | AdditionalToolsItem
    | CompactionInputItem
    | HostedItemCompactionTrigger
    | HostedItemImageGenerationCall
    | HostedItemCodeInterpreterCall
    | HostedItemLocalShellCall
    | HostedItemLocalShellCallOutput
    | HostedItemShellCall
    | HostedItemShellCallOutput
    | HostedItemApplyPatchCall
    | HostedItemApplyPatchCallOutput
    | HostedItemMcpListTools
    | HostedItemMcpApprovalRequest
    | HostedItemMcpApprovalResponse
    | HostedItemMcpCall
    | CustomToolCallItem
    | CustomToolCallOutputItem
    | HostedItemProgram
    | HostedItemProgramOutput,
    Meta(
        description="One input item, told apart by `type`. Before decoding, the gateway gives an item without `type`\nthe type `message` when it has a `role`, and `item_reference` otherwise (as the official API does).\n"
    ),
]


class Response(Struct):
    id: str
    object: Literal["response"]
    created_at: int
    completed_at: int | None
    status: Literal["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]
    incomplete_details: IncompleteDetails | None
    error: ResponseError | None
    model: str
    previous_response_id: str | None
    instructions: str | None
    output: list[OutputItem]
    tools: list[Tool]
    tool_choice: ToolChoiceParam
    truncation: Literal["auto", "disabled"]
    parallel_tool_calls: bool
    text: ResponseTextParam
    top_p: float
    presence_penalty: float
    frequency_penalty: float
    top_logprobs: int
    temperature: float
    reasoning: Reasoning | None
    usage: ResponseUsage | None
    max_output_tokens: int | None
    max_tool_calls: int | None
    store: bool
    background: bool
    service_tier: str
    metadata: Metadata
    safety_identifier: str | None
    prompt_cache_key: str | None
    prompt_cache_retention: Literal["in_memory", "24h"] | None | UnsetType = UNSET
    user: str | UnsetType = UNSET
    include: list[IncludeEnum] | None | UnsetType = UNSET
    conversation: (
        Annotated[
            ConversationRef,
            Meta(description="The conversation this response belongs to (`conversation` on create), else absent."),
        ]
        | None
        | UnsetType
    ) = UNSET


class CreateConversationBody(Struct, forbid_unknown_fields=True):
    metadata: Metadata | None | UnsetType = UNSET
    items: Annotated[list[InputItem], Meta(max_length=20)] | None | UnsetType = UNSET


class CreateConversationItemsBody(Struct, forbid_unknown_fields=True):
    items: Annotated[list[InputItem], Meta(max_length=20, min_length=1)]


class ResponseCreatedEvent(Struct, tag_field="type", tag="response.created"):
    sequence_number: int
    response: Response


class ResponseQueuedEvent(Struct, tag_field="type", tag="response.queued"):
    sequence_number: int
    response: Response


class ResponseInProgressEvent(Struct, tag_field="type", tag="response.in_progress"):
    sequence_number: int
    response: Response


class ResponseCompletedEvent(Struct, tag_field="type", tag="response.completed"):
    sequence_number: int
    response: Response


class ResponseIncompleteEvent(Struct, tag_field="type", tag="response.incomplete"):
    sequence_number: int
    response: Response


class ResponseFailedEvent(Struct, tag_field="type", tag="response.failed"):
    sequence_number: int
    response: Response


class CreateChatCompletionRequest(Struct, forbid_unknown_fields=True):
    messages: Annotated[list[ChatCompletionRequestMessage], Meta(min_length=1)]
    model: str | UnsetType = UNSET
    frequency_penalty: Annotated[float, Meta(ge=-2.0, le=2.0)] | None | UnsetType = UNSET
    presence_penalty: Annotated[float, Meta(ge=-2.0, le=2.0)] | None | UnsetType = UNSET
    logit_bias: dict[str, Any] | None | UnsetType = UNSET
    logprobs: bool | None | UnsetType = UNSET
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None | UnsetType = UNSET
    max_tokens: int | None | UnsetType = UNSET
    max_completion_tokens: int | None | UnsetType = UNSET
    n: Annotated[int, Meta(ge=1, le=128)] | None | UnsetType = UNSET
    modalities: list[Literal["text", "audio"]] | None | UnsetType = UNSET
    audio: dict[str, Any] | None | UnsetType = UNSET
    prediction: dict[str, Any] | None | UnsetType = UNSET
    seed: int | None | UnsetType = UNSET
    service_tier: ServiceTier | None | UnsetType = UNSET
    stop: str | Stop | None | UnsetType = UNSET
    store: bool | None | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
    stream: bool | None | UnsetType = UNSET
    stream_options: ChatCompletionStreamOptions | None | UnsetType = UNSET
    temperature: Annotated[float, Meta(ge=0.0, le=2.0)] | None | UnsetType = UNSET
    top_p: Annotated[float, Meta(ge=0.0, le=1.0)] | None | UnsetType = UNSET
    tools: list[ChatCompletionTool] | UnsetType = UNSET
    tool_choice: ChatCompletionToolChoiceOption | UnsetType = UNSET
    parallel_tool_calls: bool | UnsetType = UNSET
    user: str | UnsetType = UNSET
    safety_identifier: str | UnsetType = UNSET
    prompt_cache_key: str | UnsetType = UNSET
    prompt_cache_retention: Literal["in_memory", "24h"] | None | UnsetType = UNSET
    prompt_cache_options: dict[str, Any] | UnsetType = UNSET
    reasoning_effort: ReasoningEffort | None | UnsetType = UNSET
    verbosity: Verbosity | None | UnsetType = UNSET
    response_format: ChatResponseFormat | UnsetType = UNSET
    web_search_options: dict[str, Any] | UnsetType = UNSET
    moderation: dict[str, Any] | None | UnsetType = UNSET
    function_call: Literal["none", "auto"] | ChatCompletionFunctionCallOption | UnsetType = UNSET
    functions: Annotated[list[ChatCompletionFunctions], Meta(max_length=128, min_length=1)] | UnsetType = UNSET
    data_sources: (
        Annotated[
            list[dict[str, Any]],
            Meta(description='Azure OpenAI "On Your Data" sources, passed to Azure as sent.'),
        ]
        | UnsetType
    ) = UNSET


InputParam: TypeAlias = Annotated[str | list[InputItem], Meta(description="Text, or a list of input items.")]


class CompactResponseRequest(Struct, forbid_unknown_fields=True):
    model: str
    input: InputParam | None | UnsetType = UNSET
    previous_response_id: str | None | UnsetType = UNSET
    instructions: str | None | UnsetType = UNSET
    prompt_cache_key: Annotated[str, Meta(max_length=64)] | None | UnsetType = UNSET
    prompt_cache_retention: Literal["in_memory", "24h"] | None | UnsetType = UNSET
    prompt_cache_options: PromptCacheOptionsParam | UnsetType = UNSET
    service_tier: ServiceTier | None | UnsetType = UNSET


ResponseStreamEvent: TypeAlias = Annotated[
    ResponseCreatedEvent
    | ResponseQueuedEvent
    | ResponseInProgressEvent
    | ResponseCompletedEvent
    | ResponseIncompleteEvent
    | ResponseFailedEvent
    | ResponseOutputItemAddedEvent
    | ResponseOutputItemDoneEvent
    | ResponseContentPartAddedEvent
    | ResponseContentPartDoneEvent
    | ResponseTextDeltaEvent
    | ResponseTextDoneEvent
    | ResponseRefusalDeltaEvent
    | ResponseRefusalDoneEvent
    | ResponseFunctionCallArgumentsDeltaEvent
    | ResponseFunctionCallArgumentsDoneEvent
    | ResponseReasoningSummaryPartAddedEvent
    | ResponseReasoningSummaryPartDoneEvent
    | ResponseReasoningSummaryTextDeltaEvent
    | ResponseReasoningSummaryTextDoneEvent,
    Meta(
        description="The events of a streamed Response: the subset of OpenAI's `ResponseStreamEvent` that a Chat\nCompletions backend can produce, chosen so that every event is also valid in the Open Responses\nstreaming union (hence reasoning is streamed as summary parts, and failures as `response.failed`\nrather than an `error` event, whose two specifications disagree on its shape).\n"
    ),
]


class CreateResponse(Struct, forbid_unknown_fields=True):
    model: str | UnsetType = UNSET
    input: InputParam | UnsetType = UNSET
    instructions: str | None | UnsetType = UNSET
    tools: list[Tool] | UnsetType = UNSET
    tool_choice: ToolChoiceParam | UnsetType = UNSET
    parallel_tool_calls: bool | None | UnsetType = UNSET
    max_output_tokens: Annotated[int, Meta(ge=16)] | None | UnsetType = UNSET
    max_tool_calls: int | None | UnsetType = UNSET
    temperature: Annotated[float, Meta(ge=0.0, le=2.0)] | None | UnsetType = UNSET
    top_p: Annotated[float, Meta(ge=0.0, le=1.0)] | None | UnsetType = UNSET
    top_logprobs: Annotated[int, Meta(ge=0, le=20)] | None | UnsetType = UNSET
    text: ResponseTextParam | UnsetType = UNSET
    reasoning: Reasoning | None | UnsetType = UNSET
    include: list[IncludeEnum] | None | UnsetType = UNSET
    metadata: Metadata | None | UnsetType = UNSET
    store: bool | None | UnsetType = UNSET
    background: (
        Annotated[
            bool,
            Meta(
                description='Run the response in the gateway and answer at once with it `queued` (or, with `stream`, with its\nevents as they come; leaving the stream does not stop the run). Poll `GET /v1/responses/{id}`,\nresume with `?stream=true&starting_after=N`, cancel with `POST /v1/responses/{id}/cancel`.\nNeeds the store (400 with `store_url = "off"`) and `store` true.\n'
            ),
        ]
        | None
        | UnsetType
    ) = UNSET
    stream: bool | None | UnsetType = UNSET
    stream_options: ResponseStreamOptions | None | UnsetType = UNSET
    user: str | UnsetType = UNSET
    client_metadata: (
        Annotated[
            dict[str, Any],
            Meta(
                description="Describes the client (Codex CLI sends its thread, session and turn ids here). Accepted and never\nforwarded to Azure or echoed: it cannot change the answer.\n"
            ),
        ]
        | None
        | UnsetType
    ) = UNSET
    safety_identifier: Annotated[str, Meta(max_length=64)] | None | UnsetType = UNSET
    prompt_cache_key: str | None | UnsetType = UNSET
    prompt_cache_retention: Literal["in_memory", "24h"] | None | UnsetType = UNSET
    prompt_cache_options: PromptCacheOptionsParam | UnsetType = UNSET
    service_tier: ServiceTier | None | UnsetType = UNSET
    truncation: Literal["auto", "disabled"] | None | UnsetType = UNSET
    previous_response_id: str | None | UnsetType = UNSET
    conversation: str | ConversationParam | None | UnsetType = UNSET
    prompt: Prompt | None | UnsetType = UNSET
    moderation: ModerationParam | None | UnsetType = UNSET
    context_management: Annotated[list[ContextManagementParam], Meta(min_length=1)] | None | UnsetType = UNSET
