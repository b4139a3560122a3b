"""Scripted "actions": what the emulator does for one chat request.

Each chat request consumes the next queued action, or :class:`GeneratedReply` when the queue is empty. An
action is a small msgspec Struct (so the admin endpoint can decode it from JSON with a precise error) with
one method, :meth:`Action.respond`, that turns the request into a Litestar response. New behaviours are new
action types plus one line in ``script.ACTION_KINDS``; the request pipeline does not change. Streaming is
the reply actions rendered as SSE chunks (:mod:`app.emulator.streaming`) when the request asks for it; fault
injection (delays, connection resets, malformed bodies, 429s with ``retry-after-ms``) slots in the same way.

``needs_valid_request`` says where in the pipeline an action fires. Replies need a validated body (Azure
would 400 an invalid one before any model ran). Raw responses such as a scripted 429 or 503 fire before body
validation, like Azure's front door, which throttles before it looks at the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

import msgspec
from litestar import Response

from app.emulator.config import EmulatorConfig
from app.emulator.replies import Answer, ToolCallPlan, build_completion, plan_answers, prompt_tokens
from app.emulator.schema import ChatCompletionRequest
from app.emulator.streaming import StreamKnobs, stream_response

if TYPE_CHECKING:
    from app.emulator.state import EmulatorState, RecordedRequest

__all__ = [
    "Action",
    "ActionContext",
    "GeneratedReply",
    "ScriptError",
    "ScriptedReply",
    "ScriptedResponse",
    "azure_json",
]

REQUEST_ID_HEADER: Final = "apim-request-id"


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Everything an action may need about the request it answers."""

    config: EmulatorConfig
    deployment: str
    api_version: str
    request_id: str
    # The parsed request; None only for actions with needs_valid_request = False.
    request: ChatCompletionRequest | None
    # Where a streamed reply notes its progress and finds its gates (None in unit tests of actions).
    record: RecordedRequest | None = None
    state: EmulatorState | None = None


def azure_json(
    status: int, body: Any, request_id: str, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """A JSON response carrying Azure's ``apim-request-id`` (unless the caller set one explicitly)."""
    content = body.encode() if isinstance(body, str) else msgspec.json.encode(body)
    merged = {REQUEST_ID_HEADER: request_id, **(headers or {})}
    media_type = merged.pop("content-type", None) or merged.pop("Content-Type", None) or "application/json"
    return Response(content=content, status_code=status, media_type=media_type, headers=merged)


class Action(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base class of everything the script queue can hold."""

    needs_valid_request: ClassVar[bool] = True

    async def respond(self, ctx: ActionContext) -> Response[Any]:
        raise NotImplementedError


def _completion(
    ctx: ActionContext,
    answers: list[Answer],
    usage: dict[str, Any] | None = None,
    knobs: StreamKnobs | None = None,
) -> Response[Any]:
    assert ctx.request is not None  # guaranteed by needs_valid_request
    if ctx.request.stream:
        options = ctx.request.stream_options
        return stream_response(
            answers,
            model=ctx.config.model_for(ctx.deployment),
            system_fingerprint=ctx.config.system_fingerprint,
            prompt=prompt_tokens(ctx.request),
            include_usage=bool(options is not None and options.include_usage),
            usage=usage,
            knobs=knobs or StreamKnobs(),
            request_id=ctx.request_id,
            record=ctx.record,
            state=ctx.state,
        )
    body = build_completion(
        answers,
        model=ctx.config.model_for(ctx.deployment),
        system_fingerprint=ctx.config.system_fingerprint,
        prompt=prompt_tokens(ctx.request),
        usage=usage,
        logprobs=(ctx.request.top_logprobs or 0) if ctx.request.logprobs else None,
    )
    return azure_json(200, body, ctx.request_id)


class GeneratedReply(Action, frozen=True):
    """The default: a deterministic answer computed from the conversation (see :mod:`replies`).

    Scriptable as ``{"auto": true}`` to let one request through unscripted between scripted ones;
    ``stream`` (:class:`StreamKnobs`) shapes how it streams when the request has ``stream: true``.
    """

    auto: bool = True
    stream: StreamKnobs | None = None

    async def respond(self, ctx: ActionContext) -> Response[Any]:
        assert ctx.request is not None
        return _completion(ctx, plan_answers(ctx.request), knobs=self.stream)


class ScriptedReply(Action, frozen=True):
    """A 200 completion whose assistant message is given verbatim.

    ``message`` is a chat-completions assistant message (``content``, ``tool_calls``, ``refusal`` ...);
    ``role`` defaults to assistant, a tool call's missing ``id`` is generated and object ``arguments`` are
    JSON-encoded. ``finish_reason`` defaults to ``tool_calls`` when there are tool calls, else ``stop``.
    ``usage`` overrides the computed token counts key by key. ``finish_reason`` ``length`` or
    ``content_filter`` makes a truncated or filtered answer. ``stream`` (:class:`StreamKnobs`) shapes
    how it streams when the request has ``stream: true``: delays, a gate, a failure mid-stream.
    ``message.reasoning_content`` is streamed as reasoning deltas before the content.
    """

    message: dict[str, Any]
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    stream: StreamKnobs | None = None

    def answer(self) -> Answer:
        message = dict(self.message)
        calls = []
        for raw in message.pop("tool_calls", None) or []:
            function = raw.get("function", {})
            arguments = function.get("arguments", "{}")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            plan = ToolCallPlan(name=function.get("name", ""), arguments=arguments)
            if raw.get("id"):
                plan.id = raw["id"]
            calls.append(plan)
        function_call = None
        if isinstance(fc := message.pop("function_call", None), dict):
            arguments = fc.get("arguments", "{}")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            function_call = ToolCallPlan(name=fc.get("name", ""), arguments=arguments)
        message.pop("role", None)
        default = "tool_calls" if calls else "function_call" if function_call else "stop"
        finish = self.finish_reason or default
        return Answer(
            content=message.pop("content", None),
            refusal=message.pop("refusal", None),
            finish_reason=finish,
            tool_calls=calls,
            function_call=function_call,
            extra=message,
        )

    async def respond(self, ctx: ActionContext) -> Response[Any]:
        assert ctx.request is not None
        return _completion(ctx, [self.answer() for _ in range(ctx.request.n or 1)], self.usage, self.stream)


class ScriptedResponse(Action, frozen=True):
    """Any HTTP response, sent as given: an Azure error, a throttle, or a deliberately odd body.

    ``body`` is JSON-encoded unless it is a string, which is sent verbatim (so a test can script invalid
    JSON). ``headers`` are added as given (e.g. ``retry-after-ms``); ``apim-request-id`` is added unless
    present.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)

    needs_valid_request: ClassVar[bool] = False

    async def respond(self, ctx: ActionContext) -> Response[Any]:
        body = self.body if self.body is not None else ""
        return azure_json(self.status, body, ctx.request_id, dict(self.headers))


class ScriptError(ValueError):
    """A scripted action that does not decode; the message names the problem and its index."""
