"""What Azure sent back: a whole reply (``UpstreamResponse``) or an open stream (``UpstreamStream``), and the
``UpstreamUnavailable`` for a call that got no reply at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from app.upstream.errors import UpstreamUnavailable
from app.upstream.sse import SSEParser

if TYPE_CHECKING:
    from app.upstream.pool import Target

__all__ = ["UpstreamResponse", "UpstreamStream", "failure_outcome", "unavailable"]


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """Azure's reply as received: any status (4xx/5xx included), headers, and the raw body bytes.

    ``deployment`` and ``endpoint`` say which deployment of the pool answered (the last attempt's).
    """

    status: int
    headers: httpx.Headers
    body: bytes
    deployment: str = ""
    endpoint: str = ""


class UpstreamStream:
    """Azure's reply to a ``stream: true`` request, open: status and headers now, the events as they come.

    ``body`` holds the whole (JSON error) body when ``status`` is not 2xx, and is empty otherwise.
    """

    def __init__(self, response: httpx.Response, body: bytes, target: Target) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = body
        self.deployment = target.deployment.openai_model
        self.endpoint = target.deployment.openai_base_url
        self._response = response
        self._host = target.host

    async def events(self) -> AsyncIterator[bytes]:
        """The ``data`` of each server-sent event, as bytes, in order; ``b"[DONE]"`` included.

        Parsed from the raw bytes as they arrive (LF or CRLF line ends; multi-line data joined with LF; other
        fields and comments ignored). Ends when the body ends. Raises ``UpstreamUnavailable`` if the
        connection drops or a read times out mid-stream.
        """
        async for batch in self.event_batches():
            for data in batch:
                yield data

    async def event_batches(self) -> AsyncIterator[list[bytes]]:
        """As ``events``, but all the events one network read completed come together, in order.

        So the route can answer with one write per read instead of one per event: a write is a system call,
        and when Azure is fast a read holds dozens of chunks (a 1,000-chunk stream cost 1,000 writes).
        """
        parser = SSEParser()
        try:
            async for raw in self._response.aiter_bytes():  # content-decoded (gzip)
                if batch := parser.feed(raw):
                    yield batch
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise unavailable(exc, self._host, "mid-stream") from None
        if last := parser.close():
            yield last


def failure_outcome(exc: Exception) -> str:
    """The attempts metric's outcome for a call that got no HTTP response."""
    return "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"


def unavailable(exc: Exception, host: str, when: str = "") -> UpstreamUnavailable:
    """``when`` (e.g. "mid-stream") says at which point the failure happened, if not while connecting."""
    if isinstance(exc, httpx.TimeoutException):
        phase = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        where = f" {when}" if when else ""
        return UpstreamUnavailable(f"Azure OpenAI at {host} timed out{where} ({phase} timeout)", timeout=True)
    # str(exc) of a transport error names the socket problem, never request headers.
    what = f"dropped the connection {when}" if when else "is unreachable"
    return UpstreamUnavailable(f"Azure OpenAI at {host} {what}: {type(exc).__name__}: {exc}")
