"""The Open Responses compliance suite's WebSocket and compaction tests, reproduced (reads ../shared).

Each test sends what the suite's test of the same id sends (shared/reference/open_responses_compliance.md,
"Version D") and checks what it checks, with the published Open Responses schemas
(shared/specs/openresponses-openapi.json) in place of the suite's zod ones: every WebSocket message is a
streaming event or a ``WebSocketErrorEvent``, each request is a valid ``WebSocketResponseCreateEvent``, the
final response is a ``ResponseResource`` and ``completed``, a compaction is a ``CompactResource``. The suite
itself (bun, from its public repository) is run by hand; see the README.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import httpx
import jsonschema
import pytest
from support.sockets import TERMINAL, ws_url
from support.stream_validator import OPEN_RESPONSES_SPEC, open_responses_validators
from support.translation_harness import NEEDS_SHARED
from websockets.sync.client import ClientConnection, connect

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not OPEN_RESPONSES_SPEC.exists(), reason=NEEDS_SHARED),
    pytest.mark.usefixtures("clean_emulator"),
]


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    document = json.loads(OPEN_RESPONSES_SPEC.read_text())
    schema = document["components"]["schemas"][name]
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def _valid(name: str, value: Any) -> None:
    errors = sorted(_validator(name).iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}: {'/'.join(map(str, errors[0].absolute_path))}: {errors[0].message[:300]}"


def _turn(socket: ClientConnection, body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One turn as the suite runs it: the request checked first, every message validated, 30 s at most."""
    message = {"type": "response.create", **body}
    _valid("WebSocketResponseCreateEvent", message)
    socket.send(json.dumps(message))
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while True:
        event = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        events.append(event)
        if event["type"] == "error" and "sequence_number" not in event:
            _valid("WebSocketErrorEvent", event)
        else:
            validator = open_responses_validators().get(event["type"])
            assert validator is not None, f"not an Open Responses streaming event: {event['type']}"
            validator.validate(event)
        if event["type"] in TERMINAL:
            return events, event["response"]
        if event["type"] == "error":
            return events, None


def _completed(final: dict[str, Any] | None) -> dict[str, Any]:
    assert final is not None, "no terminal event"
    _valid("ResponseResource", final)
    assert final["status"] == "completed"
    return final


def _error_code(events: list[dict[str, Any]], final: dict[str, Any] | None) -> str | None:
    if final is not None:
        return (final.get("error") or {}).get("code")
    return events[-1]["error"]["code"]


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def test_websocket_response(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        events, final = _turn(socket, {"model": "m", "input": [_user("Count from 1 to 3.")]})
    assert events
    _completed(final)


def test_websocket_sequential_responses(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        for word in ("first", "second"):
            _, final = _turn(socket, {"model": "m", "store": False, "input": f"Reply with exactly: {word}"})
            _completed(final)


def test_websocket_continuation(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as socket:
        _, first = _turn(socket, {"model": "m", "store": False, "input": "Remember the code word: cobalt. Reply OK."})
        previous = _completed(first)["id"]
        _, second = _turn(
            socket,
            {"model": "m", "store": False, "previous_response_id": previous, "input": "What is the code word?"},
        )
        _completed(second)


def test_websocket_reconnect_store_false_recovery(gateway_url: str) -> None:
    with connect(ws_url(gateway_url)) as first:
        _, made = _turn(first, {"model": "m", "store": False, "input": "Remember the word copper. Reply OK."})
        previous = _completed(made)["id"]
    with connect(ws_url(gateway_url)) as second:
        events, final = _turn(
            second,
            {"model": "m", "store": False, "previous_response_id": previous, "input": "Reply with: reconnected"},
        )
        assert _error_code(events, final) == "previous_response_not_found"
        _, recovered = _turn(second, {"model": "m", "store": False, "input": [_user("Reply with: recovered")]})
        _completed(recovered)


def test_websocket_previous_response_not_found(gateway_url: str) -> None:
    missing = f"resp_openresponses_missing_{int(time.time() * 1000)}"
    with connect(ws_url(gateway_url)) as socket:
        events, final = _turn(
            socket, {"model": "m", "store": False, "previous_response_id": missing, "input": "This should fail."}
        )
    assert _error_code(events, final) == "previous_response_not_found"


def test_websocket_failed_continuation_evicts_cache(gateway_url: str) -> None:
    orphan = {
        "type": "function_call_output",
        "call_id": "call_openresponses_missing",
        "output": "No matching tool call exists in the previous response.",
    }
    with connect(ws_url(gateway_url)) as socket:
        _, first = _turn(socket, {"model": "m", "store": False, "input": "Remember the word ember. Reply OK."})
        previous = _completed(first)["id"]
        events, failed = _turn(
            socket, {"model": "m", "store": False, "previous_response_id": previous, "input": [orphan]}
        )
        assert failed is None or failed["status"] == "failed"
        assert _error_code(events, failed) is not None
        events, final = _turn(
            socket, {"model": "m", "store": False, "previous_response_id": previous, "input": "Word?"}
        )
        assert _error_code(events, final) == "previous_response_not_found"


COMPACT_INPUT = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Remember the word: slate."}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "OK."}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Compress this conversation."}]},
]


def test_websocket_compact_new_chain(gateway_url: str) -> None:
    compact = httpx.post(f"{gateway_url}/v1/responses/compact", json={"model": "m", "input": COMPACT_INPUT})
    assert compact.is_success and isinstance(compact.json()["output"], list)
    window = [*compact.json()["output"], _user("Continue from here. Reply with exactly: compacted")]
    with connect(ws_url(gateway_url)) as socket:
        _, final = _turn(socket, {"model": "m", "store": False, "input": window, "tools": []})
    _completed(final)


def test_compact_response(gateway_url: str) -> None:
    body = {
        "model": "m",
        "prompt_cache_key": "openresponses-compact-test",
        "input": [
            _user("We agreed to launch on Tuesday and notify support first."),
            {"type": "message", "role": "assistant", "content": "Understood. Tuesday, support notified first."},
        ],
    }
    reply = httpx.post(f"{gateway_url}/v1/responses/compact", json=body)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    compacted = reply.json()
    _valid("CompactResource", compacted)
    assert compacted["object"] == "response.compaction" and compacted["output"]
    assert any(item["type"] == "compaction" for item in compacted["output"])


def test_compact_missing_model(gateway_url: str) -> None:
    reply = httpx.post(f"{gateway_url}/v1/responses/compact", json={"input": [_user("Compact this conversation.")]})
    assert reply.status_code in (400, 422)
