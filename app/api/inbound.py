"""Every POST body is read under limits before any of the app sees it: media type, size, time, structure.

Pure ASGI, between the per-request record (``Observed``) and Litestar, so a refusal is logged like any other
answer and no handler, DTO or decoder ever runs on a body that is not JSON of a bounded shape:

* ``Content-Type`` must be ``application/json`` (any parameters): 415 otherwise. A browser may send a
  "simple" cross-site POST only as ``text/plain``, form or multipart, so this is what stops any web page from
  spending the Azure quota of a keyless gateway on loopback.
* the body must arrive within ``body_read_timeout`` seconds (408) and fit in ``max_body_bytes`` (413, as soon
  as the ``Content-Length`` or the bytes so far say so);
* bodies still arriving share ``max_pending_body_bytes``: while others hold it, a request reads no further
  (the server stops reading its socket, so the client is slowed by TCP, not buffered), so many slow
  half-sent bodies cannot add up; the body furthest along always reads on, so the budget never deadlocks;
* while it arrives, ``app.wire.limits.BodyScan`` checks UTF-8 and counts values, keys and depth, chunk by
  chunk, so a body that would explode in memory is refused before it is decoded, and no step holds the event
  loop for more than a slice of a chunk.

A refused body may be left unread, so the answer closes the connection (``connection: close``): the rest of
a body that never ends cannot keep it open.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from app.api.guards import key_check
from app.settings import Settings
from app.telemetry import observe
from app.wire.errors import GatewayError
from app.wire.limits import BodyLimits, BodyScan

__all__ = ["InboundGuard", "body_routes"]


def body_routes(templates: Iterable[str]) -> re.Pattern[str]:
    """One pattern for the paths of the routes that take a body (Litestar templates such as ``/a/{id:str}``).

    The guard judges only requests a handler would read: any other method or path is Litestar's to answer
    (405, 404) without reading a body, exactly as if the guard were not there.
    """
    alternatives = [re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) for template in templates]
    return re.compile("(?:" + "|".join(alternatives) + ")") if alternatives else re.compile("(?!)")


class _ClientGone(Exception):
    """The client disconnected before its body was complete: there is nobody to answer."""


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _Headers(Mapping[str, str]):
    """The scope's headers as the read-only mapping the key check reads (first value of a name)."""

    def __init__(self, scope: dict[str, Any]) -> None:
        self._scope = scope

    def __getitem__(self, name: str) -> str:
        value = _header(self._scope, name.lower().encode("latin-1"))
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Any:
        return iter(k.decode("latin-1") for k, _ in self._scope.get("headers") or ())

    def __len__(self) -> int:
        return len(self._scope.get("headers") or ())


def _check_media_type(scope: dict[str, Any]) -> None:
    content_type = _header(scope, b"content-type")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        return
    sent = f"'{content_type}'" if content_type else "no Content-Type"
    raise GatewayError(
        415,
        f"Unsupported Content-Type: the request body must be JSON sent as 'application/json' (got {sent}).",
        code="unsupported_media_type",
    )


class InboundGuard:
    __slots__ = ("_released", "app", "budget", "check_key", "limits", "max_bytes", "pending", "routes", "timeout")

    def __init__(self, app: Any, settings: Settings, routes: re.Pattern[str]) -> None:
        self.app = app
        self.routes = routes  # the POST routes (`body_routes`)
        # The client's key first: a caller without one gets its 401, not a verdict on a body nobody may send.
        self.check_key: Callable[[Mapping[str, str]], None] | None = key_check(settings)
        self.max_bytes = settings.max_body_bytes
        self.timeout = settings.body_read_timeout
        self.budget = settings.max_pending_body_bytes
        self.pending = 0  # bytes read of bodies not yet complete, all requests together
        self._released = asyncio.Event()
        self.limits = BodyLimits(
            max_values=settings.max_json_values, max_keys=settings.max_json_keys, max_depth=settings.max_json_depth
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.routes.fullmatch(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        try:
            if self.check_key is not None:
                self.check_key(_Headers(scope))
            _check_media_type(scope)
            body = await self._read(scope, receive)
        except GatewayError as error:
            await _refuse(send, error)
            return
        except _ClientGone:
            observe.note_error("client_disconnected", "the client disconnected before sending its whole body")
            return
        sent = False

        async def replay() -> dict[str, Any]:
            # The body once, then what the server says next (a disconnect, for a client that goes away).
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self.app(scope, replay, send)

    async def _read(self, scope: dict[str, Any], receive: Any) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise _too_large(self.max_bytes)
        scan = BodyScan(self.limits)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    # While the budget is spent, only the body furthest along reads on (so one always makes
                    # progress, and a body alone may use all of it); the others wait for a release.
                    while self.pending >= self.budget and size < self.pending - size:
                        await self._released.wait()
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    self.pending += len(chunk)
                    if size > self.max_bytes:
                        raise _too_large(self.max_bytes)
                    if chunk:
                        scan.feed(chunk)
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise GatewayError(
                408,
                f"The request body did not arrive within {self.timeout:g} seconds (the gateway's body_read_timeout).",
                code="request_timeout",
            ) from None
        finally:
            self.pending -= size
            self._released.set()  # wake every waiter to re-check; later waits use a fresh event
            self._released = asyncio.Event()
        scan.finish()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        f"The request body is larger than {limit} bytes (the gateway's max_body_bytes).",
        code="request_too_large",
    )


async def _refuse(send: Any, error: GatewayError) -> None:
    observe.note_error(error.code or error.type, error.message)
    body = error.body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
