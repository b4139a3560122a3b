"""``Server-Timing: upstream;dur=12.345, gateway;dur=0.210`` on every response: the gateway's own cost.

``upstream`` is the time spent waiting on Azure (including waiting for a free upstream slot), ``gateway`` is
everything else between the request arriving and the response headers leaving: decoding, translating,
encoding, framework. Both in milliseconds. A streamed response sends its headers before the body, so there
the figures cover the time to the first byte.

Cheap by construction: one pure ASGI wrapper around the whole app (no Litestar middleware stack, so 404s
and errors carry the header too) and a ``ContextVar`` holding a mutable cell that the code calling Azure
adds to (``add_upstream``). The cell is shared, not copied, so time recorded inside a task spawned by the
request (a streaming pump, say) still counts.
"""

from __future__ import annotations

from contextvars import ContextVar
from time import perf_counter
from typing import Any

__all__ = ["ServerTimingMiddleware", "add_upstream", "upstream_timer"]


class _Cell:
    __slots__ = ("upstream",)

    def __init__(self) -> None:
        self.upstream = 0.0


_CURRENT: ContextVar[_Cell | None] = ContextVar("server_timing", default=None)


def add_upstream(seconds: float) -> None:
    """Count ``seconds`` as time spent waiting on Azure for the current request (no-op outside one)."""
    cell = _CURRENT.get()
    if cell is not None:
        cell.upstream += seconds


class upstream_timer:  # lower-case: used like a function, `with upstream_timer(): ...`
    """``with upstream_timer(): await azure_call()`` counts the block as upstream time."""

    __slots__ = ("_start",)

    def __enter__(self) -> None:
        self._start = perf_counter()

    def __exit__(self, *_: object) -> None:
        add_upstream(perf_counter() - self._start)


class ServerTimingMiddleware:
    """Pure ASGI: adds the ``server-timing`` header to ``http.response.start``."""

    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        cell = _Cell()
        token = _CURRENT.set(cell)

        async def send_with_timing(message: Any) -> None:
            if message["type"] == "http.response.start":
                total = (perf_counter() - start) * 1000
                upstream = cell.upstream * 1000
                value = f"upstream;dur={upstream:.3f}, gateway;dur={max(total - upstream, 0.0):.3f}"
                message["headers"] = [*message.get("headers", ()), (b"server-timing", value.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            _CURRENT.reset(token)
