"""Items as the store keeps them: the client's input items with ids, and the output items, as JSON.

A stored item is an ``ItemResource`` (what the list routes return) whose JSON is also a valid input item,
so a chain or a conversation is replayed by decoding its items as ``InputItem``s: no second format, no
conversion on the read path. Input items get the id and status OpenAI gives them when they lack one, and
text content given as a string becomes one text part (the shape the list routes show).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec.structs import replace

from app.models import generated as m
from app.store import Item, ItemPage
from app.translate.response import new_id

_ENCODER = msgspec.json.Encoder()
_INPUT_ITEMS = msgspec.json.Decoder(list[m.InputItem])
_ITEM = msgspec.json.Decoder(m.ItemResource)
_ITEMS = msgspec.json.Decoder(list[m.ItemResource])

# Id prefixes OpenAI uses for each kind of item.
_PREFIX = {m.InputMessage: "msg", m.FunctionCallItem: "fc", m.FunctionCallOutputItem: "fco", m.ReasoningInputItem: "rs"}


def input_list(request_input: str | list[m.InputItem] | Any) -> list[m.InputItem]:
    """A create's ``input`` as items: text is one user message."""
    if isinstance(request_input, str):
        return [m.InputMessage(role="user", content=request_input)]
    return list(request_input) if isinstance(request_input, list) else []


def with_ids(items: Sequence[m.InputItem]) -> list[m.InputItem]:
    """Copies of the items with an id and a status each (the originals are left as the client sent them).

    Item kinds the translator refuses (hosted tools, item references) are returned unchanged: the request
    fails before anything is stored.
    """
    out: list[m.InputItem] = []
    for item in items:
        prefix = _PREFIX.get(type(item))
        if prefix is None:
            out.append(item)
            continue
        changes: dict[str, Any] = {}
        if not isinstance(getattr(item, "id", None), str):
            changes["id"] = new_id(prefix)
        if not isinstance(item, m.ReasoningInputItem) and not isinstance(getattr(item, "status", None), str):
            changes["status"] = "completed"
        if isinstance(item, m.InputMessage) and isinstance(item.content, str):
            part: m.InputMessageContent = (
                m.OutputTextContent(text=item.content, annotations=[])
                if item.role == "assistant"
                else m.InputTextContent(text=item.content)
            )
            changes["content"] = [part]
        out.append(replace(item, **changes) if changes else item)
    return out


def stored(items: Sequence[m.InputItem | m.OutputItem]) -> list[Item]:
    """Items to store: (id, JSON). Only items that carry an id (``with_ids`` gave every storable one)."""
    out = []
    for item in items:
        ident = getattr(item, "id", None)
        if isinstance(ident, str):
            out.append(Item(ident, _ENCODER.encode(item)))
    return out


def replay(bodies: Sequence[bytes]) -> list[m.InputItem]:
    """Stored items as input items again, decoded in one pass."""
    if not bodies:
        return []
    return _INPUT_ITEMS.decode(b"[" + b",".join(bodies) + b"]")


def resource(body: bytes) -> m.ItemResource:
    return _ITEM.decode(body)


def resources(items: Sequence[Item]) -> list[m.ItemResource]:
    if not items:
        return []
    return _ITEMS.decode(b"[" + b",".join(item.body for item in items) + b"]")


def page_fields(page: ItemPage) -> dict[str, Any]:
    """The members every item list has: object, data, has_more, first_id, last_id."""
    data = resources(page.items)
    return {
        "object": "list",
        "data": data,
        "has_more": page.has_more,
        "first_id": page.items[0].id if page.items else None,
        "last_id": page.items[-1].id if page.items else None,
    }
