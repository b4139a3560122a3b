"""The streaming pre-scan (app.wire.limits): exact where it must be, whatever the chunk boundaries."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from app.wire.errors import GatewayError
from app.wire.limits import BodyLimits, BodyScan, lone_surrogate

LOOSE = BodyLimits(max_values=10**9, max_keys=10**9, max_depth=500)
NASTY = ['a"b', "c\\d", "\\", '\\"', "{[,:]}", "ü€😀", '"', ",,::", "\\\\\\", ""]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 6 else 3)
    if kind == 0:
        return rng.choice(NASTY) + rng.choice(NASTY)
    if kind == 1:
        return rng.choice([0, -1.5, True, None, 123456])
    if kind == 2:
        return rng.choice(NASTY)
    if kind in (3, 4):
        return {rng.choice(NASTY) + str(i): random_json(rng, depth + 1) for i in range(rng.randrange(4))}
    return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def truth(value: Any, depth: int = 0) -> tuple[int, int, int]:
    """(keys, containers, max depth) of a decoded document."""
    if isinstance(value, dict):
        counts = [truth(v, depth + 1) for v in value.values()]
        return (len(value) + sum(c[0] for c in counts), 1 + sum(c[1] for c in counts),
                max([depth + 1, *(c[2] for c in counts)]))
    if isinstance(value, list):
        counts = [truth(v, depth + 1) for v in value]
        return (sum(c[0] for c in counts), 1 + sum(c[1] for c in counts), max([depth + 1, *(c[2] for c in counts)]))
    return (0, 0, depth)


def scan(body: bytes, cuts: list[int], limits: BodyLimits = LOOSE) -> BodyScan:
    s = BodyScan(limits)
    last = 0
    for cut in [*cuts, len(body)]:
        s.feed(body[last:cut])
        last = cut
    s.finish()
    return s


def test_keys_are_counted_exactly_and_depth_tracked_over_any_split() -> None:
    rng = random.Random(13)
    for _ in range(300):
        doc = random_json(rng)
        body = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        keys, containers, depth = truth(doc)
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body), rng.randrange(1, 8))))
        result = scan(body, cuts)
        assert result.keys == keys, (body, cuts)
        assert result.values >= max(keys, containers) and result.depth == 0
        # depth: exactly at the limit passes, one below it fails
        if depth:
            scan(body, cuts, BodyLimits(10**9, 10**9, depth))
            with pytest.raises(GatewayError, match="max_json_depth"):
                scan(body, cuts, BodyLimits(10**9, 10**9, depth - 1))


def test_every_single_split_point_of_an_escape_heavy_body() -> None:
    body = json.dumps({'k"\\': ['\\"', "\\\\", '"{"', {"x:": "]"}]}).encode()
    for cut in range(len(body) + 1):
        assert scan(body, [cut]).keys == 2


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_invalid_utf8_is_refused_even_split_across_chunks(bad: bytes) -> None:
    body = b'{"a": "x' + bad + b'y"}'
    for cut in range(len(body) + 1):
        with pytest.raises(GatewayError, match="not valid UTF-8") as info:
            scan(body, [cut])
        assert info.value.status == 400


def test_a_multibyte_character_split_across_chunks_is_fine() -> None:
    body = '{"a": "😀ü"}'.encode()
    for cut in range(len(body) + 1):
        scan(body, [cut])


def test_a_body_cut_inside_a_character_is_refused() -> None:
    with pytest.raises(GatewayError, match="not valid UTF-8"):
        scan('{"a": "😀'.encode()[:-1], [])


def test_the_empty_object_flood_stops_at_the_limit_early() -> None:
    s = BodyScan(BodyLimits(max_values=1000, max_keys=1000, max_depth=64))
    body = b'{"input": [' + b"{}," * 1_000_000
    with pytest.raises(GatewayError, match="max_json_values") as info:
        for i in range(0, len(body), 65536):
            s.feed(body[i : i + 65536])
    assert info.value.status == 413
    assert s.size <= 2 * 65536  # refused within the first chunks, not after reading 3 MB


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'"\\ud800"', "\\ud800"),
        (b'"\\udc00"', "\\udc00"),
        (b'"\\ud800\\u0041"', "\\ud800"),
        (b'"\\ud800x\\udc00"', "\\ud800"),
        (b'"\\ud83d\\ude00"', None),
        (b'"\\\\ud800"', None),  # an escaped backslash, then the letters
        (b'"\\\\\\ud800"', "\\ud800"),
    ],
)
def test_lone_surrogate(body: bytes, found: str | None) -> None:
    assert lone_surrogate(body) == found
