"""Server-sent events for both routes: the upstream stream's lifetime, the framing, the two event sources.

Lifetime: the route opens Azure's stream (so an HTTP error from Azure is still a JSON error), then hands
it to an `EventStream` response that owns it. The response closes its iterator however it ends - drained,
failed, or the client went away (Litestar cancels the sending task on `http.disconnect`; cancellation
while waiting on Azure propagates into the read, and the upstream connection and concurrency slot are
released in a shielded `finally`). Litestar's own `Stream` does not close the iterator, which would
leave a suspended generator - and its slot - to the garbage collector.

Framing: every event is one `bytes` chunk, so one ASGI message and one write per event; LF line endings;
the JSON on one line (Litestar's `ServerSentEvent` uses CRLF, which some SSE parsers never dispatch).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

from app.models import generated as m
from app.telemetry import observe
from app.translate.stream import ResponseStream, StreamProtocolError, frame
from app.upstream.client import UpstreamStream, UpstreamUnavailable
from app.wire.errors import GatewayError

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures.cookie import Cookie
    from litestar.types import Receive, Scope, Send, TypeEncodersMap

log = logging.getLogger("app.api.sse")

SSE_HEADERS: Mapping[str, str] = {
    "cache-control": "no-cache",
    # Reverse proxies (nginx) buffer responses unless told not to; buffered SSE arrives all at the end.
    "x-accel-buffering": "no",
}
_DONE = b"[DONE]"


class UpstreamEvents:
    """An async iterator of SSE chunks that owns what must be released when it ends (the upstream stream)."""

    def __init__(self, stack: AsyncExitStack, events: AsyncGenerator[bytes, None]) -> None:
        self._stack = stack
        self._events = events

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        try:
            await self._events.aclose()
        finally:
            await self._stack.aclose()


class _ClosingStreamingResponse(ASGIStreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            with observe.open_stream():
                await super().__call__(scope, receive, send)
        finally:
            aclose: Callable[[], Any] | None = getattr(self.iterator, "aclose", None)
            if aclose is not None:
                # Shielded: after a disconnect this task is being cancelled, and the release must still run.
                with anyio.CancelScope(shield=True):
                    await aclose()


class EventStream(Stream):
    """A `text/event-stream` response that always closes its iterator (see the module docstring)."""

    def __init__(self, content: UpstreamEvents) -> None:
        super().__init__(content, media_type="text/event-stream", headers=dict(SSE_HEADERS))

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request,
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: Any = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        merged = {**headers, **self.headers} if headers is not None else self.headers
        return _ClosingStreamingResponse(
            background=self.background or background,
            content_length=0,
            cookies=[*self.cookies, *(cookies or [])],
            encoded_headers=encoded_headers,
            encoding=self.encoding,
            headers=merged,
            is_head_response=is_head_response,
            iterator=self.iterator,  # type: ignore[arg-type]
            media_type=str(self.media_type),
            status_code=self.status_code or status_code,
        )


Release = Callable[[], Awaitable[None]]


async def open_events(
    opened: Any, make_events: Callable[[UpstreamStream, Release], AsyncGenerator[bytes, None]]
) -> EventStream:
    """Enter `opened` (a Gateway.open_stream context) now; return the response that owns and streams it.

    Errors while opening (Azure's 4xx/5xx, Azure unreachable) propagate as GatewayError: a JSON error.
    `make_events` gets the upstream stream and a `release` to call once Azure is done with (idempotent;
    the response calls it anyway when it ends), so the slot is free before the client gets the last event.
    """
    stack = AsyncExitStack()
    try:
        upstream = await stack.enter_async_context(opened)
    except BaseException:
        await stack.aclose()
        raise
    return EventStream(UpstreamEvents(stack, make_events(upstream, stack.aclose)))


async def response_events(
    upstream: UpstreamStream, release: Release, stream: ResponseStream
) -> AsyncGenerator[bytes, None]:
    """Responses events: created/in_progress at once, then one or more per Azure chunk, then the end.

    One chunk (one write) per upstream read, not per event: see `UpstreamStream.event_batches`.
    """
    yield b"".join(frame(event) for event in stream.start())
    failure: str | None = None
    saw_done = False
    try:
        async for batch in upstream.event_batches():
            out: list[bytes] = []
            for data in batch:
                if data == _DONE:
                    saw_done = True
                    break
                try:
                    events = stream.feed(data)
                except StreamProtocolError as exc:
                    failure = str(exc)
                    break
                out += [frame(event) for event in events]
            if out:
                yield b"".join(out)
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
    yield b"".join(frame(event) for event in (stream.fail(failure) if failure is not None else stream.complete()))


class _UsageOnly(msgspec.Struct):
    usage: m.CompletionUsage | None = None


_USAGE_ONLY = msgspec.json.Decoder(_UsageOnly)


def _count_chunk_usage(data: bytes) -> None:
    # Not a usage chunk after all (or an error object)? It is passed through as it is either way.
    with contextlib.suppress(msgspec.DecodeError):
        observe.count_usage(_USAGE_ONLY.decode(data).usage)


async def chat_events(upstream: UpstreamStream, release: Release) -> AsyncGenerator[bytes, None]:
    """Azure's Chat Completions events passed through one by one, each as `data: <json>` + blank line.

    A mid-stream failure ends the stream with OpenAI's in-stream error object (which the openai SDKs raise
    as an APIError) and no `[DONE]`; an error object Azure sent itself is passed on as it is.
    """
    last = b""
    message = "Azure OpenAI closed the stream before it finished."
    try:
        async for batch in upstream.event_batches():
            out: list[bytes] = []
            for data in batch:
                last = data
                if b'"usage"' in data:  # only the last chunk(s), and only when the client asked include_usage
                    _count_chunk_usage(data)
                out.append(b"".join(b"data: " + line + b"\n" for line in data.split(b"\n")) + b"\n")
                if data == _DONE:
                    break
            yield b"".join(out)  # one write per upstream read (see UpstreamStream.event_batches)
            if last == _DONE:
                break
    except UpstreamUnavailable as exc:
        message = f"{exc}."
    finally:
        # Before the body ends: a client that has read the whole stream never finds the slot still held.
        await release()
    if last == _DONE or last.startswith(b'{"error"'):
        return
    error = GatewayError(502, message, code="upstream_error")
    yield b"data: " + msgspec.json.encode(error.envelope()) + b"\n\n"
