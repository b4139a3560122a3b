"""Done-means 3 of issue 13: a fuzzer over raw bytes, which schemathesis cannot produce (it only sends
well-formed JSON of the schema's shape): invalid UTF-8, truncation, deep nesting, huge counts, byte flips and
splices of valid requests, against both endpoints, for a bounded time.

Every answer must be a 2xx or a 4xx in OpenAI's envelope - never a 5xx - and the gateway's RSS must come back
near where it started. The gateway runs as its own process, so its memory is measured alone. Derandomised
(a fixed seed), so a failure reproduces; FUZZ_BYTES_SECONDS sets the budget of the first pass
(default 15); a second pass replays it to tell a leak from the allocator's high-water mark.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from support.hostile import GatewayProcess

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")

SECONDS = float(os.environ.get("FUZZ_BYTES_SECONDS", "15"))
SEEDS = {
    "/v1/responses": [
        b'{"input": "hi"}',
        b'{"input": [{"role": "user", "content": [{"type": "input_text", "text": "hi \\u00e9"}]}], '
        b'"instructions": "be brief", "max_output_tokens": 50, "metadata": {"a": "b"}}',
        b'{"input": "hi", "stream": true, "tools": [{"type": "function", "name": "f", "parameters": '
        b'{"type": "object", "properties": {"x": {"type": "string"}}}}]}',
        b'{"input": [{"type": "function_call_output", "call_id": "c1", "output": "{}"}]}',
    ],
    "/v1/chat/completions": [
        b'{"messages": [{"role": "user", "content": "hi"}]}',
        b'{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", '
        b'"text": "\\ud83d\\ude00"}]}], "max_tokens": 5, "stream": true}',
        b'{"messages": [{"role": "user", "content": "hi"}], "logit_bias": {"50256": -100}, "stop": ["a", "b"]}',
    ],
}
BAD_UTF8 = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xe2\x82", b"\x80"]
ESCAPES = [b"\\ud800", b"\\udfff", b"\\u00", b"\\x41", b"\\", b"\\u0000", b'\\"']


def _flip(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randrange(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _insert(rng: random.Random, body: bytes, what: bytes) -> bytes:
    at = rng.randrange(len(body) + 1)
    return body[:at] + what + body[at:]


def _nest(rng: random.Random, body: bytes) -> bytes:
    depth = rng.choice([10, 63, 64, 65, 100, 1000, 100_000])
    inner = rng.choice([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth])
    return body[:-1] + b', "metadata": ' + inner + b"}"


def _count(rng: random.Random, body: bytes) -> bytes:
    n = rng.choice([1000, 99_999, 100_001, 200_001, 1_000_000])
    item = rng.choice([b"{}", b"1", b'"x"', b"[]", b'{"role":"user","content":"x"}'])
    field = rng.choice([b"input", b"messages", b"stop", b"metadata", b"tools"])
    many = b",".join([item] * n)
    if field == b"metadata":
        many = b",".join(b'"k%d":"v"' % i for i in range(min(n, 300_000)))
        return body[:-1] + b', "metadata": {' + many + b"}}"
    return b'{"' + field + b'": [' + many + b"]}"


MUTATORS: list[Callable[[random.Random, bytes], bytes]] = [
    lambda rng, b: b,
    _flip,
    lambda rng, b: b[: rng.randrange(len(b))],
    lambda rng, b: _insert(rng, b, rng.choice(BAD_UTF8)),
    lambda rng, b: _insert(rng, b, rng.choice(ESCAPES)),
    _nest,
    _count,
    lambda rng, b: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
    lambda rng, b: _insert(rng, b, b[: rng.randrange(len(b))]),
    lambda rng, b: b.replace(b'"', b"", 1),
    lambda rng, b: b.replace(b"hi", b"h" * rng.choice([1, 10_000, 1_000_000]), 1),
]


def _cases(seed: int) -> Iterator[tuple[str, bytes]]:
    """The fuzz sequence: the same seed gives the same requests, so a second pass can replay the first."""
    rng = random.Random(seed)
    while True:
        path = rng.choice(list(SEEDS))
        body = rng.choice(SEEDS[path])
        for _ in range(rng.randrange(1, 3)):
            body = rng.choice(MUTATORS)(rng, body) or b"{"
        yield path, body


def _settled_rss(gateway: GatewayProcess, http: httpx.Client) -> float:
    """RSS once the last large body is gone: a few small requests replace whatever the previous one left in
    the server's buffers, so a 30 MB body answered just before the reading does not count as growth."""
    for _ in range(20):
        http.post("/v1/responses", content=b'{"input": "hi", "store": false}')
    time.sleep(0.5)
    return gateway.memory()["VmRSS"]


def test_raw_bytes_never_get_a_5xx(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path, GATEWAY_MAX_QUEUE_WAIT="30")
    statuses: Counter[str] = Counter()
    failures: list[str] = []

    def send(http: httpx.Client, path: str, body: bytes) -> None:
        try:
            reply = http.post(path, content=body)
        except httpx.HTTPError as exc:
            failures.append(f"{exc!r} for {body[:300]!r}")
            return
        statuses[f"{path} {reply.status_code}"] += 1
        if reply.status_code >= 500:
            failures.append(f"{reply.status_code} for {body[:200]!r}: {reply.text[:300]}")
        elif reply.status_code >= 400:
            error = reply.json().get("error")
            if not (isinstance(error, dict) and error.get("message") and error.get("type")):
                failures.append(f"no envelope for {body[:200]!r}: {reply.text[:300]}")

    try:
        start = gateway.memory()["VmRSS"]
        with httpx.Client(base_url=gateway.url, timeout=60, headers={"content-type": "application/json"}) as http:
            # Pass 1 for the time budget; pass 2 replays exactly its requests. glibc keeps freed large blocks
            # (its mmap threshold rises after a big free), so RSS after pass 1 is a high-water mark that depends
            # on the machine; a leak is what pass 2 adds on top of it for the same inputs.
            count, deadline = 0, time.monotonic() + SECONDS
            for path, body in _cases(1313):
                if time.monotonic() >= deadline:
                    break
                send(http, path, body)
                count += 1
            first = _settled_rss(gateway, http)
            for (path, body), _ in zip(_cases(1313), range(count), strict=False):
                send(http, path, body)
            second = _settled_rss(gateway, http)
        memory = gateway.memory()
    finally:
        gateway.stop()
    print(f"\nraw-bytes fuzz: {count} cases twice, {dict(sorted(statuses.items()))}; RSS {start:.0f} MiB at "
          f"start, {first:.0f} MiB after pass 1, {second:.0f} MiB after pass 2, peak {memory['VmHWM']:.0f} MiB")
    log = gateway.log_path.read_text(errors="replace")
    assert not failures, (failures[:5], log[-3000:])
    assert count > 50
    assert first < start + 150, (start, first)  # bounded: the largest accepted body is 32 MiB
    assert second < first + 24, (first, second)  # no growth when the same inputs come again
