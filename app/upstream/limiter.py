"""How many Azure calls may run at once, and what waits: the seam a fleet-wide budget plugs into.

Callers hold a slot with ``async with limiter.acquire(deadline):`` for the whole call (a stream holds it until
it is drained) and ``await limiter.aclose()`` at shutdown. ``LocalLimiter`` is this process's
``num_concurrent_requests`` with a bounded wait queue; a shared (Redis) budget implements the same two methods
and replaces it without touching the callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from app.telemetry import observe
from app.upstream.errors import GatewayBusy


class Limiter(Protocol):
    def acquire(self, deadline: float | None = None) -> AbstractAsyncContextManager[None]:
        """Hold one slot for the block; raise ``GatewayBusy`` when none can be had in time.

        A waiter cancelled while queued (its client hung up: ``app.api.disconnect`` cancels the request) must
        leave the queue at once and never get a slot; a holder cancelled inside the block frees its slot.
        """
        ...

    async def aclose(self) -> None: ...


class LocalLimiter:
    """``capacity`` slots; when none is free, at most ``max_queue`` waiters, each for at most ``max_wait``
    seconds (or until the caller's ``deadline``); beyond that ``GatewayBusy``. Nothing waits without bound, and
    a cancelled waiter (client gone) leaves no trace.
    """

    def __init__(self, capacity: int, *, max_queue: int, max_wait: float) -> None:
        self.capacity = capacity
        self._semaphore = asyncio.Semaphore(capacity)
        self._max_queue = max_queue
        self._max_wait = max_wait
        self.in_flight = 0
        """Slots held right now (tests check it drops back to 0: no leaked slots)."""
        self.queued = 0
        """Callers waiting for a slot right now."""

    @property
    def free(self) -> int:
        return self.capacity - self.in_flight

    @asynccontextmanager
    async def acquire(self, deadline: float | None = None) -> AsyncIterator[None]:
        # Our own counts, not Semaphore.locked() (on 3.11 it scans the waiters with a generator on every call, a
        # few percent of the gateway's CPU under load) nor its private value.
        if self.queued or self.in_flight >= self.capacity:
            if self.queued >= self._max_queue:
                raise GatewayBusy(
                    f"The gateway is at capacity ({self.in_flight} Azure calls in flight, {self.queued} waiting); "
                    "retry shortly."
                )
            with observe.slot_wait():
                await self._wait(deadline)
        else:
            await self._semaphore.acquire()
        self.in_flight += 1
        observe.IN_FLIGHT.inc()
        try:
            yield
        finally:
            observe.IN_FLIGHT.dec()
            self.in_flight -= 1
            self._semaphore.release()

    async def _wait(self, deadline: float | None) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + self._max_wait
        if deadline is not None:
            until = min(until, deadline)
        self.queued += 1
        try:
            async with asyncio.timeout_at(until):
                await self._semaphore.acquire()
        except TimeoutError:
            raise GatewayBusy(
                f"The gateway is at capacity: no Azure slot became free within {self._max_wait:g}s; retry shortly.",
                retry_after=max(1, round(self._max_wait / 10)),
            ) from None
        finally:
            self.queued -= 1

    async def aclose(self) -> None:
        """Nothing to release for a local limiter; a shared one closes its connection here."""
