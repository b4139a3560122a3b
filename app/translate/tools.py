"""Responses `tools` and `tool_choice` → Chat Completions tools and tool_choice, and the calls back.

Chat Completions knows one kind of tool, the function. Every tool the *client* runs is therefore sent as
a function, and the model's call of it is given back in the kind the client offered:

- `function`: itself; its call comes back as `function_call`.
- `namespace` members: `<namespace>__<name>` (shortened with a hash past 64 characters); the call comes
  back as `function_call` with the member's `name` and `namespace`.
- `custom` (text or grammar): one string parameter `input`, the grammar in the description; the call
  comes back as `custom_tool_call` with that `input`.
- `tool_search` with `execution: "client"`: `tool_search` with its own `parameters`; the call comes back
  as `tool_search_call` with the `arguments` object.

Tools arrive in `tools` and also mid-conversation, in `additional_tools` and `tool_search_output` input
items (`input_tools` finds them). Tools OpenAI runs on its servers (web search, file search, code
interpreter, image generation, MCP, server-side tool search) cannot run behind Chat Completions: the
`hosted_tools` option omits them (each named, so the service can say so in a header and the log) or
refuses them. Built-in tools the client runs but whose call format only the Responses API has
(`computer_use_preview`, `shell`, `local_shell`, `apply_patch`) are refused: offer them as functions.
`allowed_tools` becomes the allowed subset plus its mode, the rule the Chat passthrough shares
(`only_allowed`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.params import given, tag_of, unsupported
from app.wire.errors import invalid_request

# Run by OpenAI, not by the client: nothing behind Chat Completions can run them.
HOSTED_TOOLS = frozenset(
    {
        "web_search",
        "web_search_2025_08_26",
        "web_search_preview",
        "web_search_preview_2025_03_11",
        "file_search",
        "code_interpreter",
        "image_generation",
        "mcp",
        "programmatic_tool_calling",
    }
)
# Run by the client, with call items only the Responses API has.
CLIENT_BUILTINS = frozenset({"computer", "computer_use", "computer_use_preview", "local_shell", "shell", "apply_patch"})

_CHAT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CUSTOM_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string", "description": "The tool's whole input, as free-form text."}},
    "required": ["input"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class ClientTool:
    """What a Chat function stands for: the tool kind and the name the client knows."""

    kind: Literal["function", "custom", "tool_search"]
    name: str
    namespace: str | None = None


@dataclass(slots=True)
class ToolSet:
    """The Chat tools for one request, how to give their calls back, and the hosted tools left out."""

    chat: list[m.ChatCompletionTool] = field(default_factory=list)
    # Only the functions that stand for something else; a plain function maps to itself.
    mapped: dict[str, ClientTool] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def output_item(self, *, id: str, call_id: str, name: str, arguments: str, status: Any) -> m.OutputItem:
        """The Responses item for the model's call of Chat function `name` (`status`: an item status)."""
        status_ = status
        tool = self.mapped.get(name)
        if tool is None:
            return m.FunctionToolCall(id=id, call_id=call_id, name=name, arguments=arguments, status=status_)
        if tool.kind == "custom":
            item = m.CustomToolCall(
                id=id.replace("fc_", "ctc_", 1),
                call_id=call_id,
                name=tool.name,
                input=_input_of(arguments),
                status=status_,
            )
            if tool.namespace:
                item.namespace = tool.namespace
            return item
        if tool.kind == "tool_search":
            return m.ToolSearchCall(
                id=id.replace("fc_", "tsc_", 1), call_id=call_id, execution="client",
                arguments=_json_or_text(arguments), status=status_,
            )  # fmt: skip
        call = m.FunctionToolCall(id=id, call_id=call_id, name=tool.name, arguments=arguments, status=status_)
        if tool.namespace:
            call.namespace = tool.namespace
        return call

    def streams_arguments(self, name: str) -> bool:
        """Whether a call's argument deltas go to the client as they are (only a function's arguments do)."""
        tool = self.mapped.get(name)
        return tool is None or tool.kind == "function"


def _json_or_text(arguments: str) -> Any:
    try:
        return msgspec.json.decode(arguments) if arguments else {}
    except msgspec.DecodeError:
        return arguments


def _input_of(arguments: str) -> str:
    """A custom tool's input from the `{"input": ...}` arguments Azure wrote (as written when not that)."""
    value = _json_or_text(arguments)
    if isinstance(value, dict) and isinstance(value.get("input"), str):
        return value["input"]
    return arguments


def chat_function_name(name: str, namespace: str | None = None) -> str:
    """The Chat function name for a client's tool: the same for the offer and for a replayed call."""
    if not namespace:
        return name
    joined = f"{namespace}__{name}"
    if _CHAT_NAME.match(joined):
        return joined
    # Chat names are at most 64 of [A-Za-z0-9_-]: keep a readable head, make it unique with a hash.
    digest = hashlib.sha256(joined.encode()).hexdigest()[:10]
    head = re.sub(r"[^A-Za-z0-9_-]", "_", joined)[:53]
    return f"{head}_{digest}"


def custom_arguments(text: str) -> str:
    """A replayed custom tool call's input as the arguments of its Chat function."""
    return msgspec.json.encode({"input": text}).decode()


def input_tools(items: Any) -> list[tuple[str, m.Tool]]:
    """Tools offered inside `input` (`additional_tools` and `tool_search_output` items), with their param."""
    found: list[tuple[str, m.Tool]] = []
    if isinstance(items, list):
        for index, item in enumerate(items):
            # A type lookup, not isinstance against a union: this runs over every item of every request.
            if type(item) in _TOOL_ITEMS:
                found.extend((f"input[{index}].tools[{i}]", tool) for i, tool in enumerate(item.tools))
    return found


_TOOL_ITEMS = frozenset({m.AdditionalToolsItem, m.ToolSearchOutputItem})


def tool_set(request: m.CreateResponse, options: TranslationOptions) -> ToolSet:
    """Every tool of the request (`tools`, then those inside `input`) in Chat form."""
    offered: list[tuple[str, m.Tool]] = []
    if isinstance(request.tools, list):
        offered.extend((f"tools[{index}]", tool) for index, tool in enumerate(request.tools))
    offered.extend(input_tools(request.input))
    tools = ToolSet()
    for param, tool in offered:
        _add(tools, tool, param, options)
    return tools


def _add(tools: ToolSet, tool: m.Tool | m.NamespaceMember, param: str, options: TranslationOptions,
         namespace: str | None = None) -> None:  # fmt: skip
    if isinstance(tool, m.FunctionTool):
        _function(tools, tool, param, namespace)
    elif isinstance(tool, m.CustomTool):
        _custom(tools, tool, param, namespace)
    elif isinstance(tool, m.NamespaceTool):
        for index, member in enumerate(tool.tools):
            _add(tools, member, f"{param}.tools[{index}]", options, namespace=tool.name)
    elif isinstance(tool, m.ToolSearchTool) and tool.execution == "client":
        parameters = tool.parameters if isinstance(tool.parameters, dict) else {"type": "object", "properties": {}}
        description = tool.description if isinstance(tool.description, str) else "Search for more tools."
        _append(tools, param, "tool_search", ClientTool("tool_search", "tool_search"), description, parameters, None)
    else:
        kind = tag_of(tool) if not isinstance(tool, m.ToolSearchTool) else "tool_search"
        if kind in CLIENT_BUILTINS:
            raise unsupported(
                f"{param}.type",
                f"The client-executed built-in tool '{kind}' has no Azure Chat Completions form (its calls are "
                "Responses-only items). Offer it as a function tool instead.",
            )
        what = "tool_search with server execution" if isinstance(tool, m.ToolSearchTool) else f"'{kind}'"
        if options.hosted_tools == "reject":
            raise unsupported(
                f"{param}.type",
                f"Hosted tool {what} runs on OpenAI's servers, which Azure Chat Completions cannot do. Remove it, "
                'or set the gateway\'s hosted_tools = "omit" to have such tools left out (and reported).',
            )
        tools.omitted.append(f"{param} {kind}")


def _function(tools: ToolSet, tool: m.FunctionTool, param: str, namespace: str | None) -> None:
    if tool.defer_loading is True:
        raise unsupported(f"{param}.defer_loading", "defer_loading needs server-side tool_search, which Chat lacks.")
    if given(tool.allowed_callers):
        raise unsupported(f"{param}.allowed_callers", "allowed_callers has no Chat Completions equivalent.")
    if given(tool.output_schema):
        raise unsupported(f"{param}.output_schema", "output_schema has no Chat Completions equivalent.")
    client = ClientTool("function", tool.name, namespace) if namespace else None
    description = tool.description if isinstance(tool.description, str) else None
    parameters = tool.parameters if isinstance(tool.parameters, dict) else None
    strict = tool.strict if isinstance(tool.strict, bool) else None
    _append(tools, param, chat_function_name(tool.name, namespace), client, description, parameters, strict)


def _custom(tools: ToolSet, tool: m.CustomTool, param: str, namespace: str | None) -> None:
    if tool.defer_loading is True:
        raise unsupported(f"{param}.defer_loading", "defer_loading needs server-side tool_search, which Chat lacks.")
    description = tool.description if isinstance(tool.description, str) else ""
    fmt = tool.format
    if isinstance(fmt, m.CustomToolFormatGrammar):
        # Chat functions take JSON Schema, not grammars: the model is told the grammar instead.
        description += (
            f"\n\nPut the whole input in `input`. It must match this {fmt.syntax} grammar:\n{fmt.definition}"
        ).lstrip("\n")
    else:
        description += ("\n\n" if description else "") + "Put the whole input, as free-form text, in `input`."
    name = chat_function_name(tool.name, namespace)
    _append(tools, param, name, ClientTool("custom", tool.name, namespace), description, _CUSTOM_PARAMETERS, None)


def _append(tools: ToolSet, param: str, name: str, client: ClientTool | None, description: str | None,
            parameters: dict[str, Any] | None, strict: bool | None) -> None:  # fmt: skip
    if name in tools.names:
        raise invalid_request(
            f"Two tools would both be the Chat function '{name}'; tool names must be unique.", param=f"{param}.name"
        )
    function = m.FunctionObject(name=name)
    if description is not None:
        function.description = description
    if parameters is not None:
        function.parameters = parameters
    if strict is not None:
        function.strict = strict
    tools.chat.append(m.ChatCompletionTool(type="function", function=function))
    tools.names.add(name)
    if client is not None:
        tools.mapped[name] = client


def only_allowed(tools: list[m.ChatCompletionTool], allowed: list[tuple[str, str]]) -> list[m.ChatCompletionTool]:
    """The tools an allowed-tools choice lets the model call, given `(param, name)` pairs.

    The model can call only those tools either way, so sending the subset cannot change the answer; a
    name that is not among `tools` is a 400 at its `param`.
    """
    known = {tool.function.name for tool in tools}
    for param, name in allowed:
        if name not in known:
            raise invalid_request(
                f"allowed_tools names function '{name}', which is not in tools.", param=param, code="invalid_value"
            )
    names = {name for _, name in allowed}
    return [tool for tool in tools if tool.function.name in names]


def _allowed_entry(entry: dict[str, Any], index: int) -> tuple[str, str]:
    kind = entry.get("type")
    name = entry.get("name")
    param = f"tool_choice.tools[{index}]"
    if kind in ("function", "custom") and isinstance(name, str):
        namespace = entry.get("namespace")
        return f"{param}.name", chat_function_name(name, namespace if isinstance(namespace, str) else None)
    if kind in HOSTED_TOOLS:
        raise unsupported(param, f"allowed_tools lists the hosted tool '{kind}', which cannot run behind Chat.")
    raise unsupported(param, "allowed_tools can list only function and custom tools, by name.")


def chat_tool_choice(
    request: m.CreateResponse, tools: list[m.ChatCompletionTool]
) -> tuple[m.ChatCompletionToolChoiceOption | UnsetType, list[m.ChatCompletionTool]]:
    choice = request.tool_choice
    names = [tool.function.name for tool in tools]
    if choice is UNSET:
        return UNSET, tools
    if isinstance(choice, str):
        if choice == "required" and not tools:
            raise invalid_request(
                "tool_choice 'required' needs at least one tool.", param="tool_choice", code="invalid_value"
            )
        return choice, tools
    if isinstance(choice, m.ToolChoiceFunction | m.ToolChoiceCustom):
        kind = "function" if isinstance(choice, m.ToolChoiceFunction) else "custom tool"
        if choice.name not in names:
            raise invalid_request(
                f"tool_choice names {kind} '{choice.name}', which is not in tools.",
                param="tool_choice.name",
                code="invalid_value",
            )
        named = m.ChatCompletionNamedToolChoice(function=m.ChatCompletionFunctionCallOption(name=choice.name))
        return named, tools
    if isinstance(choice, m.ToolChoiceAllowed):
        allowed = [_allowed_entry(entry, index) for index, entry in enumerate(choice.tools)]
        return choice.mode, only_allowed(tools, allowed)
    kind = tag_of(choice)
    if kind in CLIENT_BUILTINS:
        message = f"tool_choice forces the client-executed built-in tool '{kind}', which has no Chat Completions form."
    else:
        message = f"tool_choice forces the hosted tool '{kind}', which cannot run behind Azure Chat Completions."
    raise unsupported("tool_choice", message)
