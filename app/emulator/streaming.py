"""Answers rendered as Azure's ``chat.completion.chunk`` server-sent events, word by word.

The shape follows what Azure OpenAI really sends, quirks included, so clients are tested against them:

1. a first chunk with ``choices: []`` carrying only ``prompt_filter_results`` (and empty ``id``,
   ``object``, ``model``, ``created: 0``);
2. per choice: a role chunk (``{"role": "assistant", "content": ""}``), then reasoning, content and
   refusal deltas a word at a time, or tool calls - each call's first delta has its id, name and
   empty ``arguments``, the arguments follow in small pieces, calls one after another by ``index``
   (or, with ``interleave_tool_calls``, every call's first delta and then their argument pieces in turn:
   index 0, 1, 0, 1 - the chunk format allows it, since each delta names its call's ``index``);
3. a chunk with only ``content_filter_results`` and ``content_filter_offsets`` (no ``delta``), as
   Azure's asynchronous filter sends;
4. a chunk with an empty delta and the ``finish_reason``;
5. with ``stream_options.include_usage``, a chunk with ``choices: []`` and the ``usage``;
6. ``data: [DONE]``.

Scriptable per reply (:class:`StreamKnobs`): a delay before each chunk, a named gate the stream waits on
before its first content chunk, and a failure after N content chunks (an error event, or a dropped
connection). The recorded request notes how many chunks were sent and whether the client cancelled.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from litestar.response import Stream

from app.emulator.replies import SAFE, Answer, completion_tokens, tokenize, usage_block

if TYPE_CHECKING:
    from app.emulator.state import EmulatorState, RecordedRequest

__all__ = ["DroppedConnection", "StreamKnobs", "stream_response"]

_WORDS = re.compile(r"\s*\S+\s*|\s+")
_FILTERS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
_PROMPT_FILTERS = {**_FILTERS, "jailbreak": {"filtered": False, "detected": False}}


class DroppedConnection(Exception):
    """Raised inside a stream to make the server drop the connection mid-body (a scripted fault)."""


class StreamKnobs(msgspec.Struct, frozen=True, kw_only=True):
    """How a scripted reply streams; ignored by non-streaming requests.

    ``chunk_delay`` seconds pass before every chunk after the prompt-filter one. ``gate`` names a gate
    (``POST /_emulator/gates/{name}`` opens it) that the stream waits for after the prompt-filter
    chunk, before any answer chunk. ``fail_after`` content chunks (reasoning, text, refusal or tool-call
    deltas), the stream fails instead of going on: ``failure`` ``"error_chunk"`` sends an Azure error
    object as the last event and ends the body; ``"drop"`` drops the connection without ending it;
    ``"malformed_chunk"`` sends a chunk cut off mid-JSON, then ``[DONE]``.
    ``interleave_tool_calls`` streams parallel tool calls' argument pieces in turn instead of call by call.
    """

    chunk_delay: float = 0.0
    gate: str | None = None
    fail_after: int | None = None
    failure: Literal["error_chunk", "drop", "malformed_chunk"] = "error_chunk"
    interleave_tool_calls: bool = False


def _event(payload: Any) -> bytes:
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def _pieces(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text`` exactly."""
    return _WORDS.findall(text) or ([text] if text else [])


def _argument_pieces(arguments: str) -> list[str]:
    """Tool arguments in token-sized pieces, as Azure streams them (the first delta is always empty)."""
    pieces: list[str] = []
    rest = arguments
    for token in tokenize(arguments):
        at = rest.find(token)
        pieces.append(rest[: at + len(token)])
        rest = rest[at + len(token) :]
    if rest:
        pieces.append(rest)
    return pieces


class _Chunks:
    def __init__(self, model: str, fingerprint: str) -> None:
        self.id = "chatcmpl-" + uuid.uuid4().hex[:29]
        self.created = int(time.time())
        self.model = model
        self.fingerprint = fingerprint

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "choices": choices,
            "created": self.created,
            "id": self.id,
            "model": self.model,
            "object": "chat.completion.chunk",
            "system_fingerprint": self.fingerprint,
            **extra,
        }

    @staticmethod
    def prompt_filter() -> dict[str, Any]:
        results = [{"prompt_index": 0, "content_filter_results": _PROMPT_FILTERS}]
        return {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": results,
        }

    @staticmethod
    def error() -> dict[str, Any]:
        message = "The server had an error while processing your request. Sorry about that!"
        return {"error": {"code": "InternalServerError", "message": message}}

    def filter_only(self, index: int, end: int) -> dict[str, Any]:
        offsets = {"check_offset": 0, "start_offset": 0, "end_offset": end}
        choice = {
            "content_filter_offsets": offsets,
            "content_filter_results": _FILTERS,
            "finish_reason": None,
        }
        return self.chunk([{**choice, "index": index}])

    def finish(self, index: int, reason: str) -> dict[str, Any]:
        choice = {"content_filter_results": {}, "delta": {}, "finish_reason": reason, "index": index}
        return self.chunk([{**choice, "logprobs": None}])

    def delta(self, index: int, delta: dict[str, Any]) -> dict[str, Any]:
        choice = {
            "content_filter_results": _FILTERS if delta.get("content") or delta.get("refusal") else {},
            "delta": delta,
            "finish_reason": None,
            "index": index,
            "logprobs": None,
        }
        return self.chunk([choice])


def _answer_deltas(answer: Answer, *, interleave: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The role delta (with any scripted extra fields) and the content deltas of one answer."""
    extra = dict(answer.extra)
    reasoning = extra.pop("reasoning_content", None)
    first: dict[str, Any] = {"content": "", "refusal": None, "role": "assistant", **extra}
    deltas: list[dict[str, Any]] = []
    if isinstance(reasoning, str):
        deltas += [{"reasoning_content": piece} for piece in _pieces(reasoning)]
    if answer.content:
        deltas += [{"content": piece} for piece in _pieces(answer.content)]
    if answer.refusal:
        deltas += [{"refusal": piece} for piece in _pieces(answer.refusal)]
    calls: list[list[dict[str, Any]]] = []
    for index, call in enumerate(answer.tool_calls):
        opening = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        pieces = [
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in _argument_pieces(call.arguments)
        ]
        calls.append([{"tool_calls": [opening]}, *pieces])
    if interleave:
        # Every call's opening delta, then one piece of each call in turn until all are sent.
        deltas += [call[0] for call in calls]
        rests = [call[1:] for call in calls]
        for step in range(max((len(rest) for rest in rests), default=0)):
            deltas += [rest[step] for rest in rests if step < len(rest)]
    else:
        deltas += [delta for call in calls for delta in call]
    if answer.function_call is not None:
        fc = answer.function_call
        deltas.append({"function_call": {"name": fc.name, "arguments": ""}})
        deltas += [{"function_call": {"arguments": piece}} for piece in _argument_pieces(fc.arguments)]
    return first, deltas


def stream_response(
    answers: Sequence[Answer],
    *,
    model: str,
    system_fingerprint: str,
    prompt: int,
    include_usage: bool,
    usage: dict[str, Any] | None,
    knobs: StreamKnobs,
    request_id: str,
    record: RecordedRequest | None,
    state: EmulatorState | None,
) -> Stream:
    """A 200 ``text/event-stream`` response streaming ``answers`` the way Azure does."""
    chunks = _Chunks(model, system_fingerprint)

    async def events() -> AsyncGenerator[bytes, None]:
        sent = 0

        async def pause() -> None:
            if knobs.chunk_delay > 0:
                await asyncio.sleep(knobs.chunk_delay)

        try:
            yield _event(chunks.prompt_filter())
            if knobs.gate is not None and state is not None:
                await state.gate(knobs.gate).wait()
            for index, answer in enumerate(answers):
                first, deltas = _answer_deltas(answer, interleave=knobs.interleave_tool_calls)
                await pause()
                yield _event(chunks.delta(index, first))
                for delta in deltas:
                    if knobs.fail_after is not None and sent >= knobs.fail_after:
                        if knobs.failure == "drop":
                            raise DroppedConnection("scripted connection drop")
                        if knobs.failure == "malformed_chunk":
                            yield _event(chunks.delta(index, delta))[:40] + b"\n\n" + b"data: [DONE]\n\n"
                            return
                        yield _event(chunks.error())
                        return
                    await pause()
                    yield _event(chunks.delta(index, delta))
                    sent += 1
                    if record is not None:
                        record.chunks_sent = sent
                text = (answer.content or "") + (answer.refusal or "")
                await pause()
                yield _event(chunks.filter_only(index, len(text)))
                await pause()
                yield _event(chunks.finish(index, answer.finish_reason))
            if include_usage:
                computed = usage_block(prompt, completion_tokens(answers))
                computed.update(usage or {})
                yield _event(chunks.chunk([], usage=computed))
            yield b"data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away mid-stream (the server cancels us, or closes the abandoned generator).
            if record is not None:
                record.cancelled = True
            raise

    return Stream(events(), media_type="text/event-stream", headers={"apim-request-id": request_id})
