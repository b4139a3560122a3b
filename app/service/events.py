"""An event source: what the service returns for ``stream: true``, before any event has been read.

The upstream stream is opened first (so Azure's 4xx/5xx is still an error the route can answer with a status),
then handed to an ``EventSource`` that owns it. Iterating yields *batches*: all the events one upstream read
produced, in order, so a transport can send them with one write (a write is a system call; a fast Azure stream
puts dozens of chunks in one read). ``aclose`` releases the upstream connection and the concurrency slot
however the stream ended - drained, failed, or abandoned by the client - and is safe to call twice.

What an event is depends on the endpoint: a Responses event Struct, or a Chat chunk's JSON as raw bytes
(passed through unchanged). The transport frames them (SSE in ``app.api.sse``; a WebSocket route would send
each as one message).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Generic, TypeVar

from app.upstream import UpstreamStream

E = TypeVar("E")
Release = Callable[[], Awaitable[None]]
"""Ends the upstream call early (idempotent): the slot is free before the client gets the last event."""


class EventSource(Generic[E]):
    """Batches of events from one upstream stream, which it owns until ``aclose``."""

    def __init__(self, stack: AsyncExitStack, batches: AsyncGenerator[list[E], None]) -> None:
        self._stack = stack
        self._batches = batches

    @classmethod
    async def open(
        cls,
        opened: AbstractAsyncContextManager[UpstreamStream],
        make_batches: Callable[[UpstreamStream, Release], AsyncGenerator[list[E], None]],
    ) -> EventSource[E]:
        """Enter ``opened`` (``Azure.open_stream``) now; errors while opening propagate as ``GatewayError``."""
        stack = AsyncExitStack()
        try:
            upstream = await stack.enter_async_context(opened)
        except BaseException:
            await stack.aclose()
            raise
        return cls(stack, make_batches(upstream, stack.aclose))

    def __aiter__(self) -> AsyncIterator[list[E]]:
        return self

    async def __anext__(self) -> list[E]:
        return await self._batches.__anext__()

    async def aclose(self) -> None:
        try:
            await self._batches.aclose()
        finally:
            await self._stack.aclose()
