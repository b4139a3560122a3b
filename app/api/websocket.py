"""WebSocket mode on ``/v1/responses``: the transport around ``ResponseSession`` (app/service/session.py).

Each text message is handed to the connection's session, which runs it through ``ResponsesService.create``
- the same call the POST route makes - and each event it yields goes out as one JSON text message. Turns
run one at a time, in the order they arrived (a message sent during a turn waits its turn, as OpenAI's
WebSocket mode runs them sequentially). A reader task keeps receiving meanwhile, so a client that goes away
mid-turn is noticed at once: the turn is cancelled, which closes Azure's stream and frees the concurrency
slot, instead of running to the end for nobody.

Auth, body limits and telemetry are those of HTTP: the app's guard checks the upgrade's key; a message is
limited to ``max_body_bytes``; each turn is one unit of work (``app.telemetry.sockets``). An upgrade that
cannot be served (no or wrong key, unknown path) would be closed by Litestar before accepting, which the
client sees as a bare 403; ``UpgradeErrors`` answers it instead with the real status and OpenAI's envelope
(the ASGI WebSocket Denial Response extension, which uvicorn implements).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, WebSocketDisconnect

from app.api.guards import tenant_of
from app.service.responses import ResponsesService
from app.service.session import ResponseSession
from app.settings import Settings
from app.telemetry import observe, sockets
from app.wire.errors import GatewayError

log = logging.getLogger("app.api.websocket")

PATH = "/v1/responses"
_ENCODER = msgspec.json.Encoder()
_ERROR_KEY = "gateway.upgrade_error"
_PENDING = 4  # messages received and waiting for the turn before them


@websocket(PATH, name="responses_websocket")
async def responses_websocket(
    socket: WebSocket[Any, Any, Any],
    sessions: NamedDependency[SessionFactory],
) -> None:
    await socket.accept()
    session = sessions.new(socket.headers)
    # Bounded: a client that sends faster than turns run is slowed down by TCP, not buffered without end (each
    # message may be up to max_body_bytes).
    inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue(maxsize=_PENDING)
    reader = asyncio.create_task(_read(socket, inbox))
    with sockets.connection():
        try:
            # The reader ends only when the client has gone: what it left queued has no one to answer.
            while not reader.done() and (message := await inbox.get()) is not None:
                turn = asyncio.create_task(_turn(socket, session, message, sessions.log))
                await asyncio.wait({turn, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not turn.done():  # the client went away mid-turn: stop the Azure call, free the slot
                    turn.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await turn
                    return
                turn.result()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


class SessionFactory:
    """What the route needs to open a connection's session (one per app)."""

    def __init__(self, responses: ResponsesService, settings: Settings) -> None:
        self._responses = responses
        self._max_bytes = settings.max_body_bytes
        self._tenant = tenant_of(settings)
        self.log = settings.access_log

    def new(self, headers: Mapping[str, str]) -> ResponseSession:
        """A session for a connection: its tenant (for the store) comes from the upgrade's key, as for HTTP."""
        return ResponseSession(self._responses, self._tenant(headers), max_message_bytes=self._max_bytes)


async def _read(socket: WebSocket[Any, Any, Any], inbox: asyncio.Queue[str | bytes | None]) -> None:
    try:
        while True:
            event = await socket.receive()
            if event["type"] != "websocket.receive":
                return
            text = event.get("text")
            await inbox.put(text if text is not None else (event.get("bytes") or b""))
    except WebSocketDisconnect:
        return
    finally:
        with contextlib.suppress(asyncio.QueueFull):  # full: the route sees reader.done() before its next get
            inbox.put_nowait(None)


async def _turn(socket: WebSocket[Any, Any, Any], session: ResponseSession, message: str | bytes, log: bool) -> None:
    with sockets.turn(PATH, log=log) as record:
        try:
            async with contextlib.aclosing(session.turn(message)) as batches:
                async for batch in batches:
                    sockets.first_event(record)
                    for event in batch:
                        await socket.send_text(_ENCODER.encode(event).decode())
        except (WebSocketDisconnect, OSError):  # the client left while we were sending
            return


# ------------------------------------------------------------------------------------------ refused upgrades


async def remember_upgrade_error(exc: Exception, scope: Any) -> None:
    """Litestar's ``after_exception`` hook: keep what refused a WebSocket upgrade for ``UpgradeErrors``."""
    if scope.get("type") == "websocket":
        scope[_ERROR_KEY] = exc


def _as_gateway_error(exc: BaseException | None, path: str) -> GatewayError:
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return GatewayError(404, f"Unknown request URL: WebSocket {path}. WebSocket mode is on {PATH}.")
        return GatewayError(exc.status_code, exc.detail or "The WebSocket upgrade was refused.")
    if exc is not None:
        log.error("refused a WebSocket upgrade on %s", path, exc_info=exc)
    return GatewayError(500, "The gateway failed to accept the WebSocket connection.", code="internal_error")


class UpgradeErrors:
    """Pure ASGI: a WebSocket upgrade the app refuses is answered with its HTTP status and error envelope."""

    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def guarded_send(message: Any) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                accepted = True
            elif message["type"] == "websocket.close" and not accepted:
                await _refuse(scope, send, _as_gateway_error(scope.get(_ERROR_KEY), scope.get("path", "")))
                return
            await send(message)

        await self.app(scope, receive, guarded_send)


async def _refuse(scope: Any, send: Any, error: GatewayError) -> None:
    request_id = observe.request_id_of(scope)
    with observe.unit_of_work(scope.get("path", ""), method="GET", request_id=request_id) as record:
        record.status = error.status
        observe.note_error(error.code or error.type, error.message)
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            # A server without the Denial Response extension: close with a policy-violation code and the text.
            await send({"type": "websocket.close", "code": 1008, "reason": error.message[:120]})
            return
        body = error.body()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (observe.REQUEST_ID_HEADER, request_id.encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        await send({"type": "websocket.http.response.start", "status": error.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
