"""Chat Completions response → Responses `Response`.

Output items come in the order reasoning, message, function calls. The Response echoes the request's
parameters as sent; a parameter that was not sent is reported with the value that was in effect, so
every key the official schema and Open Responses' `ResponseResource` require is present.
"""

from __future__ import annotations

import os
import random
import re
import time

from msgspec import UNSET

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.tools import ToolSet

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)

_INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


# A generator of its own: ids are stored keys now, so they must not repeat when something reseeds the
# global `random` (hypothesis does, per test case); reseeded from the OS in a forked child, like the global.
_IDS = random.Random()
os.register_at_fork(after_in_child=_IDS.seed)


def new_id(prefix: str) -> str:
    """An id with OpenAI's prefix and 48 random hex digits, like the official API's.

    Unique, not secret: Python's PRNG (seeded from the OS per process) instead of a system call per id,
    which was about 5% of the gateway's CPU under load.
    """
    return f"{prefix}_{_IDS.getrandbits(192):048x}"


def _usage(usage: m.CompletionUsage | object | None) -> m.ResponseUsage | None:
    if not isinstance(usage, m.CompletionUsage):
        return None
    cached = 0
    if isinstance(usage.prompt_tokens_details, m.PromptTokensDetails):
        cached = usage.prompt_tokens_details.cached_tokens or 0  # type: ignore[assignment]
    reasoning = 0
    if isinstance(usage.completion_tokens_details, m.CompletionTokensDetails):
        reasoning = usage.completion_tokens_details.reasoning_tokens or 0  # type: ignore[assignment]
    return m.ResponseUsage(
        input_tokens=usage.prompt_tokens,
        input_tokens_details=m.InputTokensDetails(cached_tokens=cached, cache_write_tokens=0),
        output_tokens=usage.completion_tokens,
        output_tokens_details=m.OutputTokensDetails(reasoning_tokens=reasoning),
        # Copied, not recomputed: Azure's total can include tokens the two counts do not show.
        total_tokens=usage.total_tokens,
    )


def _logprobs(choice: m.ChatCompletionChoice) -> list[m.LogProb]:
    if not isinstance(choice.logprobs, m.ChatChoiceLogprobs) or not choice.logprobs.content:
        return []
    return logprob_items(choice.logprobs.content)


def logprob_items(entries: list[m.ChatCompletionTokenLogprob]) -> list[m.LogProb]:
    """Chat's per-token logprobs as Responses `LogProb`s."""
    return [
        m.LogProb(
            token=entry.token,
            logprob=entry.logprob,
            bytes=entry.bytes or [],
            top_logprobs=[
                m.TopLogProb(token=top.token, logprob=top.logprob, bytes=top.bytes or [])
                for top in (entry.top_logprobs or [])
            ],
        )
        for entry in entries
    ]


def _annotations(message: m.ChatCompletionResponseMessage, text: str) -> list[m.Annotation]:
    """Azure "On Your Data" citations with a URL become `url_citation` annotations over the whole text."""
    context = message.context
    if not isinstance(context, m.AzureChatContext) or not context.citations:
        return []
    return [
        m.UrlCitation(
            type="url_citation",
            url=citation.url,
            start_index=0,
            end_index=len(text),
            title=citation.title or "",
        )
        for citation in context.citations
        if isinstance(citation.url, str) and citation.url
    ]


def output_items(
    choice: m.ChatCompletionChoice,
    options: TranslationOptions,
    *,
    status: str,
    with_logprobs: bool,
    tools: ToolSet | None = None,
) -> list[m.OutputItem]:
    """Azure's message as output items; `tools` gives each tool call back in the kind the client offered."""
    message = choice.message
    items: list[m.OutputItem] = []
    text = message.content if isinstance(message.content, str) else ""

    reasoning: list[str] = []
    if isinstance(message.reasoning_content, str) and message.reasoning_content:
        reasoning.append(message.reasoning_content)
    elif options.reasoning_parser == "think_tags" and "<think>" in text:
        reasoning.extend(_THINK.findall(text))
        text = _THINK.sub("", text)
    if reasoning:
        items.append(
            m.ReasoningItem(
                id=new_id("rs"),
                summary=[m.SummaryTextContent(type="summary_text", text=part) for part in reasoning],
                status="completed",
            )
        )

    tool_calls = message.tool_calls if isinstance(message.tool_calls, list) else []
    refusal = message.refusal if isinstance(message.refusal, str) and message.refusal else None
    if text or refusal or not (reasoning or tool_calls):
        content: list[m.OutputMessageContent] = []
        if text or not refusal:
            content.append(
                m.OutputTextContent(
                    text=text,
                    annotations=_annotations(message, text),
                    logprobs=_logprobs(choice) if with_logprobs else [],
                )
            )
        if refusal:
            content.append(m.RefusalContent(refusal=refusal))
        items.append(
            m.OutputMessage(
                id=new_id("msg"),
                role="assistant",
                content=content,
                status="incomplete" if status == "incomplete" else "completed",
            )
        )

    names = tools or ToolSet()
    for call in tool_calls:
        items.append(
            names.output_item(
                id=new_id("fc"),
                call_id=call.id,
                name=call.function.name,
                arguments=call.function.arguments,
                status="completed",
            )
        )
    return items


def wants_logprobs(request: m.CreateResponse) -> bool:
    """Whether output_text parts carry logprobs (asked for by `include` or `top_logprobs`)."""
    return bool(request.include and "message.output_text.logprobs" in request.include) or bool(
        request.top_logprobs
    )


def incomplete_reason(finish_reason: str | None) -> str | None:
    """`incomplete_details.reason` for Azure's finish_reason, or None when the answer is complete."""
    return _INCOMPLETE_REASONS.get(finish_reason or "")


def finish(
    response: m.Response,
    output: list[m.OutputItem],
    usage: object,
    finish_reason: str | None,
    *,
    created: int,
) -> m.Response:
    """Fill in what is known once Azure's answer is complete: status, output, usage, completion time.

    Shared by the JSON and the streamed route, so a streamed Response ends exactly like the JSON one.
    """
    reason = incomplete_reason(finish_reason)
    status = "incomplete" if reason else "completed"
    response.status = status  # type: ignore[assignment]
    response.output = output
    response.usage = _usage(usage)
    response.incomplete_details = m.IncompleteDetails(reason=reason) if reason else None  # type: ignore[arg-type]
    response.completed_at = max(int(time.time()), created) if status == "completed" else None
    return response


def chat_to_response(
    chat: m.CreateChatCompletionResponse,
    request: m.CreateResponse,
    options: TranslationOptions,
    tools: ToolSet | None = None,
) -> m.Response:
    """Build the Response for `request` from Azure's answer to its translation (`tools`: `tool_set(request)`)."""
    choice = chat.choices[0] if chat.choices else None
    finish_reason = choice.finish_reason if choice is not None else None
    status = "incomplete" if incomplete_reason(finish_reason) else "completed"
    with_logprobs = wants_logprobs(request)
    output = (
        output_items(choice, options, status=status, with_logprobs=with_logprobs, tools=tools) if choice else []
    )
    response = envelope(request, options, created_at=chat.created, status=status)
    return finish(response, output, chat.usage, finish_reason, created=chat.created)


def _echo_tools(request: m.CreateResponse) -> list[m.Tool]:
    """Tools as sent, with the keys Open Responses requires (description, parameters, strict) filled in."""
    tools: list[m.Tool] = []
    for tool in request.tools if isinstance(request.tools, list) else []:
        if isinstance(tool, m.FunctionTool):
            tool = m.FunctionTool(
                name=tool.name,
                description=tool.description if tool.description is not UNSET else None,
                parameters=tool.parameters if tool.parameters is not UNSET else None,
                strict=tool.strict if tool.strict is not UNSET else None,
            )
        tools.append(tool)
    return tools


def _echo_reasoning(reasoning: m.Reasoning | object | None) -> m.Reasoning | None:
    """As sent, with `effort` and `summary` present (Open Responses requires both keys, null allowed)."""
    if not isinstance(reasoning, m.Reasoning):
        return None
    echo = m.Reasoning(
        effort=reasoning.effort if reasoning.effort is not UNSET else None,
        summary=reasoning.summary if reasoning.summary is not UNSET else None,
    )
    for name in ("generate_summary", "mode", "context"):
        if getattr(reasoning, name) is not UNSET:
            setattr(echo, name, getattr(reasoning, name))
    return echo


def _echo_text(text: m.ResponseTextParam | object) -> m.ResponseTextParam:
    """As sent, with the format defaulting to text and a json_schema format's optional keys filled in."""
    if not isinstance(text, m.ResponseTextParam):
        return m.ResponseTextParam(format=m.TextFormatText())
    fmt = text.format
    if fmt is UNSET:
        fmt = m.TextFormatText()
    elif isinstance(fmt, m.TextFormatJsonSchema):
        fmt = m.TextFormatJsonSchema(
            name=fmt.name,
            schema=fmt.schema,
            description=fmt.description if fmt.description is not UNSET else None,
            strict=fmt.strict if isinstance(fmt.strict, bool) else False,
        )
    # A null verbosity means "the default"; Open Responses allows the key to be absent but not null.
    return m.ResponseTextParam(format=fmt, verbosity=text.verbosity if text.verbosity is not None else UNSET)


def envelope(
    request: m.CreateResponse, options: TranslationOptions, *, created_at: int, status: str
) -> m.Response:
    """The Response with no output yet: identity, status and every request parameter echoed."""

    def given(value: object, default: object) -> object:
        return default if value is UNSET or value is None else value

    text = _echo_text(request.text)
    response = m.Response(
        id=new_id("resp"),
        object="response",
        created_at=int(created_at),
        completed_at=None,
        status=status,  # type: ignore[arg-type]
        incomplete_details=None,
        model=options.deployment,
        previous_response_id=request.previous_response_id if isinstance(request.previous_response_id, str) else None,
        instructions=request.instructions if isinstance(request.instructions, str) else None,
        output=[],
        error=None,
        tools=_echo_tools(request),
        tool_choice=given(request.tool_choice, "auto"),  # type: ignore[arg-type]
        truncation=given(request.truncation, "disabled"),  # type: ignore[arg-type]
        parallel_tool_calls=given(request.parallel_tool_calls, True),  # type: ignore[arg-type]
        text=text,
        top_p=given(request.top_p, 1.0),  # type: ignore[arg-type]
        presence_penalty=0.0,
        frequency_penalty=0.0,
        top_logprobs=given(request.top_logprobs, 0),  # type: ignore[arg-type]
        temperature=given(request.temperature, 1.0),  # type: ignore[arg-type]
        reasoning=_echo_reasoning(request.reasoning),
        usage=None,
        max_output_tokens=given(request.max_output_tokens, None),  # type: ignore[arg-type]
        max_tool_calls=given(request.max_tool_calls, None),  # type: ignore[arg-type]
        # The service sets `store` to what it will do before translating (true by default, as OpenAI's).
        store=given(request.store, False),  # type: ignore[arg-type]
        background=given(request.background, False),  # type: ignore[arg-type]
        service_tier=given(request.service_tier, "default"),  # type: ignore[arg-type]
        metadata=given(request.metadata, {}),  # type: ignore[arg-type]
        safety_identifier=given(request.safety_identifier, None),  # type: ignore[arg-type]
        prompt_cache_key=given(request.prompt_cache_key, None),  # type: ignore[arg-type]
    )
    if isinstance(request.user, str):
        response.user = request.user
    if request.prompt_cache_retention is not UNSET:
        response.prompt_cache_retention = request.prompt_cache_retention
    if request.include is not UNSET:
        response.include = request.include
    conversation = request.conversation
    if isinstance(conversation, str | m.ConversationParam):
        response.conversation = m.ConversationRef(id=conversation if isinstance(conversation, str) else conversation.id)
    return response
