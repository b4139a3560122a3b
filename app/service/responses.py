"""Creating a response: ``CreateResponse`` → Chat request → Azure → ``Response`` or its events.

One call serves ``stream: false`` and ``stream: true``: the request is translated once, then either Azure's
answer is translated back (``chat_to_response``) or Azure's chunks are fed through ``ResponseStream``, the pure
state machine that shares ``finish`` with the JSON case. The state-dependent parts of the API (stored
responses, ``previous_response_id``, background runs) belong here, around the translator, not inside it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from msgspec import UNSET

from app.models import generated as m
from app.service.azure import Gateway
from app.service.events import EventSource, Release
from app.telemetry import observe
from app.translate import chat_to_response, responses_to_chat
from app.translate.params import in_responses_terms
from app.translate.stream import ResponseStream, StreamProtocolError
from app.translate.tools import tool_set
from app.upstream import UpstreamStream, UpstreamUnavailable
from app.wire.errors import GatewayError, invalid_request

log = logging.getLogger("app.service.responses")

_DONE = b"[DONE]"

ResponseEvents = EventSource[m.ResponseStreamEvent]


class ResponsesService:
    def __init__(self, azure: Gateway) -> None:
        self.azure = azure

    async def create(self, request: m.CreateResponse) -> m.Response | ResponseEvents:
        """The finished ``Response``, or (``stream: true``) its events once Azure has accepted the call.

        Raises ``GatewayError`` for anything that fails before the first event.
        """
        options = self.azure.options
        _refuse_stateful(request)
        tools = tool_set(request, options)
        chat_request = responses_to_chat(request, options, tools)
        observe.note_omitted(tools.omitted)
        try:
            if request.stream is True:
                translator = ResponseStream(request, options, tools=tools)
                return await self._with_reasoning_fallback(
                    chat_request,
                    lambda chat: EventSource.open(
                        self.azure.open_stream(chat),
                        lambda upstream, release: _events(upstream, release, translator),
                    ),
                )
            chat = await self._with_reasoning_fallback(chat_request, self.azure.answer)
        except GatewayError as exc:
            # Azure judged the Chat request the client never saw: its error names the Responses parameters.
            raise in_responses_terms(exc) from None
        return chat_to_response(chat, request, options, tools)

    async def _with_reasoning_fallback(self, chat: m.CreateChatCompletionRequest, call: Any) -> Any:
        """``call(chat)``, once more with ``reasoning_effort: "none"`` if the deployment refuses tools with reasoning.

        Azure's GPT-5.4 and newer deployments answer function tools with reasoning on Chat Completions
        (including their default reasoning, when no effort is sent) with a 400. With
        ``reasoning_with_tools = "fallback"`` the request is sent again without reasoning and the client
        is told (``x-gateway-omitted: reasoning.effort``); the deployment is remembered, so later requests
        with tools go straight to the second form. With ``"reject"`` the client gets a 400 saying what to
        change.
        """
        fallback = self.azure.settings.reasoning_with_tools == "fallback"
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
                    'reasoning_with_tools = "fallback" to have it do so (and report it).',
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


def _refuse_stateful(request: m.CreateResponse) -> None:
    """What needs stored state, refused until the store exists: the translator sees only stateless requests."""
    if request.background is True:
        raise invalid_request(
            "background responses are not supported yet by this gateway.",
            param="background",
            code="unsupported_parameter",
        )
    for name in ("previous_response_id", "conversation"):
        value = getattr(request, name)
        if value is not UNSET and value is not None:
            raise invalid_request(
                f"{name} is not supported yet: this gateway stores no responses. Send the whole conversation "
                "in `input`.",
                param=name,
                code="unsupported_parameter",
            )


async def _events(
    upstream: UpstreamStream, release: Release, stream: ResponseStream
) -> AsyncGenerator[list[m.ResponseStreamEvent], None]:
    """created/in_progress at once, then the events of each upstream read, then the terminal event.

    The stream always ends the way clients understand: ``response.completed`` (or ``incomplete``), or
    ``response.failed`` saying why when Azure's stream broke, was malformed or ended early.
    """
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
