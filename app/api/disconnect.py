"""A client that hangs up is gone everywhere: pure ASGI around the app that cancels the request's work.

Why: ASGI servers do not cancel a handler when its client goes away; they only report ``http.disconnect`` to
whoever calls ``receive``. A JSON request waiting for a concurrency slot, or for Azure's answer, would keep its
place in the queue (and the next clients would get 503), be sent to Azure anyway, and hold its slot until
Azure answered - all for nobody. Litestar's streaming response listens for the disconnect itself, but only
once the stream has started.

How: once the app has read the whole request body, the only message ``receive`` can still bring is
``http.disconnect``. From then on this wrapper is the one reader of the server's ``receive`` (a watcher task
per request still running after ``WATCH_AFTER`` seconds); when the disconnect comes before the response has started, it
cancels the request's task.
Cancellation runs the ``finally`` blocks that matter: a queued request leaves the limiter's queue, an Azure
call in flight is aborted (its connection closed, which Azure sees as a cancelled request) and its slot
released. A response already under way is the app's to stop: its own later ``receive`` calls (Litestar's
stream listener) get the disconnect from the watcher, and it closes the stream (shielded, so the release is
not cut short by a second cancellation). Either way the request's log line says ``client_disconnected``.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from app.telemetry import observe

__all__ = ["CancelOnDisconnect"]

_DISCONNECT = {"type": "http.disconnect"}


class CancelOnDisconnect:
    __slots__ = ("_watch", "app")

    def __init__(self, app: Any) -> None:
        self.app = app
        self._watch = _Deferred()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = _Request(asyncio.current_task(), receive, self._watch)  # type: ignore[arg-type]
        try:
            await self.app(scope, request.receive, request.send_through(send))
        except asyncio.CancelledError:
            # Our own cancellation (the client left) ends the request quietly; any other (shutdown) goes on.
            if request.cancelled and request.task.uncancel() == 0:
                return
            raise
        finally:
            request.stop()


# A request answered sooner needs no watcher: starting one per request (a task, ~25 us) would cost more than the
# checking could save - about 5% of the gateway's CPU per request at the stub's speed. Azure's answers take far
# longer, so every request worth cancelling is watched; a hang-up is noticed at most twice this late.
WATCH_AFTER = 0.05


class _Deferred:
    """Starts the watchers of requests still running after ``WATCH_AFTER`` seconds: one timer for them all.

    Two generations: each tick watches the requests that were already waiting at the previous tick (so each
    has waited one to two ticks) and moves the newer ones up. A request that ends leaves its set, so a fast
    request costs a set insert and a removal.
    """

    __slots__ = ("_loop", "_older", "_ticking", "_younger")

    def __init__(self) -> None:
        self._younger: set[_Request] = set()
        self._older: set[_Request] = set()
        self._ticking = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, request: _Request) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # an app served again on another loop: the old one's timer is gone
            self._loop, self._ticking = loop, False
            self._younger, self._older = set(), set()
        self._younger.add(request)
        if not self._ticking:
            self._ticking = True
            loop.call_later(WATCH_AFTER, self._tick)

    def discard(self, request: _Request) -> None:
        self._younger.discard(request)
        self._older.discard(request)

    def _tick(self) -> None:
        due, self._older, self._younger = self._older, self._younger, set()
        for request in due:
            request.start_watching()
        if self._older and self._loop is not None:
            self._loop.call_later(WATCH_AFTER, self._tick)
        else:
            self._ticking = False


class _Request:
    """The disconnect bookkeeping of one HTTP request."""

    __slots__ = (
        "_body_done", "_context", "_deferred", "_gone", "_receive", "_watcher", "cancelled", "responded", "started",
        "task",
    )  # fmt: skip

    def __init__(self, task: asyncio.Task[Any], receive: Any, deferred: _Deferred) -> None:
        self.task = task
        self._receive = receive
        self._deferred = deferred
        self._body_done = False
        self._context: contextvars.Context | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._gone: asyncio.Event | None = None
        self.cancelled = False
        """The watcher cancelled the request's task because the client went away."""
        self.started = False
        """The response's status line has been handed to the server."""
        self.responded = False
        """The last byte of the response has been handed to the server: a disconnect now is no news."""

    async def receive(self) -> Any:
        if self._body_done:
            # The body is in: only a disconnect can follow, and the watcher is the one waiting for it.
            await self._gone_event().wait()
            return _DISCONNECT
        message = await self._receive()
        if message["type"] == "http.disconnect":
            if not self.responded:
                _note_gone()
        elif not message.get("more_body", False):
            self._body_done = True
            # The watcher starts from a timer callback: it must run in this request's context (its log record).
            self._context = contextvars.copy_context()
            self._deferred.add(self)
        return message

    def send_through(self, send: Any) -> Any:
        async def tracked(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Before the server sees it: once it has, its receive answers http.disconnect at once.
                self.responded = True
                # So does ours (Litestar's stream waits for that disconnect before it returns).
                self._gone_event().set()
            await send(message)

        return tracked

    def _gone_event(self) -> asyncio.Event:
        if self._gone is None:
            self._gone = asyncio.Event()
        return self._gone

    def start_watching(self) -> None:
        if not self.responded and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(), name="disconnect-watcher", context=self._context)

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._gone_event().set()
        if self.responded:
            return
        _note_gone()
        if not self.started:
            self.cancelled = True
            self.task.cancel()

    def stop(self) -> None:
        self._deferred.discard(self)
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()


def _note_gone() -> None:
    message = "The client closed the connection before the response was complete."
    observe.note_error(observe.CLIENT_DISCONNECTED, message)
