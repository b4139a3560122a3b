"""Azure's reply to a ``stream: true`` request, read event by event within the stream's time limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from app.settings.model import Deployment
from app.upstream.errors import UpstreamUnavailable, unavailable_from
from app.upstream.sse import SSEParser

__all__ = ["StreamLimits", "UpstreamStream"]


class UpstreamStream:
    """Azure's reply to a ``stream: true`` request, open: status and headers now, the events as they come.

    ``body`` holds the whole (JSON error) body when ``status`` is not 2xx, and is empty otherwise.
    ``limits`` bounds the wait for each event and the stream's whole life (see ``event_batches``).
    ``deployment``, ``endpoint`` and ``api_version`` name the deployment of the pool that answered.
    """

    def __init__(
        self,
        response: httpx.Response,
        body: bytes,
        host: str,
        limits: StreamLimits | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = body
        self.deployment = deployment.openai_model if deployment is not None else ""
        self.endpoint = deployment.openai_base_url if deployment is not None else ""
        self.api_version = deployment.default_query.get("api-version") if deployment is not None else None
        self._response = response
        self._host = host
        self._limits = limits

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

        With ``limits``, each wait for the next event (bytes that complete no event, such as SSE comments, do
        not count as one) is bounded by ``stream_idle_timeout`` and the whole stream by
        ``stream_total_timeout``; either ends it with ``UpstreamUnavailable(timeout=True)`` naming the setting.
        The time the caller spends between batches (writing to a slow client) is not Azure's idle time.
        """
        parser = SSEParser()
        chunks = self._response.aiter_bytes().__aiter__()  # content-decoded (gzip)
        limits = self._limits
        loop = asyncio.get_running_loop()
        idle_until = loop.time() + limits.idle if limits is not None else 0.0
        try:
            while True:
                try:
                    if limits is None:
                        raw = await chunks.__anext__()
                    else:
                        async with asyncio.timeout_at(min(idle_until, limits.deadline)):
                            raw = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    assert limits is not None
                    raise limits.exceeded(self._host, loop.time()) from None
                if batch := parser.feed(raw):
                    yield batch
                    if limits is not None:
                        idle_until = loop.time() + limits.idle
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise unavailable_from(exc, self._host, "mid-stream") from None
        if last := parser.close():
            yield last


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """How long a stream may wait for Azure's next event (``idle``), and the loop time it must end by."""

    idle: float
    deadline: float
    total: float

    def exceeded(self, host: str, now: float) -> UpstreamUnavailable:
        if now >= self.deadline:
            what = f"did not finish the stream within the gateway's stream_total_timeout ({self.total:g}s)"
        else:
            what = f"sent no stream event for the gateway's stream_idle_timeout ({self.idle:g}s)"
        return UpstreamUnavailable(f"Azure OpenAI at {host} {what}", timeout=True)
