"""Decoding ``POST /_emulator/script``: every kind of scripted action, listed in one place.

One table that imports each kind, instead of kinds registering themselves into a list on import (which made
``actions`` and ``faults`` import each other and the table depend on import order).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from app.emulator.actions import Action, GeneratedReply, ScriptedReply, ScriptedResponse, ScriptError
from app.emulator.faults import Fault

__all__ = ["ACTION_KINDS", "parse_action"]

# The key that identifies each kind of scripted action, checked in order.
ACTION_KINDS: Final[tuple[tuple[str, type[Action]], ...]] = (
    ("status", ScriptedResponse),
    ("message", ScriptedReply),
    ("auto", GeneratedReply),
    ("fault", Fault),
)


def parse_action(raw: Any, index: int = 0) -> Action:
    """Decode one entry of ``{"replies": [...]}`` into an :class:`Action`."""
    if not isinstance(raw, dict):
        raise ScriptError(f"replies[{index}]: expected an object")
    for key, kind in ACTION_KINDS:
        if key in raw:
            try:
                return msgspec.convert(raw, kind)
            except msgspec.ValidationError as exc:
                raise ScriptError(f"replies[{index}]: {exc}") from exc
    keys = ", ".join(repr(k) for k, _ in ACTION_KINDS)
    raise ScriptError(f"replies[{index}]: needs one of the keys {keys}")
