"""The upstream SSE parser gives the same events however the body is cut into network reads."""

from __future__ import annotations

from app.upstream.sse import SSEParser

BODY = b'data: {"a":1}\r\n\r\n: comment\nevent: x\ndata: line1\ndata: line2\n\ndata:{"b":2}\n\ndata: [DONE]'
EVENTS = [b'{"a":1}', b"line1\nline2", b'{"b":2}', b"[DONE]"]


def _parse(pieces: list[bytes]) -> list[bytes]:
    parser = SSEParser()
    out: list[bytes] = []
    for piece in pieces:
        out += parser.feed(piece)
    return out + parser.close()


def test_every_split_of_the_body_gives_the_same_events() -> None:
    assert _parse([BODY]) == EVENTS
    for cut in range(1, len(BODY)):
        assert _parse([BODY[:cut], BODY[cut:]]) == EVENTS, cut
    assert _parse([bytes([byte]) for byte in BODY]) == EVENTS


def test_one_read_with_several_events_returns_them_together() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: 1\n\ndata: 2\n\ndata: 3") == [b"1", b"2"]
    assert parser.close() == [b"3"]
    assert parser.close() == []
