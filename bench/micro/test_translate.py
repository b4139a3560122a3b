"""Micro-benchmarks of the pure translator (pytest-benchmark); run by `make bench`, never by `make test`.

    python -m pytest bench/micro --benchmark-only

Each benchmark is one request's worth of the gateway's own CPU work outside the framework and the network:
decoding the client's bytes into Structs, translating, encoding for Azure; and back for the reply.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from app.api.sse import frame_response_event
from app.models import generated as m
from app.translate import TranslationOptions, chat_to_response, responses_to_chat
from app.translate.tools import tool_set
from app.wire.decode import decode_create_response
from bench import payloads
from bench.stub import COMPLETION, sse_events

OPTIONS = TranslationOptions(deployment=payloads.MODEL)
ENCODER = msgspec.json.Encoder()
CHAT_RESPONSE = msgspec.json.Decoder(m.CreateChatCompletionResponse)

BODIES = {
    "small": payloads.encode(payloads.responses_small()),
    "large": payloads.encode(payloads.responses_large()),
    # Codex's client tools (namespace, custom, tool search, a hosted tool omitted) and its reasoning replay.
    "codex": payloads.encode(payloads.responses_codex()),
}


@pytest.fixture(params=sorted(BODIES))
def size(request: Any) -> str:
    return str(request.param)


def test_request_decode(benchmark: Any, size: str) -> None:
    """Client bytes → CreateResponse Struct."""
    body = BODIES[size]
    benchmark(decode_create_response, body)


def test_request_translate(benchmark: Any, size: str) -> None:
    """CreateResponse → CreateChatCompletionRequest → Azure bytes."""
    request = decode_create_response(BODIES[size])
    benchmark(lambda: ENCODER.encode(responses_to_chat(request, OPTIONS)))


def test_response_translate(benchmark: Any, size: str) -> None:
    """Azure bytes → CreateChatCompletionResponse → Response → client bytes."""
    request = decode_create_response(BODIES[size])
    benchmark(lambda: ENCODER.encode(chat_to_response(CHAT_RESPONSE.decode(COMPLETION), request, OPTIONS)))


def test_round_trip(benchmark: Any, size: str) -> None:
    """Everything the gateway computes for one non-streamed /v1/responses call, end to end."""
    body = BODIES[size]

    def once() -> bytes:  # as ResponsesService.create does it: the tool set made once, used both ways
        request = decode_create_response(body)
        tools = tool_set(request, OPTIONS)
        ENCODER.encode(responses_to_chat(request, OPTIONS, tools))
        return ENCODER.encode(chat_to_response(CHAT_RESPONSE.decode(COMPLETION), request, OPTIONS, tools))

    benchmark(once)


def test_stream_chunk(benchmark: Any) -> None:
    """One Azure content chunk → Responses events → SSE bytes (per-chunk cost of a streamed reply)."""
    stream_module = pytest.importorskip(
        "app.translate.stream", reason="stream translation lands with issue-5-streaming (app/translate/stream.py)"
    )
    request = decode_create_response(BODIES["small"])
    chunks = [json.dumps(json.loads(e[6:])).encode() for e in sse_events(1000, True)[:-1]]
    head, content = chunks[:2], chunks[2:-2]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        stream = stream_module.ResponseStream(request, OPTIONS)
        stream.start()
        for chunk in head:
            stream.feed(chunk)
        return (stream,), {}

    def feed_all(stream: Any) -> None:
        frame = frame_response_event  # the SSE framing the HTTP route applies to each event
        for chunk in content:
            for event in stream.feed(chunk):
                frame(event)

    benchmark.pedantic(feed_all, setup=setup, rounds=30)
    benchmark.extra_info["chunks_per_round"] = len(content)
