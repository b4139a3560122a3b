"""Decode request bodies into the generated Structs.

Chat Completions bodies decode directly. Responses bodies need one hand-written step that tagged unions
cannot express: the official API lets an input item omit `type`. A bare `{"role", "content"}` is a
message, and an item with only an `id` is an `item_reference`. msgspec needs the tag to pick the Struct,
so for those bodies we decode to builtins, add the missing tag, and convert. (The other gap, three
message variants sharing `type: "message"`, is handled in openapi.yaml by one merged `InputMessage`.)

The fast path decodes straight from bytes; only a body that fails it takes the slow path, which also
produces the error a client sees when the body is wrong for another reason.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.models.generated import CompactResponseRequest, CreateChatCompletionRequest, CreateResponse
from app.wire.errors import invalid_request

_RESPONSES = msgspec.json.Decoder(CreateResponse)
_CHAT = msgspec.json.Decoder(CreateChatCompletionRequest)
_COMPACT = msgspec.json.Decoder(CompactResponseRequest)
_ANY = msgspec.json.Decoder()


def _builtins(body: bytes) -> Any:
    try:
        return _ANY.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid_request(f"The request body is not valid JSON: {exc}.", code="invalid_json") from None


def _add_missing_item_types(payload: Any) -> Any:
    items = payload.get("input") if isinstance(payload, dict) else None
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("type") is None:
                item["type"] = "message" if "role" in item else "item_reference"
    return payload


def decode_create_response(body: bytes) -> CreateResponse:
    try:
        return _RESPONSES.decode(body)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        _builtins(body)  # raises the invalid-JSON error
        raise
    payload = _add_missing_item_types(_builtins(body))
    if not isinstance(payload, dict):
        raise invalid_request("The request body must be a JSON object.", code="invalid_type")
    return msgspec.convert(payload, CreateResponse)


def convert_create_response(payload: dict[str, Any]) -> CreateResponse:
    """A ``CreateResponse`` from already-parsed JSON (a WebSocket ``response.create`` without its ``type``).

    The same rules as ``decode_create_response``: missing item types added, unknown parameters refused.
    """
    return msgspec.convert(_add_missing_item_types(payload), CreateResponse)


def decode_compact_request(body: bytes) -> CompactResponseRequest:
    """The body of ``POST /v1/responses/compact`` (its input items may omit ``type``, as in create)."""
    try:
        return _COMPACT.decode(body)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        _builtins(body)
        raise
    payload = _add_missing_item_types(_builtins(body))
    if not isinstance(payload, dict):
        raise invalid_request("The request body must be a JSON object.", code="invalid_type")
    return msgspec.convert(payload, CompactResponseRequest)


def decode_chat_request(body: bytes) -> CreateChatCompletionRequest:
    try:
        return _CHAT.decode(body)
    except msgspec.ValidationError:
        if not isinstance(_builtins(body), dict):
            raise invalid_request("The request body must be a JSON object.", code="invalid_type") from None
        raise
    except msgspec.DecodeError:
        _builtins(body)
        raise
