"""AzureChatClient.stream_chat: the SSE parser, the slot's lifetime, errors before and during the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from app.settings.load import Secret, Settings
from app.upstream import AzureChatClient, UpstreamUnavailable


class Pieces(httpx.AsyncByteStream):
    def __init__(self, *pieces: bytes, fail: Exception | None = None) -> None:
        self.pieces = pieces
        self.fail = fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail is not None:
            raise self.fail


def client_for(handler: httpx.MockTransport, slots: int = 2) -> AzureChatClient:
    settings = Settings(
        openai_base_url="https://res.openai.azure.com",
        openai_api_key=Secret("k"),
        openai_model="d",
        default_query={"api-version": "2024-10-21"},
        num_concurrent_requests=slots,
    )
    return AzureChatClient(settings, transport=handler)


def sse(*pieces: bytes, status: int = 200, fail: Exception | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        return httpx.Response(status, stream=Pieces(*pieces, fail=fail))

    return httpx.MockTransport(handler)


async def collect(client: AzureChatClient) -> list[bytes]:
    async with client.stream_chat(b"{}") as upstream:
        assert upstream.status == 200 and upstream.body == b""
        assert client.free_slots == 1
        return [data async for data in upstream.events()]


def test_events_split_anywhere_with_crlf_comments_and_multiline_data() -> None:
    client = client_for(
        sse(
            b'data: {"a"',
            b":1}\r\n\r\n: keep-alive\n\nevent: x\nda",
            b"ta: one\ndata: two\n\ndata: [DONE]\n\n",
        )
    )
    assert asyncio.run(collect(client)) == [b'{"a":1}', b"one\ntwo", b"[DONE]"]
    assert client.free_slots == 2


def test_a_last_event_without_blank_line_is_still_delivered() -> None:
    assert asyncio.run(collect(client_for(sse(b"data: [DONE]")))) == [b"[DONE]"]


def test_a_drop_mid_stream_is_upstream_unavailable_and_frees_the_slot() -> None:
    client = client_for(sse(b"data: 1\n\n", fail=httpx.RemoteProtocolError("peer closed connection")))
    with pytest.raises(UpstreamUnavailable, match="dropped the connection mid-stream"):
        asyncio.run(collect(client))
    assert client.free_slots == 2


def test_a_read_timeout_mid_stream_says_so() -> None:
    client = client_for(sse(b"data: 1\n\n", fail=httpx.ReadTimeout("slow")))
    with pytest.raises(UpstreamUnavailable, match=r"timed out mid-stream \(read timeout\)") as info:
        asyncio.run(collect(client))
    assert info.value.timeout


def test_an_error_status_is_read_whole() -> None:
    async def main() -> tuple[int, bytes]:
        client = client_for(sse(b'{"error": ', b'{"code": "429"}}', status=429))
        async with client.stream_chat(b"{}") as upstream:
            return upstream.status, upstream.body

    assert asyncio.run(main()) == (429, b'{"error": {"code": "429"}}')


def test_connect_failure_is_upstream_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = client_for(httpx.MockTransport(handler))

    async def main() -> None:
        async with client.stream_chat(b"{}"):
            pass

    with pytest.raises(UpstreamUnavailable, match="is unreachable: ConnectError"):
        asyncio.run(main())
    assert client.free_slots == 2
