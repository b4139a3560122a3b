"""Responses `tools` and `tool_choice` → Chat Completions tools and tool_choice.

Function tools map one to one; `allowed_tools` becomes the allowed subset plus its mode, the same rule
the Chat passthrough applies (`only_allowed`).
"""

from __future__ import annotations

from collections.abc import Sequence

from msgspec import UNSET, UnsetType

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.params import given, tag_of, unsupported
from app.wire.errors import invalid_request


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


def chat_tools(tools: Sequence[m.Tool], options: TranslationOptions) -> list[m.ChatCompletionTool]:
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
        if given(tool.allowed_callers):
            raise unsupported(f"{param}.allowed_callers", "allowed_callers has no Chat Completions equivalent.")
        if given(tool.output_schema):
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
    if isinstance(choice, m.ToolChoiceFunction):
        if choice.name not in names:
            raise invalid_request(
                f"tool_choice names function '{choice.name}', which is not in tools.",
                param="tool_choice.name",
                code="invalid_value",
            )
        named = m.ChatCompletionNamedToolChoice(function=m.ChatCompletionFunctionCallOption(name=choice.name))
        return named, tools
    if isinstance(choice, m.ToolChoiceAllowed):
        allowed = []
        for index, entry in enumerate(choice.tools):
            if entry.get("type") != "function" or not isinstance(entry.get("name"), str):
                raise unsupported(f"tool_choice.tools[{index}]", "allowed_tools can list only function tools, by name.")
            allowed.append((f"tool_choice.tools[{index}].name", entry["name"]))
        return choice.mode, only_allowed(tools, allowed)
    kind = tag_of(choice)
    raise unsupported("tool_choice", f"tool_choice type '{kind}' is a hosted tool, which Chat Completions lacks.")
