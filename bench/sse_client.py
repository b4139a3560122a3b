"""A minimal asyncio HTTP/1.1 client for streams: time to first SSE event, total time, many open streams.

wrk measures throughput and whole-response latency; it cannot say when the first event arrived. This client
writes one request on its own connection and timestamps the first complete SSE event (``…\\n\\n``) and the
end of the body. Raw sockets, no HTTP library: the measuring side must add as little as possible.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class StreamResult:
    status: int
    first_event: float  # seconds from writing the request to the first complete SSE event (nan if none)
    total: float  # seconds from writing the request to the end of the body
    first_line: bytes  # first line of the first event, e.g. b"event: response.created"
    body_bytes: int
    headers: dict[str, str]


def request_bytes(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"host: {host}:{port}", "content-type: application/json",
             f"content-length: {len(body)}", "accept: text/event-stream"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def stream_once(host: str, port: int, raw_request: bytes, timeout: float = 60.0) -> StreamResult:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(_exchange(reader, writer, raw_request), timeout)
    finally:
        writer.close()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> StreamResult:
    start = time.perf_counter()
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode()
    first_event = float("nan")
    first_line = b""
    body = bytearray()
    if "content-length" in headers:
        body += await reader.readexactly(int(headers["content-length"]))
    else:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            body += chunk
            if first_event != first_event:  # nan: no complete event yet
                end = body.find(b"\n\n")
                if end >= 0:
                    first_event = time.perf_counter() - start
                    # skip the chunk-size line of chunked framing
                    text = bytes(body[:end])
                    first_line = next((ln for ln in text.split(b"\n") if ln.startswith((b"event:", b"data:"))), b"")
            if body.endswith(b"\r\n0\r\n\r\n") or bytes(body) == b"0\r\n\r\n":
                break
    return StreamResult(status, first_event, time.perf_counter() - start, first_line[:80], len(body), headers)


async def many_streams(
    host: str, port: int, raw_request: bytes, count: int, timeout: float = 120.0
) -> list[StreamResult]:
    """Open ``count`` streams at once (each on its own connection) and wait for all of them."""
    results = await asyncio.gather(*(stream_once(host, port, raw_request, timeout) for _ in range(count)),
                                   return_exceptions=True)
    return [r for r in results if isinstance(r, StreamResult)]
