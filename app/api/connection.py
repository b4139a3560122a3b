"""Per-connection limits uvicorn does not have: time to send the headers, header count and header size.

uvicorn's httptools protocol waits for a request's headers forever (a client trickling one header a second
holds the connection and its buffers indefinitely), accepts any number of headers and buffers a header of any
size. ``GuardedHttpTools`` adds, per request:

* ``header_read_timeout``: from the connection's opening, or from the first byte of a request, until the end
  of its headers; past it the client gets 408 and the connection is closed;
* ``max_header_count`` and ``max_header_bytes`` (request line plus headers, counted as bytes arrive, so an
  8 MB header is refused after ``max_header_bytes``, not buffered): 431 and close.

The body's time limit is the inbound guard's (``app.api.inbound``), where the answer can be an OpenAI envelope
logged like any other. These refusals happen before there is a request to log, so each is one warning line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings
from app.wire.errors import GatewayError

__all__ = ["GuardedHttpTools", "configure_workers", "server_options"]

log = logging.getLogger("app.api.connection")

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing a request that has been answered and closed."""


class GuardedHttpTools(HttpToolsProtocol):
    header_timeout: float = 30.0
    max_header_count: int = 100
    max_header_bytes: int = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True
        self._head_bytes = 0  # bytes received while the head is incomplete
        self._head_size = 0  # bytes of the URL and the headers parsed so far
        self._header_count = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is bounded too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(431, self._too_large())

    def _too_large(self) -> str:
        return f"The request line and headers exceed {self.max_header_bytes} bytes (the gateway's max_header_bytes)."

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a callback's _Refused surfaces as a parser error: already answered
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._head_size, self._header_count = True, 0, 0, 0
        if self._head_timer is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Exact for a head that arrived whole; data_received bounds one still arriving.
        self._header_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._header_count > self.max_header_count:
            self._refuse(431, f"The request has more than {self.max_header_count} header fields "
                         "(the gateway's max_header_count).")
            raise _Refused
        if self._head_size > self.max_header_bytes:
            self._refuse(431, self._too_large())
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_bytes = True, 0  # the next request's headers; keep-alive bounds the wait

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_bytes == 0:
            # Not a byte sent: close quietly, as the keep-alive timeout does. A 408 written here could be read
            # by a pooling client as the answer to the request it is about to send on this connection.
            self.transport.close()
            return
        self._refuse(408, f"The request headers did not arrive within {self.header_timeout:g} seconds "
                     "(the gateway's header_read_timeout).")

    def _refuse(self, status: int, message: str) -> None:
        self._refused = True
        self._disarm()
        code = "request_timeout" if status == 408 else "request_header_fields_too_large"
        body = GatewayError(status, message, code=code).body()
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "unknown client"
        log.warning("refused a request from %s: %d %s", client, status, message)
        if not self.transport.is_closing():
            self.transport.write(b"".join(head) + body)
            self.transport.close()


def configure_workers(settings: Settings) -> None:
    """``serve --workers``: uvicorn pickles its config for each worker process, so the protocol goes by its
    importable name and each worker, loading its settings, sets the limits on that class."""
    GuardedHttpTools.header_timeout = settings.header_read_timeout
    GuardedHttpTools.max_header_count = settings.max_header_count
    GuardedHttpTools.max_header_bytes = settings.max_header_bytes


def server_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.Config`` keywords that apply ``settings``' connection limits (serve and tests alike)."""
    protocol = type(
        "GatewayHttpProtocol",
        (GuardedHttpTools,),
        {
            "header_timeout": settings.header_read_timeout,
            "max_header_count": settings.max_header_count,
            "max_header_bytes": settings.max_header_bytes,
        },
    )
    return {"http": protocol, "timeout_keep_alive": settings.keep_alive_timeout}
