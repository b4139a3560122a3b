"""Creating a response: ``CreateResponse`` → Chat request → Azure → ``Response`` or its events.

One call serves ``stream: false`` and ``stream: true``: the request is translated once, then either Azure's
answer is translated back (``chat_to_response``) or Azure's chunks are fed through ``ResponseStream``, the pure
state machine that shares ``finish`` with the JSON case. The state-dependent parts of the API live here,
around the translator, not inside it: ``StoredResponses`` (app.service.stored) resolves the history before
the call and stores the finished response before the client gets it; background runs are refused for now.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator

import anyio

from app.models import generated as m
from app.service.azure import Gateway
from app.service.events import EventSource, Release
from app.service.stored import Plan, StoredResponses
from app.telemetry import observe
from app.translate import chat_to_response, responses_to_chat
from app.translate.params import in_responses_terms
from app.translate.stream import ResponseStream, StreamProtocolError
from app.upstream import UpstreamStream, UpstreamUnavailable
from app.wire.errors import GatewayError, invalid_request

log = logging.getLogger("app.service.responses")

_DONE = b"[DONE]"

ResponseEvents = EventSource[m.ResponseStreamEvent]


class ResponsesService:
    def __init__(self, azure: Gateway, stored: StoredResponses) -> None:
        self.azure = azure
        self.stored = stored

    async def create(self, request: m.CreateResponse, tenant: str = "") -> m.Response | ResponseEvents:
        """The finished ``Response``, or (``stream: true``) its events once Azure has accepted the call.

        ``tenant`` scopes what is read and stored (a hash of the caller's inbound key). Raises
        ``GatewayError`` for anything that fails before the first event.
        """
        options = self.azure.options
        _refuse_background(request)
        plan = await self.stored.prepare(request, tenant)
        try:
            chat_request = responses_to_chat(plan.translate, options)
            try:
                if request.stream is True:
                    translator = ResponseStream(plan.echo, options)
                    return await EventSource.open(
                        self.azure.open_stream(chat_request),
                        lambda upstream, release: _stored_events(_events(upstream, release, translator), plan),
                    )
                chat = await self.azure.answer(chat_request)
            except GatewayError as exc:
                # Azure judged the Chat request the client never saw: its error names the Responses parameters.
                raise in_responses_terms(exc) from None
            response = chat_to_response(chat, plan.echo, options)
        except BaseException:
            await plan.abort()
            raise
        await plan.finish(response)
        return response


def _refuse_background(request: m.CreateResponse) -> None:
    """Background runs need a worker that outlives the request: not built yet."""
    if request.background is True:
        raise invalid_request(
            "background responses are not supported yet by this gateway.",
            param="background",
            code="unsupported_parameter",
        )


_TERMINAL = (m.ResponseCompletedEvent, m.ResponseIncompleteEvent, m.ResponseFailedEvent)


async def _stored_events(
    events: AsyncGenerator[list[m.ResponseStreamEvent], None], plan: Plan
) -> AsyncGenerator[list[m.ResponseStreamEvent], None]:
    """The stream's events, with the finished response stored before its terminal event is sent.

    A client that leaves before the end gets nothing stored (there is no finished response to keep) and the
    conversation, if any, is released. A store failure turns the terminal event into ``response.failed``.
    """
    try:
        async for batch in events:
            final = next((event for event in batch if isinstance(event, _TERMINAL)), None)
            if final is not None:
                try:
                    await plan.finish(final.response)
                except GatewayError as exc:
                    final.response.status = "failed"
                    final.response.error = m.ResponseError(code="server_error", message=exc.message)
                    batch = [
                        m.ResponseFailedEvent(sequence_number=event.sequence_number, response=event.response)
                        if isinstance(event, _TERMINAL)
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
