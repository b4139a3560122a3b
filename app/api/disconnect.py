"""A client that hangs up is gone everywhere: pure ASGI around the app that cancels the request's work.

Why: ASGI servers do not cancel a handler when its client goes away; they only report ``http.disconnect`` to
whoever calls ``receive``. A JSON request waiting for a concurrency slot, or for Azure's answer, would keep its
place in the queue (and the next clients would get 503), be sent to Azure anyway, and hold its slot until
Azure answered - all for nobody. Litestar's streaming response listens for the disconnect itself, but only
once the stream has started.

How: once the app has read the whole request body, the only message ``receive`` can still bring is
``http.disconnect``. From then on this wrapper is the one reader of the server's ``receive`` (a watcher task
per request); when the disconnect comes before the response has started, it cancels the request's task.
Cancellation runs the ``finally`` blocks that matter: a queued request leaves the limiter's queue, an Azure
call in flight is aborted (its connection closed, which Azure sees as a cancelled request) and its slot
released. A response already under way is the app's to stop: its own later ``receive`` calls (Litestar's
stream listener) get the disconnect from the watcher, and it closes the stream (shielded, so the release is
not cut short by a second cancellation). Either way the request's log line says ``client_disconnected``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.telemetry import observe

__all__ = ["CancelOnDisconnect"]

_DISCONNECT = {"type": "http.disconnect"}


class CancelOnDisconnect:
    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = _Request(asyncio.current_task(), receive)  # type: ignore[arg-type]
        try:
            await self.app(scope, request.receive, request.send_through(send))
        except asyncio.CancelledError:
            # Our own cancellation (the client left) ends the request quietly; any other (shutdown) goes on.
            if request.cancelled and request.task.uncancel() == 0:
                return
            raise
        finally:
            request.stop()


class _Request:
    """The disconnect bookkeeping of one HTTP request."""

    __slots__ = ("_gone", "_receive", "_watcher", "cancelled", "responded", "started", "task")

    def __init__(self, task: asyncio.Task[Any], receive: Any) -> None:
        self.task = task
        self._receive = receive
        self._watcher: asyncio.Task[None] | None = None
        self._gone: asyncio.Event | None = None
        self.cancelled = False
        """The watcher cancelled the request's task because the client went away."""
        self.started = False
        """The response's status line has been handed to the server."""
        self.responded = False
        """The last byte of the response has been handed to the server: a disconnect now is no news."""

    async def receive(self) -> Any:
        if self._gone is not None:
            # The body is in: only a disconnect can follow, and the watcher is the one waiting for it.
            await self._gone.wait()
            return _DISCONNECT
        message = await self._receive()
        if message["type"] == "http.disconnect":
            if not self.responded:
                _note_gone()
        elif not message.get("more_body", False):
            self._gone = asyncio.Event()
            self._watcher = asyncio.create_task(self._watch(), name="disconnect-watcher")
        return message

    def send_through(self, send: Any) -> Any:
        async def tracked(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Before the server sees it: once it has, its receive answers http.disconnect at once.
                self.responded = True
            await send(message)

        return tracked

    async def _watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                break
        assert self._gone is not None
        self._gone.set()
        if self.responded:
            return
        _note_gone()
        if not self.started:
            self.cancelled = True
            self.task.cancel()

    def stop(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()


def _note_gone() -> None:
    message = "The client closed the connection before the response was complete."
    observe.note_error(observe.CLIENT_DISCONNECTED, message)
