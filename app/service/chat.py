"""Chat Completions, forwarded: the client's request adapted for Azure, Azure's answer passed back unchanged.

The JSON answer is validated but sent as Azure's own bytes: its extra fields (``prompt_filter_results``,
``content_filter_results``, ``context``) must reach the client unchanged, and re-encoding costs time. A stream
is passed through event by event, as raw JSON bytes; a mid-stream failure ends it with OpenAI's in-stream error
object (which the openai SDKs raise as an APIError) and no ``[DONE]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import msgspec

from app.models import generated as m
from app.service.azure import Gateway
from app.service.events import EventSource, Release
from app.telemetry import observe
from app.translate.chat import chat_for_azure
from app.upstream import UpstreamStream, UpstreamUnavailable
from app.wire.errors import GatewayError

DONE = b"[DONE]"

ChatEvents = EventSource[bytes]
"""Each event is the ``data`` of one server-sent event: a chunk's JSON, ``[DONE]``, or an error object."""


class ChatService:
    def __init__(self, azure: Gateway) -> None:
        self.azure = azure

    async def create(self, request: m.CreateChatCompletionRequest) -> bytes | ChatEvents:
        """Azure's JSON answer as bytes, or (``stream: true``) its events once Azure has accepted the call."""
        azure_request = chat_for_azure(request, self.azure.options)
        if azure_request.stream is True:
            return await EventSource.open(self.azure.open_stream(azure_request), _events)
        return await self.azure.answer_bytes(azure_request)


class _UsageOnly(msgspec.Struct):
    usage: m.CompletionUsage | None = None


_USAGE_ONLY = msgspec.json.Decoder(_UsageOnly)


def _count_chunk_usage(data: bytes) -> None:
    # Not a usage chunk after all (or an error object)? It is passed through as it is either way.
    with contextlib.suppress(msgspec.DecodeError):
        observe.count_usage(_USAGE_ONLY.decode(data).usage)


def with_deltas(data: bytes) -> bytes:
    """A chunk whose choices lack ``delta`` (Azure's asynchronous content-filter chunk carries only
    ``content_filter_offsets`` and ``content_filter_results``) gets an empty one, as the SDKs' stream loops
    read ``choices[0].delta`` unconditionally; every other byte of the chunk is kept."""
    try:
        chunk = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return data
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not isinstance(choices, list) or not any(isinstance(c, dict) and "delta" not in c for c in choices):
        return data
    for choice in choices:
        if isinstance(choice, dict) and "delta" not in choice:
            choice["delta"] = {}
    return msgspec.json.encode(chunk)


async def _events(upstream: UpstreamStream, release: Release) -> AsyncGenerator[list[bytes], None]:
    last = b""
    message = "Azure OpenAI closed the stream before it finished."
    try:
        async for batch in upstream.event_batches():
            out: list[bytes] = []
            for data in batch:
                last = data
                if b'"usage"' in data:  # only the last chunk(s), and only when the client asked include_usage
                    _count_chunk_usage(data)
                if b'"delta"' not in data and data != DONE:
                    data = with_deltas(data)
                out.append(data)
                if data == DONE:
                    break
            yield out
            if last == DONE:
                break
    except UpstreamUnavailable as exc:
        message = f"{exc}."
    finally:
        # Before the body ends: a client that has read the whole stream never finds the slot still held.
        await release()
    if last == DONE or last.startswith(b'{"error"'):
        return
    yield [GatewayError(502, message, code="upstream_error").body()]
