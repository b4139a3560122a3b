"""Chat Completions, forwarded: the client's request adapted for Azure, Azure's answer passed back unchanged.

The JSON answer is validated but sent as Azure's own bytes: its extra fields (``prompt_filter_results``,
``content_filter_results``, ``context``) must reach the client unchanged, and re-encoding costs time. A stream
is passed through event by event, as raw JSON bytes; a mid-stream failure (a dropped connection, a stream time
limit, or an event that is not a chunk: never forwarded, since an SDK would choke on it) ends it with OpenAI's
in-stream error object (which the openai SDKs raise as an APIError) and no ``[DONE]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import msgspec

from app.models import generated as m
from app.service.azure import Gateway
from app.service.azure_errors import malformed_chunk, mid_stream_failure
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


class _Shape(msgspec.Struct):
    """Just enough of an event to know it is a chunk (``choices``) or Azure's error object (``error``)."""

    choices: msgspec.Raw = msgspec.Raw(b"null")
    error: msgspec.Raw = msgspec.Raw(b"null")


_SHAPE = msgspec.json.Decoder(_Shape)


def _is_chunk_or_error(data: bytes) -> bool:
    """Whether ``data`` is JSON shaped like a chunk or an error object (the values are Azure's to fill)."""
    try:
        shape = _SHAPE.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return bytes(shape.choices).startswith(b"[") or bytes(shape.error).startswith(b"{")


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
    failure: GatewayError | None = None
    try:
        async for batch in upstream.event_batches():
            out: list[bytes] = []
            for data in batch:
                if data != DONE and not _is_chunk_or_error(data):
                    failure = malformed_chunk()
                    break
                last = data
                if b'"usage"' in data:  # only the last chunk(s), and only when the client asked include_usage
                    _count_chunk_usage(data)
                if b'"delta"' not in data and data != DONE:
                    data = with_deltas(data)
                out.append(data)
                if data == DONE:
                    break
            if out:
                yield out
            if last == DONE or failure is not None:
                break
    except UpstreamUnavailable as exc:
        failure = mid_stream_failure(exc)
    finally:
        # Before the body ends: a client that has read the whole stream never finds the slot still held.
        await release()
    if failure is None:
        if last == DONE:
            return
        if last.startswith(b'{"error"'):
            observe.note_error("upstream_error", "Azure OpenAI sent an error object mid-stream.")
            return
        failure = mid_stream_failure(None)
    observe.note_error(failure.code, failure.message)
    yield [failure.body()]
