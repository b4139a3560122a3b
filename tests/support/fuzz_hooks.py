"""Schemathesis hooks shared by the contract tests that generate requests from openapi.yaml."""

from __future__ import annotations

import schemathesis


def untyped_items_left_out(schema: schemathesis.BaseSchema) -> None:
    """Leave out cases with an input item whose ``type`` is missing or null: the gateway accepts them on purpose.

    openapi.yaml's one documented deviation (the official API's too): an item without ``type`` is a message
    when it has a ``role`` (``app.wire.decode``). Its schema cannot say so (the tag picks the Struct), so for
    schemathesis such a body is negative data the gateway should have refused.
    """

    @schema.hook
    def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
        items = case.body.get("input") if isinstance(case.body, dict) else None
        return not (isinstance(items, list) and any(isinstance(i, dict) and i.get("type") is None for i in items))
