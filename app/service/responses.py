"""Creating a response: ``CreateResponse`` → Chat request → Azure → ``Response`` or its events.

One call serves ``stream: false`` and ``stream: true``: the request is translated once, then either Azure's
answer is translated back (``chat_to_response``) or Azure's chunks are fed through ``ResponseStream``, the pure
state machine that shares ``finish`` with the JSON case. The state-dependent parts of the API (stored
responses, ``previous_response_id``, background runs) belong here, around the translator, not inside it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence

import msgspec
from msgspec import UNSET

from app.models import generated as m
from app.service.azure import Gateway
from app.service.compaction import Compaction
from app.service.events import EventSource, Release
from app.telemetry import observe
from app.translate import chat_to_response, responses_to_chat
from app.translate.response import finish
from app.translate.stream import ResponseStream, StreamProtocolError
from app.upstream import UpstreamStream, UpstreamUnavailable
from app.wire.errors import invalid_request

log = logging.getLogger("app.service.responses")

_DONE = b"[DONE]"

ResponseEvents = EventSource[m.ResponseStreamEvent]
ResponseBatch = list[m.ResponseStreamEvent]


class ResponsesService:
    def __init__(self, azure: Gateway, compaction: Compaction) -> None:
        self.azure = azure
        self.compaction = compaction

    async def create(
        self, request: m.CreateResponse, *, prior: Sequence[m.InputItem] | None = None
    ) -> m.Response | ResponseEvents:
        """The finished ``Response``, or (``stream: true``) its events once Azure has accepted the call.

        ``prior``: the items of the chain ``previous_response_id`` names, already resolved by the caller (a
        WebSocket connection's cache); they go before ``input``, and the response still echoes the id.
        Raises ``GatewayError`` for anything that fails before the first event.
        """
        options = self.azure.options
        chat_request = self._translated(request, prior)
        if request.stream is True:
            translator = ResponseStream(request, options)
            return await EventSource.open(
                self.azure.open_stream(chat_request),
                lambda upstream, release: _events(upstream, release, translator),
            )
        chat = await self.azure.answer(chat_request)
        return chat_to_response(chat, request, options)

    def prepare(self, request: m.CreateResponse, *, prior: Sequence[m.InputItem] | None = None) -> ResponseBatch:
        """WebSocket mode's ``generate: false``: no model call, a completed response with no output to chain from.

        The request is checked and translated exactly as ``create`` would (so a warm-up that would fail says
        so now); the events are those of a stream that produced nothing.
        """
        self._translated(request, prior)
        events = ResponseStream(request, self.azure.options).start()
        snapshot = events[0].response  # type: ignore[union-attr]
        final = finish(msgspec.structs.replace(snapshot), [], None, "stop", created=snapshot.created_at)
        return [*events, m.ResponseCompletedEvent(sequence_number=len(events), response=final)]

    def _translated(
        self, request: m.CreateResponse, prior: Sequence[m.InputItem] | None
    ) -> m.CreateChatCompletionRequest:
        _refuse_stateful(request, resolved=prior is not None)
        sent = request
        if prior is not None:
            sent = msgspec.structs.replace(request, input=[*prior, *input_items(request)], previous_response_id=None)
        return responses_to_chat(self.compaction.expand(sent), self.azure.options)


def input_items(request: m.CreateResponse) -> list[m.InputItem]:
    """The request's ``input`` as items (a string is one user message)."""
    items = request.input
    if isinstance(items, str):
        return [m.InputMessage(role="user", content=items)]
    return list(items) if isinstance(items, list) else []


def _refuse_stateful(request: m.CreateResponse, *, resolved: bool = False) -> None:
    """What needs stored state, refused until the store exists: the translator sees only stateless requests.

    ``resolved``: the caller has already resolved ``previous_response_id`` (WebSocket mode's cache).
    """
    if request.background is True:
        raise invalid_request(
            "background responses are not supported yet by this gateway.",
            param="background",
            code="unsupported_parameter",
        )
    for name in ("previous_response_id", "conversation"):
        if resolved and name == "previous_response_id":
            continue
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
    except Exception:  # a gateway bug: still end the stream the way clients understand
        log.exception("translating Azure's stream failed")
        failure = "The gateway failed while translating Azure OpenAI's stream."
    if failure is None and not saw_done and not stream.finished:
        failure = "Azure OpenAI closed the stream before it finished."
    await release()
    observe.count_usage(stream.usage)
    yield stream.fail(failure) if failure is not None else stream.complete()
