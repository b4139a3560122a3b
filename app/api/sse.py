"""Server-sent events: the service's event sources framed as ``text/event-stream``, and their lifetime.

Lifetime: the service has already opened Azure's stream (so an HTTP error from Azure was still a JSON error);
the route hands its ``EventSource`` to an ``EventStream`` response that owns it. The response closes its
iterator however it ends - drained, failed, or the client went away (Litestar cancels the sending task on
``http.disconnect``; cancellation while waiting on Azure propagates into the read, and the upstream connection
and concurrency slot are released in a shielded ``finally``). Litestar's own ``Stream`` does not close the
iterator, which would leave a suspended generator - and its slot - to the garbage collector.

Framing: one ``bytes`` chunk per batch of events (one upstream read), so one ASGI message and one write per
read; LF line endings; the JSON on one line (Litestar's ``ServerSentEvent`` uses CRLF, which some SSE parsers
never dispatch).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import msgspec
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

from app.models import generated as m
from app.service.chat import ChatEvents
from app.service.events import EventSource
from app.service.responses import ResponseEvents
from app.telemetry import observe

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures.cookie import Cookie
    from litestar.types import Receive, Scope, Send, TypeEncodersMap

SSE_HEADERS: Mapping[str, str] = {
    "cache-control": "no-cache",
    # Reverse proxies (nginx) buffer responses unless told not to; buffered SSE arrives all at the end.
    "x-accel-buffering": "no",
}
_ENCODER = msgspec.json.Encoder()
E = TypeVar("E")


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

    def __init__(self, content: AsyncIterator[bytes]) -> None:
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


def responses_sse(source: ResponseEvents) -> EventStream:
    """Responses events as SSE: ``event: <type>`` and one line of JSON per event, one write per batch."""
    return EventStream(_framed(source, frame_response_event))


def chat_sse(source: ChatEvents) -> EventStream:
    """Chat chunks as SSE: ``data: <json>`` per event (each line of a multi-line data on its own line)."""
    return EventStream(_framed(source, _frame_chat_event))


def frame_response_event(event: m.ResponseStreamEvent) -> bytes:
    # msgspec escapes every control character inside strings, so the JSON is always a single line.
    tag = type(event).__struct_config__.tag
    return b"event: " + str(tag).encode() + b"\ndata: " + _ENCODER.encode(event) + b"\n\n"


def _frame_chat_event(data: bytes) -> bytes:
    return b"".join(b"data: " + line + b"\n" for line in data.split(b"\n")) + b"\n"


class _framed(Generic[E]):
    """An event source's batches, framed: one bytes chunk per batch; closing it closes the source."""

    __slots__ = ("_frame", "_source")

    def __init__(self, source: EventSource[E], frame: Callable[[E], bytes]) -> None:
        self._source = source
        self._frame = frame

    def __aiter__(self) -> _framed[E]:
        return self

    async def __anext__(self) -> bytes:
        frame = self._frame
        return b"".join([frame(event) for event in await self._source.__anext__()])

    async def aclose(self) -> None:
        await self._source.aclose()
