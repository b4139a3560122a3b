"""Our request id: on every response as ``x-request-id`` (a client's own is kept when it is a sane token).

It lives in a ContextVar set by :class:`RequestIdApp` for the whole request, so error logging and the
request's log line (``app.observe``, which also keeps Azure's ``apim-request-id``s and the attempts) can
name it without every layer passing it along.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

__all__ = ["RequestContext", "RequestIdApp", "current"]

REQUEST_ID_HEADER = "x-request-id"
# A client's id is echoed into headers and logs: accept only a plain token, so nothing can be injected.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")



@dataclass(slots=True)
class RequestContext:
    request_id: str


_CURRENT: ContextVar[RequestContext | None] = ContextVar("gateway_request", default=None)


def current() -> RequestContext | None:
    """The context of the request being served (None outside a request, e.g. in unit tests)."""
    return _CURRENT.get()


def _incoming_id(scope: Any) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _VALID_ID.match(text) else None
    return None


class RequestIdApp(Litestar):
    """Litestar, plus an ``x-request-id`` on every HTTP response.

    Done here rather than as Litestar middleware because middleware only wraps matched routes: a 404 or 405
    from the router must carry the header too.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        ctx = RequestContext(request_id=_incoming_id(scope) or f"req_{uuid.uuid4().hex}")
        token = _CURRENT.set(ctx)
        header = (REQUEST_ID_HEADER.encode(), ctx.request_id.encode())

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await super().__call__(scope, receive, send_with_id)
        finally:
            _CURRENT.reset(token)
            # The request's log line (request id, apim-request-ids, attempts, durations, tokens) is written by
            # app.observe.Observed, which runs inside this context.
