"""Bounded work per request body before it is decoded: a streaming pre-scan of the raw bytes.

Why: decoding JSON into Python objects costs far more memory than the bytes (a 30 MiB body of ``{},`` is
10 M dicts, over 2 GB), and the decode is one call the event loop cannot interrupt. So while the body arrives,
chunk by chunk, ``BodyScan`` checks what the decoder would be asked to build - the number of values (array
items and object members), of object keys, and the nesting depth - and that the bytes are UTF-8, and stops at
the first limit crossed. What reaches msgspec is then small in structure (memory a small multiple of the
body's size) and valid text.

The scan never builds anything: per chunk it removes the string literals with one regex (carrying a string
that spans chunks), counts structural characters with ``bytes.count``, and walks brackets one by one only in
the rare chunk that could reach the depth limit. It is not a JSON validator; msgspec stays the judge of the
syntax, and the counts are upper bounds (a bad body can only be refused earlier, never let through).
"""

from __future__ import annotations

import codecs
import re
from typing import Final

import msgspec

from app.wire.errors import GatewayError, invalid_request

__all__ = ["BodyLimits", "BodyScan", "lone_surrogate"]

# A complete string literal, escapes included (the "unrolled loop" form: linear, no backtracking).
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# The rest of a string that began in an earlier chunk: up to (not including) its closing quote.
_STRING_REST: Final = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
_BRACKETS: Final = b"[]{}"
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in _BRACKETS)
# Slices a large chunk is cut into, so no single regex or count call holds the interpreter for long.
_SLICE: Final = 256 * 1024


class BodyLimits(msgspec.Struct, frozen=True):
    max_values: int
    max_keys: int
    max_depth: int


class BodyScan:
    """Feed the body's chunks in order; ``feed`` raises a ``GatewayError`` at the first limit crossed."""

    def __init__(self, limits: BodyLimits) -> None:
        self.limits = limits
        self.values = 1  # the root
        self.keys = 0
        self.depth = 0
        self.size = 0
        self._in_string = False
        self._escaped = False  # the previous chunk ended in a string, right after a lone backslash
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, chunk: bytes) -> None:
        for start in range(0, len(chunk), _SLICE):
            self._feed(chunk[start : start + _SLICE])

    def finish(self) -> None:
        """After the last chunk: a body cut inside a multi-byte character is not UTF-8 either."""
        self._check_utf8(b"", final=True)

    def _feed(self, chunk: bytes) -> None:
        self._check_utf8(chunk)
        self.size += len(chunk)
        pos = 0
        if self._in_string:
            if self._escaped:
                pos, self._escaped = 1, False
            match = _STRING_REST.match(chunk, pos)
            assert match is not None  # the pattern matches the empty string
            end = match.end()
            if end == len(chunk):
                return  # the whole chunk is inside the string
            if chunk[end : end + 1] == b"\\":  # a backslash as the chunk's last byte: escapes the next one
                self._escaped = True
                return
            pos, self._in_string = end + 1, False  # past the closing quote
        outside = _STRING.sub(b"", chunk[pos:] if pos else chunk)
        open_quote = outside.find(b'"')
        if open_quote >= 0:
            # A string that does not end in this chunk; what follows its quote is its text (removing the
            # complete strings cannot have touched it: any later match would have closed this one).
            tail = outside[open_quote + 1 :]
            self._in_string = True
            self._escaped = (len(tail) - len(tail.rstrip(b"\\"))) % 2 == 1
            outside = outside[:open_quote]
        self._count(outside)

    def _count(self, structural: bytes) -> None:
        opens = structural.count(b"{") + structural.count(b"[")
        self.values += structural.count(b",") + opens
        self.keys += structural.count(b":")
        limits = self.limits
        if self.values > limits.max_values:
            raise _too_many("values (array items and object members)", limits.max_values, "max_json_values")
        if self.keys > limits.max_keys:
            raise _too_many("object keys", limits.max_keys, "max_json_keys")
        if self.depth + opens <= limits.max_depth:
            self.depth += opens - structural.count(b"}") - structural.count(b"]")
            return
        depth = self.depth  # could cross the limit inside this chunk: walk its brackets
        for byte in structural.translate(None, _NOT_BRACKETS):
            if byte in (0x5B, 0x7B):  # [ {
                depth += 1
                if depth > limits.max_depth:
                    raise invalid_request(
                        f"The request body is nested more than {limits.max_depth} levels deep: the gateway's "
                        f"limit is max_json_depth = {limits.max_depth}.",
                        code="json_too_deep",
                    )
            else:
                depth -= 1
        self.depth = depth

    def _check_utf8(self, chunk: bytes, *, final: bool = False) -> None:
        try:
            self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # The decoder's input is this chunk plus the few bytes of a character split across chunks.
            carried = exc.object[: len(exc.object) - len(chunk)] if not final else exc.object
            offset = self.size - len(carried) + exc.start
            bad = exc.object[exc.start : exc.end].hex(" ")
            raise invalid_request(
                f"The request body is not valid UTF-8: {exc.reason} (byte {bad} at offset {offset}). "
                "JSON text must be UTF-8.",
                code="invalid_json",
            ) from None


def _too_many(what: str, limit: int, setting: str) -> GatewayError:
    return GatewayError(
        413,
        f"The request body has more than {limit} JSON {what}: the gateway's limit is {setting} = {limit}.",
        code="request_too_large",
    )


# A \uXXXX escape of a UTF-16 surrogate, with the run of backslashes before it (an even run means the
# backslash of "\u" is itself an escape's, i.e. not an escape at all).
_SURROGATE_ESCAPE: Final = re.compile(rb"(\\*)\\u(d[89a-f][0-9a-f]{2})", re.IGNORECASE)


def lone_surrogate(body: bytes) -> str | None:
    """The first ``\\uD800``-``\\uDFFF`` escape in ``body`` that is not half of a valid pair, else None.

    msgspec reports such an escape as "Input data was truncated"; this finds what to say instead. Only run on
    a body msgspec already refused.
    """
    pending_high: str | None = None
    pending_end = -1
    for match in _SURROGATE_ESCAPE.finditer(body):
        if len(match.group(1)) % 2:
            continue  # "\\uD800": an escaped backslash followed by the letters u, D, 8...
        text = "\\u" + match.group(2).decode("ascii")
        is_low = int(match.group(2), 16) >= 0xDC00
        if is_low and pending_high is not None and match.start() + len(match.group(1)) == pending_end:
            pending_high = None  # the low half right after its high half: a valid pair
        elif pending_high is not None:
            return pending_high
        elif is_low:
            return text
        else:
            pending_high, pending_end = text, match.end()
    return pending_high
