"""Generate a value that is valid under a JSON schema, preferring words taken from the conversation.

Used for tool-call arguments and for ``response_format: json_schema`` output. A real model fills
``{"city": ...}`` from the user's sentence; so do we where a simple rule can (a capitalised word for a
location-like property, numbers from the message for numeric properties, an enum value the user mentioned),
and otherwise a placeholder that still satisfies the schema's constraints. Deterministic: the same schema
and conversation always give the same value, which keeps test assertions exact.

Covers the subset tool schemas use in practice: object/required/properties, string (enum, const, format,
min/maxLength, pattern when an easy candidate fits), number/integer (bounds, multipleOf), boolean, null,
array (items, min/maxItems, uniqueItems), nested objects, ``$ref`` into ``$defs``/``definitions``,
``anyOf``/``oneOf`` (first branch), ``allOf`` (merged), type lists and ``nullable``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["SampleContext", "sample"]

_LOCATION_HINTS: Final = ("city", "location", "place", "town", "country", "region", "destination", "where")
_SYMBOL_HINTS: Final = ("ticker", "symbol", "code", "currency")
_FREE_TEXT_HINTS: Final = ("query", "question", "prompt", "text", "input", "message", "search", "topic")
_FORMATS: Final = {
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}
_MAX_DEPTH: Final = 12


@dataclass
class SampleContext:
    """What the generator may borrow from the conversation.

    ``proper_nouns`` (best first) feeds location-like properties, ``acronyms`` ticker/symbol/code-like
    ones, ``numbers`` is consumed in order by numeric properties
    (so "add 2 and 3" fills ``a=2, b=3``), ``free_text`` fills query-like properties, ``default_text`` any
    other string, and ``words`` lets an enum pick the value the user mentioned.
    """

    proper_nouns: list[str] = field(default_factory=list)
    acronyms: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    free_text: str = ""
    default_text: str = "example"
    words: frozenset[str] = frozenset()
    _next_number: int = 0

    def take_number(self, ok: Any) -> float | None:
        while self._next_number < len(self.numbers):
            value = self.numbers[self._next_number]
            self._next_number += 1
            if ok(value):
                return value
        return None


def sample(schema: Any, ctx: SampleContext | None = None) -> Any:
    """A value valid under ``schema`` (a JSON-schema dict; ``{}``/``True`` allow anything)."""
    return _Gen(schema if isinstance(schema, dict) else {}, ctx or SampleContext()).value(schema, "", 0)


class _Gen:
    def __init__(self, root: dict[str, Any], ctx: SampleContext) -> None:
        self.root = root
        self.ctx = ctx

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < _MAX_DEPTH:
            ref = schema["$ref"]
            target: Any = self.root
            if isinstance(ref, str) and ref.startswith("#"):
                for part in [p for p in ref[1:].split("/") if p]:
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part, {}) if isinstance(target, dict) else {}
            else:
                target = {}
            # Sibling keywords next to $ref (allowed since 2019-09) are merged over the target.
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if isinstance(target, dict) else rest
            seen += 1
        if not isinstance(schema, dict):
            return {}
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                sub = self.resolve(part)
                props = {**merged.get("properties", {}), **sub.get("properties", {})}
                required = [*merged.get("required", []), *sub.get("required", [])]
                merged = {**merged, **sub, "properties": props, "required": list(dict.fromkeys(required))}
            schema = merged
        return schema

    def value(self, raw: Any, name: str, depth: int) -> Any:
        schema = self.resolve(raw)
        if depth > _MAX_DEPTH:
            return None
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.enum(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                # Prefer a non-null branch: `anyOf: [X, null]` is how strict mode spells optional.
                non_null = [o for o in options if self.resolve(o).get("type") != "null"] or options
                base = {k: v for k, v in schema.items() if k not in (key,)}
                return self.value({**base, **self.resolve(non_null[0])}, name, depth + 1)
        kind = self.kind(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "string":
            return self.string(schema, name)
        if kind == "integer":
            return int(self.number(schema, integer=True))
        if kind == "number":
            return self.number(schema, integer=False)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.ctx.default_text  # untyped schema accepts anything

    def kind(self, schema: dict[str, Any]) -> str | None:
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            kind = non_null[0] if non_null else "null"
        if kind is None:
            if "properties" in schema:
                return "object"
            if "items" in schema:
                return "array"
        return kind if isinstance(kind, str) else None

    def enum(self, options: list[Any]) -> Any:
        for option in options:
            if isinstance(option, str) and option.lower() in self.ctx.words:
                return option
        return options[0]

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        # All declared properties, not only the required ones: a fuller object is more useful to the
        # caller and still valid (declared properties are never "additional").
        out = {key: self.value(sub, key, depth + 1) for key, sub in properties.items()}
        for key in schema.get("required") or []:
            if key not in out:
                out[key] = self.ctx.default_text
        minimum = schema.get("minProperties")
        extra = schema.get("additionalProperties", True)
        index = 0
        while isinstance(minimum, int) and len(out) < minimum and extra is not False:
            out[f"key{index}"] = self.value(extra if isinstance(extra, dict) else {}, "", depth + 1)
            index += 1
        return out

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("items", {})
        low = schema.get("minItems", 1)
        high = schema.get("maxItems")
        count = max(low, 1) if items is not False else 0
        if isinstance(high, int):
            count = min(count, high)
        out = [self.value(items, name, depth + 1) for _ in range(count)]
        if schema.get("uniqueItems"):
            out = [self.distinct(v, i) for i, v in enumerate(out)]
        return out

    @staticmethod
    def distinct(value: Any, index: int) -> Any:
        if index == 0:
            return value
        if isinstance(value, bool):
            return not value if index == 1 else value
        if isinstance(value, int | float):
            return value + index
        if isinstance(value, str):
            return f"{value}{index}"
        return value

    def string(self, schema: dict[str, Any], name: str) -> str:
        lowered = name.lower()
        candidates: list[str] = []
        if any(hint in lowered for hint in _LOCATION_HINTS) and self.ctx.proper_nouns:
            candidates.append(self.ctx.proper_nouns[0])
        if any(hint in lowered for hint in _SYMBOL_HINTS) and self.ctx.acronyms:
            candidates.append(self.ctx.acronyms[0])
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            candidates.append(_FORMATS[fmt])
        if any(hint in lowered for hint in _FREE_TEXT_HINTS) and self.ctx.free_text:
            candidates.append(self.ctx.free_text)
        candidates += [self.ctx.default_text, "example", "a", "A1", "0"]
        pattern = schema.get("pattern")
        for candidate in candidates:
            text = self.fit_length(candidate, schema)
            if not isinstance(pattern, str) or _matches(pattern, text):
                return text
        return self.fit_length(candidates[0], schema)

    @staticmethod
    def fit_length(text: str, schema: dict[str, Any]) -> str:
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        if isinstance(low, int) and len(text) < low:
            text = text + "x" * (low - len(text))
        return text

    def number(self, schema: dict[str, Any], integer: bool) -> float:
        low = schema.get("minimum")
        high = schema.get("maximum")
        ex_low = schema.get("exclusiveMinimum")
        ex_high = schema.get("exclusiveMaximum")
        step = schema.get("multipleOf")

        def ok(v: float) -> bool:
            if integer and v != int(v):
                return False
            if (low is not None and v < low) or (high is not None and v > high):
                return False
            if (ex_low is not None and v <= ex_low) or (ex_high is not None and v >= ex_high):
                return False
            return not (step and not math.isclose(v / step, round(v / step)))

        taken = self.ctx.take_number(ok)
        if taken is not None:
            return int(taken) if integer else taken
        # Otherwise 1, moved inside the bounds, then rounded up to multipleOf / to an integer.
        value: float = 1
        if low is not None and value < low:
            value = low
        if ex_low is not None and value <= ex_low:
            value = math.floor(ex_low) + 1 if integer else ex_low + 1
        if high is not None and value > high:
            value = high
        if ex_high is not None and value >= ex_high:
            floor = ex_low if ex_low is not None else (low if low is not None else ex_high - 2)
            value = math.ceil(ex_high) - 1 if integer else (floor + ex_high) / 2
        if step:
            value = math.ceil(value / step) * step
        if integer:
            value = math.ceil(value)
        return value


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True
