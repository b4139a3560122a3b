"""A fast fake of Azure OpenAI Chat Completions for load tests: canned replies, no validation.

Why not the emulator (app/emulator): it validates every request like Azure does, which is right for tests
and far too slow to sit under a load test. This stub is a raw asyncio protocol (uvloop when installed) with
a hand-rolled HTTP/1.1 keep-alive parser and pre-encoded replies, so it is never the bottleneck: the bench
measures its own req/s next to every other system and reports it.

Behaviour, decided from the request with byte searches (no JSON parsing):

* any POST answers a chat completion; ``"stream":true`` in the body answers Server-Sent Events instead:
  Azure's empty ``prompt_filter_results`` chunk, a role chunk, N one-token content chunks, a finish chunk,
  a usage chunk when ``"include_usage":true``, then ``data: [DONE]``. N is the body's ``max_tokens`` or
  ``max_completion_tokens`` (default 16), so a client picks the stream length through the API it already has.
* a deployment whose name starts with ``slow`` (``/openai/deployments/slow…/``) sleeps ``--slow-ms`` before
  every chunk (and before a non-streamed reply): for time-to-first-event and many-open-streams tests.
* a deployment whose name contains ``agent`` answers every request with one ``read_file`` tool call
  instead of text (streamed as Azure streams tool calls): an agent loop's model turn, for the WebSocket
  phase (bench/agent_loop.py). ``slow-agent`` is both.
* ``GET /stats`` returns how many requests were served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys

_HEADER_END = b"\r\n\r\n"
_MAX_TOKENS = re.compile(rb'"max_(?:completion_)?tokens"\s*:\s*(\d+)')
_STREAM = re.compile(rb'"stream"\s*:\s*true')
_USAGE = re.compile(rb'"include_usage"\s*:\s*true')
# Matched against the request head, which StubProtocol._drain lowercases first: the pattern is lower-case too.
_SLOW = re.compile(rb"^post [^ ]*/deployments/slow")
_AGENT = re.compile(rb"^post [^ ]*/deployments/[^/ ]*agent")
TOOL_CALL = {"id": "call_stub_read", "type": "function", "function": {"name": "read_file", "arguments": ""}}
TOOL_ARGUMENTS = '{"path":"src/app/main.py"}'

CREATED = 1_700_000_000
MODEL = "gpt-4o-mini-2024-07-18"
_FILTER_OK = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}
USAGE = {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-stub0000000000000000000000",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_stub",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTER_OK}],
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None},
                "content_filter_results": _FILTER_OK,
            }
        ],
        "usage": USAGE,
    },
    separators=(",", ":"),
).encode()


def _chunk(choices: list[object], **extra: object) -> bytes:
    payload = {
        "id": "chatcmpl-stub0000000000000000000000",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_stub",
        "choices": choices,
        **extra,
    }
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _delta(delta: dict[str, object], finish: str | None = None) -> bytes:
    return _chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])


def _tool_completion() -> bytes:
    call = {**TOOL_CALL, "function": {"name": "read_file", "arguments": TOOL_ARGUMENTS}}
    reply = json.loads(COMPLETION)
    reply["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
    reply["choices"][0]["finish_reason"] = "tool_calls"
    return json.dumps(reply, separators=(",", ":")).encode()


def tool_events(usage: bool) -> list[bytes]:
    """A streamed reply that is one tool call: its header chunk, its arguments in two deltas, the finish."""
    half = len(TOOL_ARGUMENTS) // 2
    events = [
        _chunk([], prompt_filter_results=[{"prompt_index": 0, "content_filter_results": _FILTER_OK}]),
        _delta({"role": "assistant", "content": None, "tool_calls": [{"index": 0, **TOOL_CALL}]}),
        _delta({"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGUMENTS[:half]}}]}),
        _delta({"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGUMENTS[half:]}}]}),
        _delta({}, "tool_calls"),
    ]
    if usage:
        events.append(_chunk([], usage=USAGE))
    events.append(b"data: [DONE]\n\n")
    return events


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse_events(tokens: int, usage: bool) -> list[bytes]:
    """The SSE events of one streamed reply, each a complete ``data: …\\n\\n`` event."""
    events = [
        _chunk([], prompt_filter_results=[{"prompt_index": 0, "content_filter_results": _FILTER_OK}]),
        _delta({"role": "assistant", "content": "", "refusal": None}),
    ]
    events += [_delta({"content": f"t{i} "}) for i in range(tokens)]
    events.append(_delta({}, "stop"))
    if usage:
        events.append(_chunk([], usage={**USAGE, "completion_tokens": tokens, "total_tokens": 42 + tokens}))
    events.append(b"data: [DONE]\n\n")
    return events


_JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
_SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n"
_REPLY = (_JSON_HEAD % len(COMPLETION)) + COMPLETION
_TOOL_JSON = _tool_completion()
_TOOL_REPLY = (_JSON_HEAD % len(_TOOL_JSON)) + _TOOL_JSON
_streams: dict[tuple[int, bool], bytes] = {}
_served = 0


def _stream_reply(tokens: int, usage: bool, agent: bool = False) -> bytes:
    key = (-1 if agent else tokens, usage)
    if key not in _streams:
        events = tool_events(usage) if agent else sse_events(tokens, usage)
        _streams[key] = _SSE_HEAD + b"".join(map(_http_chunk, events)) + b"0\r\n\r\n"
    return _streams[key]


class StubProtocol(asyncio.Protocol):
    slow_seconds = 0.02

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a slow reply is being written; later pipelined requests wait in the buffer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._drain()

    def _drain(self) -> None:
        global _served
        while self.transport is not None and not self.busy:
            end = self.buffer.find(_HEADER_END)
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop > 0 else None])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            _served += 1
            self._answer(head, body)

    def _answer(self, head: bytes, body: bytes) -> None:
        assert self.transport is not None
        if head.startswith(b"get /stats"):
            payload = json.dumps({"served": _served}).encode()
            self.transport.write((_JSON_HEAD % len(payload)) + payload)
            return
        stream = _STREAM.search(body) is not None
        slow = _SLOW.match(head) is not None
        agent = _AGENT.match(head) is not None
        if not slow:
            if stream:
                match = _MAX_TOKENS.search(body)
                tokens = int(match.group(1)) if match else 16
                self.transport.write(_stream_reply(tokens, bool(_USAGE.search(body)), agent))
            else:
                self.transport.write(_TOOL_REPLY if agent else _REPLY)
            return
        self.busy = True
        asyncio.get_running_loop().create_task(self._slow(body, stream, agent))

    async def _slow(self, body: bytes, stream: bool, agent: bool = False) -> None:
        try:
            if not stream:
                await asyncio.sleep(self.slow_seconds)
                if self.transport is not None:
                    self.transport.write(_TOOL_REPLY if agent else _REPLY)
                return
            match = _MAX_TOKENS.search(body)
            usage = bool(_USAGE.search(body))
            events = tool_events(usage) if agent else sse_events(int(match.group(1)) if match else 16, usage)
            if self.transport is None:
                return
            self.transport.write(_SSE_HEAD)
            for event in events:
                await asyncio.sleep(self.slow_seconds)
                if self.transport is None:
                    return
                self.transport.write(_http_chunk(event))
            self.transport.write(b"0\r\n\r\n")
        finally:
            self.busy = False
        self._drain()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(StubProtocol, host, port, backlog=4096, reuse_address=True)
    print(f"stub listening on http://{host}:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--slow-ms", type=float, default=20.0, help="delay per chunk for slow* deployments")
    args = parser.parse_args()
    StubProtocol.slow_seconds = args.slow_ms / 1000
    try:
        import uvloop

        uvloop.run(serve(args.host, args.port))
    except ImportError:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
