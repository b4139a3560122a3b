"""Creating a response: ``CreateResponse`` → Chat request → Azure → ``Response`` or its events.

One call serves ``stream: false`` and ``stream: true``: the request is translated once, then either Azure's
answer is translated back (``chat_to_response``) or Azure's chunks are fed through ``ResponseStream``, the pure
state machine that shares ``finish`` with the JSON case. The state-dependent parts of the API live here,
around the translator, not inside it: ``StoredResponses`` (app.service.stored) resolves the history before
the call and stores the finished response before the client gets it; ``Compaction`` opens the compaction
items of the input; ``BackgroundRuns`` (app.service.background) runs ``background: true`` responses in a
task of their own, through the same stream. WebSocket mode (app.service.session) calls the same ``create``,
with the chain its connection cached as ``prior``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack
from typing import Any

import anyio
import msgspec

from app.models import generated as m
from app.service.azure import Gateway
from app.service.background import BackgroundRuns
from app.service.compaction import Compaction
from app.service.events import EventSource, Release
from app.service.stored import Plan, StoredResponses
from app.telemetry import observe
from app.translate import chat_to_response, responses_to_chat
from app.translate.params import in_responses_terms
from app.translate.response import finish
from app.translate.stream import TERMINAL_EVENTS, ResponseStream, StreamProtocolError
from app.translate.tools import ToolSet, tool_set
from app.upstream import UpstreamStream, UpstreamUnavailable
from app.wire.errors import GatewayError, invalid_request

log = logging.getLogger("app.service.responses")

_DONE = b"[DONE]"

ResponseEvents = EventSource[m.ResponseStreamEvent]
ResponseBatch = list[m.ResponseStreamEvent]


class ResponsesService:
    def __init__(
        self, azure: Gateway, stored: StoredResponses, compaction: Compaction, background: BackgroundRuns
    ) -> None:
        self.azure = azure
        self.stored = stored
        self.compaction = compaction
        self.background = background

    async def create(
        self, request: m.CreateResponse, tenant: str = "", *, prior: Sequence[m.InputItem] | None = None
    ) -> m.Response | ResponseEvents:
        """The finished ``Response``, or (``stream: true``) its events once Azure has accepted the call.

        ``tenant`` scopes what is read and stored (a hash of the caller's inbound key). ``prior``: the items
        of the chain ``previous_response_id`` names, already resolved by the caller (a WebSocket connection's
        cache), used instead of the store's. Raises ``GatewayError`` for anything that fails before the
        first event.
        """
        options = self.azure.options
        background = request.background is True
        if background:
            self.background.check(request, store_on=self.stored.store is not None)
        plan = await self.stored.prepare(request, tenant, prior=prior)
        try:
            translate = self.compaction.expand(plan.translate)
            if background:  # a run always streams from Azure (see _background)
                translate = msgspec.structs.replace(translate, stream=True)
            tools = tool_set(translate, options)
            chat_request = responses_to_chat(translate, options, tools)
            observe.note_omitted(tools.omitted)
            if background:
                return await self._background(request, tenant, plan, chat_request, tools)
            try:
                if request.stream is True:
                    translator = ResponseStream(plan.echo, options, tools=tools)
                    return await self._with_reasoning_fallback(
                        chat_request,
                        lambda chat: EventSource.open(
                            self.azure.open_stream(chat),
                            lambda upstream, release: _stored_events(_events(upstream, release, translator), plan),
                        ),
                    )
                chat = await self._with_reasoning_fallback(chat_request, self.azure.answer)
            except GatewayError as exc:
                # Azure judged the Chat request the client never saw: its error names the Responses parameters.
                raise in_responses_terms(exc) from None
            response = chat_to_response(chat, plan.echo, options, tools)
        except BaseException:
            await plan.abort()
            raise
        await plan.finish(response)
        return response

    async def prepare(
        self, request: m.CreateResponse, tenant: str = "", *, prior: Sequence[m.InputItem] | None = None
    ) -> ResponseBatch:
        """WebSocket mode's ``generate: false``: no model call, a completed response with no output to chain from.

        The request is checked and translated exactly as ``create`` would (so a warm-up that would fail says
        so now), stored like any response, and its events are those of a stream that produced nothing.
        """
        plan = await self.stored.prepare(request, tenant, prior=prior)
        try:
            translate = self.compaction.expand(plan.translate)
            responses_to_chat(translate, self.azure.options, tool_set(translate, self.azure.options))
            events = ResponseStream(plan.echo, self.azure.options).start()
            snapshot = events[0].response  # type: ignore[union-attr]
            final = finish(msgspec.structs.replace(snapshot), [], None, "stop", created=snapshot.created_at)
        except BaseException:
            await plan.abort()
            raise
        await plan.finish(final)
        return [*events, m.ResponseCompletedEvent(sequence_number=len(events), response=final)]

    async def _background(
        self,
        request: m.CreateResponse,
        tenant: str,
        plan: Plan,
        chat_request: m.CreateChatCompletionRequest,
        tools: ToolSet,
    ) -> m.Response | ResponseEvents:
        """Start the run and answer at once: the queued Response, or (``stream``) the run's events, live.

        The run always streams from Azure (its events say how far it got, and a cancel can stop it between
        reads); the client's connection only follows it, so leaving does not stop the run.
        """
        translator = ResponseStream(plan.echo, self.azure.options, tools=tools)

        async def open_events() -> ResponseEvents:
            try:
                return await self._with_reasoning_fallback(
                    chat_request,
                    lambda chat: EventSource.open(
                        self.azure.open_stream(chat),
                        lambda upstream, release: _events(upstream, release, translator, started=True),
                    ),
                )
            except GatewayError as exc:
                raise in_responses_terms(exc) from None

        queued, run = await self.background.begin(
            plan, translator, open_events, tenant, streamed=request.stream is True
        )
        if request.stream is True:
            return EventSource(AsyncExitStack(), run.follow(-1))
        return queued

    async def _with_reasoning_fallback(self, chat: m.CreateChatCompletionRequest, call: Any) -> Any:
        """``call(chat)``, once more with ``reasoning_effort: "none"`` if the deployment refuses tools with reasoning.

        Azure's GPT-5.4 and newer deployments answer function tools with reasoning on Chat Completions
        (including their default reasoning, when no effort is sent) with a 400. With
        ``reasoning_with_tools = "fallback"`` the request is sent again without reasoning and the client
        is told (``x-gateway-omitted: reasoning.effort``); the deployment is remembered, so later requests
        with tools go straight to the second form. With ``"reject"`` the client gets a 400 saying what to
        change.
        """
        # reasoning_effort "none" can only be sent where the api-version has reasoning_effort at all.
        capable = self.azure.options.capabilities.reasoning_effort
        fallback = self.azure.settings.reasoning_with_tools == "fallback" and capable
        if not chat.tools or chat.reasoning_effort == "none":
            return await call(chat)
        if fallback and self.azure.refuses_reasoning_with_tools:
            return await call(_without_reasoning(chat))
        try:
            return await call(chat)
        except GatewayError as exc:
            if not refuses_reasoning_with_tools(exc):
                raise
            if not fallback:
                raise invalid_request(
                    f"The Azure deployment refuses function tools together with reasoning on Chat Completions "
                    f'({exc.message}) Send reasoning.effort "none", or drop the tools; or set the gateway\'s '
                    'reasoning_with_tools = "fallback" to have it do so (and report it)'
                    + ("." if capable else ", with an api-version that has reasoning_effort."),
                    param="reasoning.effort",
                    code="unsupported_parameter",
                ) from None
            self.azure.refuses_reasoning_with_tools = True
            return await call(_without_reasoning(chat))


def refuses_reasoning_with_tools(exc: GatewayError) -> bool:
    """Azure's 400 for function tools with reasoning on a GPT-5.4+ deployment's Chat Completions."""
    return exc.status == 400 and "function tools with reasoning_effort are not supported" in exc.message.lower()


def _without_reasoning(chat: m.CreateChatCompletionRequest) -> m.CreateChatCompletionRequest:
    given = chat.reasoning_effort
    what = f"reasoning.effort {given}" if isinstance(given, str) else "reasoning (the deployment's default)"
    observe.note_omitted([f"{what}: sent reasoning_effort none, as the deployment refuses tools with reasoning"])
    return msgspec.structs.replace(chat, reasoning_effort="none")




async def _stored_events(
    events: AsyncGenerator[list[m.ResponseStreamEvent], None], plan: Plan
) -> AsyncGenerator[list[m.ResponseStreamEvent], None]:
    """The stream's events, with the finished response stored before its terminal event is sent.

    A client that leaves before the end gets nothing stored (there is no finished response to keep) and the
    conversation, if any, is released. A store failure turns the terminal event into ``response.failed``.
    """
    try:
        async for batch in events:
            final = next((event for event in batch if isinstance(event, TERMINAL_EVENTS)), None)
            if final is not None:
                try:
                    await plan.finish(final.response)
                except GatewayError as exc:
                    final.response.status = "failed"
                    final.response.error = m.ResponseError(code="server_error", message=exc.message)
                    batch = [
                        m.ResponseFailedEvent(sequence_number=event.sequence_number, response=event.response)
                        if isinstance(event, TERMINAL_EVENTS)
                        else event
                        for event in batch
                    ]
            yield batch
    finally:
        # Shielded: when the client went away this runs in a cancelled task, whose every await would be
        # cancelled again, leaving the conversation held until its lock expires.
        with anyio.CancelScope(shield=True):
            await events.aclose()
            await plan.abort()


async def _events(
    upstream: UpstreamStream, release: Release, stream: ResponseStream, *, started: bool = False
) -> AsyncGenerator[list[m.ResponseStreamEvent], None]:
    """created/in_progress at once (unless ``started``: the caller sent them), then the events of each
    upstream read, then the terminal event.

    The stream always ends the way clients understand: ``response.completed`` (or ``incomplete``), or
    ``response.failed`` saying why when Azure's stream broke, was malformed or ended early.
    """
    if not started:
        yield stream.start()
    failure: str | None = None
    code = "upstream_error"  # for the log line; the client's response.failed says server_error, as OpenAI's do
    saw_done = False
    try:
        async for batch in upstream.event_batches():
            out: list[m.ResponseStreamEvent] = []
            for data in batch:
                if data == _DONE:
                    saw_done = True
                    break
                try:
                    out += stream.feed(data)
                except StreamProtocolError as exc:
                    failure = str(exc)
                    break
            if out:
                yield out
            if saw_done or failure is not None:
                break
    except UpstreamUnavailable as exc:
        failure = f"{exc}."
        code = "upstream_timeout" if exc.timeout else code
    except Exception:  # a gateway bug: still end the stream the way clients understand
        log.exception("translating Azure's stream failed")
        failure = "The gateway failed while translating Azure OpenAI's stream."
        code = "internal_error"
    if failure is None and not saw_done and not stream.finished:
        failure = "Azure OpenAI closed the stream before it finished."
    await release()
    observe.count_usage(stream.usage)
    if failure is None:
        yield stream.complete()
        return
    observe.note_error(code, failure)
    yield stream.fail(failure)
