"""Where the fuzzers must allow the gateway's documented deviation from the schema.

openapi.yaml's description says it: an input item may omit ``type`` (a bare ``{"role", "content"}`` is a
message), as OpenAI allows and the Agents SDK relies on; the schema cannot say so without losing the tagged
union the Structs are generated from. Schemathesis' negative cases that only drop an item's ``type`` are
therefore accepted on purpose, and ``negative_data_rejection`` does not apply to them.
"""

from __future__ import annotations

from typing import Any


def omits_item_type(path: str, body: Any) -> bool:
    fields = body if isinstance(body, dict) else {}
    items = fields.get("items") if path.startswith("/v1/conversations") else fields.get("input")
    return isinstance(items, list) and any(isinstance(item, dict) and "type" not in item for item in items)
