"""Decode request bodies into the generated Structs.

Chat Completions bodies decode directly. Responses bodies need one hand-written step that tagged unions
cannot express: the official API lets an input item omit `type`. A bare `{"role", "content"}` is a
message, and an item with only an `id` is an `item_reference`. msgspec needs the tag to pick the Struct,
so for those bodies we decode to builtins, add the missing tag, and convert (a bare `{"call_id", "output"}`
is a `function_call_output`, as NeMo Gym sends it). (The other gap, three
message variants sharing `type: "message"`, is handled in openapi.yaml by one merged `InputMessage`.)

The fast path decodes straight from bytes; only a body that fails it takes the slow path, which also
produces the error a client sees when the body is wrong for another reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from app.models.generated import (
    CompactResponseRequest,
    CreateChatCompletionRequest,
    CreateConversationBody,
    CreateConversationItemsBody,
    CreateResponse,
    UpdateConversationBody,
)
from app.wire.errors import GatewayError, invalid_request
from app.wire.limits import lone_surrogate

_CHAT = msgspec.json.Decoder(CreateChatCompletionRequest)
_ANY = msgspec.json.Decoder()
T = TypeVar("T")


def _not_json(body: bytes, exc: Exception) -> GatewayError:
    if isinstance(exc, UnicodeDecodeError):
        # Normally caught earlier, while the body is read (app.wire.limits); this is the decoder's own word.
        return invalid_request(
            f"The request body is not valid UTF-8 ({exc.reason}); JSON text must be UTF-8.", code="invalid_json"
        )
    if "truncated" in str(exc) and (escape := lone_surrogate(body)):
        # msgspec calls an unpaired surrogate escape "truncated input"; say what is wrong instead.
        return invalid_request(
            f"The request body is not valid JSON: the escape {escape} is half of a UTF-16 surrogate pair "
            "without its other half (\\uD800-\\uDBFF must be followed by \\uDC00-\\uDFFF).",
            code="invalid_json",
        )
    return invalid_request(f"The request body is not valid JSON: {exc}.", code="invalid_json")


def _builtins(body: bytes) -> Any:
    try:
        return _ANY.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _not_json(body, exc) from None


def _add_missing_item_types(items: Any, *, null_is_missing: bool) -> None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and (item.get("type") is None if null_is_missing else "type" not in item):
                item["type"] = _implied_type(item)


def _implied_type(item: dict[str, Any]) -> str:
    """A typeless item's type: a message by its `role`, a tool output by `call_id` + `output` (NeMo Gym's
    agent loop replays `{"call_id", "output"}`), else a reference by `id`."""
    if "role" in item:
        return "message"
    if "call_id" in item and "output" in item:
        return "function_call_output"
    return "item_reference"


def _items_decoder(model: type[T], key: str, *, null_is_missing: bool = False) -> Callable[[bytes], T]:
    """A decoder for bodies whose ``key`` holds input items (which may omit ``type``).

    ``null_is_missing``: ``"type": null`` counts as omitted (what ``/v1/responses`` has always accepted).
    """
    fast = msgspec.json.Decoder(model)

    def decode(body: bytes) -> T:
        try:
            return fast.decode(body)
        except msgspec.ValidationError:
            pass
        except (msgspec.DecodeError, UnicodeDecodeError):
            _builtins(body)  # raises the invalid-JSON error
            raise
        payload = _builtins(body)
        if not isinstance(payload, dict):
            raise invalid_request("The request body must be a JSON object.", code="invalid_type")
        _add_missing_item_types(payload.get(key), null_is_missing=null_is_missing)
        return msgspec.convert(payload, model)

    return decode


decode_create_response = _items_decoder(CreateResponse, "input", null_is_missing=True)
decode_create_conversation = _items_decoder(CreateConversationBody, "items")
decode_conversation_items = _items_decoder(CreateConversationItemsBody, "items")
decode_update_conversation = _items_decoder(UpdateConversationBody, "items")
# POST /v1/responses/compact: its input items may omit `type`, as in create (a new route: `"type": null` is an error).
decode_compact_request = _items_decoder(CompactResponseRequest, "input")


def convert_create_response(payload: dict[str, Any]) -> CreateResponse:
    """A ``CreateResponse`` from already-parsed JSON (a WebSocket ``response.create`` without its ``type``).

    The same rules as ``decode_create_response``: missing item types added, unknown parameters refused.
    """
    _add_missing_item_types(payload.get("input"), null_is_missing=True)
    return msgspec.convert(payload, CreateResponse)


def decode_chat_request(body: bytes) -> CreateChatCompletionRequest:
    try:
        return _CHAT.decode(body)
    except msgspec.ValidationError:
        if not isinstance(_builtins(body), dict):
            raise invalid_request("The request body must be a JSON object.", code="invalid_type") from None
        raise
    except (msgspec.DecodeError, UnicodeDecodeError):
        _builtins(body)
        raise
