"""`<think>…</think>` in streamed text: the reasoning of models that inline it (`reasoning_parser = "think_tags"`)."""

from __future__ import annotations

_OPEN_TAG, _CLOSE_TAG = "<think>", "</think>"


class ThinkSplitter:
    """Splits streamed text on `<think>`/`</think>`, holding back a possible partial tag.

    `feed` returns `(True, text)` for reasoning, `(False, text)` for answer text and `(None, "")` at
    each `</think>` (so the next block starts a new summary part, as in the JSON route).
    """

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""
        self.new_part = True

    def feed(self, text: str) -> list[tuple[bool | None, str]]:
        out: list[tuple[bool | None, str]] = []
        buffer, self.pending = self.pending + text, ""
        while buffer:
            tag = _CLOSE_TAG if self.inside else _OPEN_TAG
            at = buffer.find(tag)
            if at >= 0:
                if at:
                    out.append((self.inside, buffer[:at]))
                buffer = buffer[at + len(tag) :]
                if self.inside:
                    out.append((None, ""))
                self.inside = not self.inside
                continue
            # The longest end of the buffer that could be the start of the tag waits for the next chunk.
            longest = min(len(tag) - 1, len(buffer))
            keep = next((k for k in range(longest, 0, -1) if tag.startswith(buffer[-k:])), 0)
            if len(buffer) > keep:
                out.append((self.inside, buffer[: len(buffer) - keep]))
            self.pending = buffer[len(buffer) - keep :]
            break
        return out
