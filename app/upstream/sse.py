"""Server-sent events parsed from raw bytes as they arrive: pure, no I/O."""

from __future__ import annotations


class SSEParser:
    """Feed it the body's bytes in any pieces; it returns the ``data`` of each event that completed, in order.

    LF or CRLF line ends; multi-line data joined with LF; other fields and comments ignored. All the events one
    network read completed come back together, so the caller can answer with one write per read.
    """

    __slots__ = ("_buffer", "_data")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []

    def feed(self, raw: bytes) -> list[bytes]:
        self._buffer += raw
        *lines, self._buffer = self._buffer.split(b"\n")
        batch: list[bytes] = []
        data = self._data
        for line in lines:
            line = line.removesuffix(b"\r")
            if not line:
                if data:
                    batch.append(b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
        return batch

    def close(self) -> list[bytes]:
        """The body ended: an event that was not closed by a blank line still counts."""
        line = self._buffer.removesuffix(b"\r")
        self._buffer = b""
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        if not self._data:
            return []
        event = [b"\n".join(self._data)]
        self._data.clear()
        return event
