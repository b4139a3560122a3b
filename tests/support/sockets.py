"""A raw WebSocket client for WebSocket mode tests: what the SDK would hide (error events, refusals)."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection

TERMINAL = {"response.completed", "response.incomplete", "response.failed"}


def ws_url(base_url: str, path: str = "/v1/responses") -> str:
    return base_url.replace("http://", "ws://", 1) + path


def receive_turn(socket: ClientConnection, timeout: float = 30) -> list[dict[str, Any]]:
    """Messages up to and including the turn's last one (a terminal event or an ``error``)."""
    events: list[dict[str, Any]] = []
    while True:
        raw = socket.recv(timeout=timeout)
        assert isinstance(raw, str), "every server message is a JSON text message"
        event = json.loads(raw)
        events.append(event)
        if event["type"] in TERMINAL or event["type"] == "error":
            return events


def turn(socket: ClientConnection, **body: Any) -> list[dict[str, Any]]:
    """Send one ``response.create`` with ``body`` and return the messages that answer it."""
    socket.send(json.dumps({"type": "response.create", **body}))
    return receive_turn(socket)


def error_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The turn was one ``error`` event in WebSocket mode's shape; return its ``error`` object."""
    assert [e["type"] for e in events] == ["error"], [e["type"] for e in events]
    event = events[0]
    assert set(event) == {"type", "status", "error"}, event
    assert set(event["error"]) == {"message", "type", "param", "code"}, event
    assert isinstance(event["error"]["code"], str) and event["error"]["message"]
    return dict(event["error"], status=event["status"])
