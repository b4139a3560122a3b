"""No credential leaves in a response: every header and body chunk (and WebSocket message) is scrubbed of the
registered secrets.

Azure sometimes quotes what it was sent in its error text (a key pasted into the wrong setting, a token in a
message); the gateway passes Azure's messages on, in JSON errors, stream events and forwarded Chat chunks. The
log already masks secrets (``app.telemetry.logs``); this does the same for what goes to the client, at the one
place every response passes, rather than at each place Azure's text is copied. Masks keep the length, so a
``Content-Length`` stays right. A substring search per chunk per secret: negligible next to the rest.
"""

from __future__ import annotations

from typing import Any

from app.telemetry.logs import scrub_bytes

__all__ = ["Scrubbed"]


class Scrubbed:
    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, _scrubbed_socket(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def scrubbed_send(message: Any) -> None:
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body:
                    message = {**message, "body": scrub_bytes(body)}
            elif message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                message = {**message, "headers": [(k, scrub_bytes(v)) for k, v in headers]}
            await send(message)

        await self.app(scope, receive, scrubbed_send)


def _scrubbed_socket(send: Any) -> Any:
    """WebSocket mode's messages (text events, a refused upgrade's body and headers), scrubbed the same way."""

    async def scrubbed_send(message: Any) -> None:
        kind = message["type"]
        if kind == "websocket.send" and message.get("text"):
            message = {**message, "text": scrub_bytes(message["text"].encode()).decode()}
        elif kind == "websocket.http.response.body" and message.get("body"):
            message = {**message, "body": scrub_bytes(message["body"])}
        elif kind == "websocket.http.response.start":
            message = {**message, "headers": [(k, scrub_bytes(v)) for k, v in message.get("headers") or ()]}
        await send(message)

    return scrubbed_send
