"""Azure's Chat Completions chunks → Responses stream events, one chunk at a time.

A pure state machine (no I/O, no clock except for timestamps): the route feeds it each chunk as it
arrives and writes out the events it returns, so nothing is buffered beyond the item being built.

Rules it keeps (the Responses and Open Responses streaming contracts):
- `response.created` and `response.in_progress` come first, with a full Response snapshot.
- Items get `output_index` 0, 1, 2... in the order they start; reasoning (Azure's `reasoning_content`),
  the assistant message and each function call (keyed by the chunk's tool-call `index`) are separate
  items. An item is closed (its `.done` events) as soon as the next one starts or Azure finishes.
- Every item is added before its deltas and closed exactly once; `sequence_number` counts from 0.
- The terminal event's Response is built with the same code as the JSON route (`response.finish`,
  `output_items`), reusing the streamed item ids, so it equals what the non-streaming call returns.

Azure's quirks handled here: a first chunk with `choices: []` and only `prompt_filter_results`; chunks
with only `content_filter_results`/`content_filter_offsets` and no `delta`; the usage in a last chunk
with `choices: []`; an empty first tool-call `arguments` delta; an error object mid-stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

import msgspec
from msgspec import UNSET, structs

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.response import envelope, finish, incomplete_reason, logprob_items, new_id, output_items
from app.translate.response import wants_logprobs as _wants_logprobs
from app.wire.errors import error_object

__all__ = ["ResponseStream"]

_CHUNK = msgspec.json.Decoder(m.CreateChatCompletionStreamResponse)
_OPEN_TAG, _CLOSE_TAG = "<think>", "</think>"

_Events = list[m.ResponseStreamEvent]


@dataclass
class _Part:
    kind: Literal["output_text", "refusal"]
    index: int
    pieces: list[str] = field(default_factory=list)
    logprobs: list[m.ChatCompletionTokenLogprob] = field(default_factory=list)
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class _Item:
    kind: Literal["reasoning", "message", "function_call"]
    output_index: int
    id: str
    done: bool = False
    final: m.OutputItem | None = None
    # message
    parts: list[_Part] = field(default_factory=list)
    context: m.AzureChatContext | None = None
    # reasoning: one list of pieces per summary part
    summaries: list[list[str]] = field(default_factory=list)
    summary_open: bool = False
    # function call
    tool_index: int = -1
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamProtocolError(Exception):
    """Azure's stream broke the rules in a way that cannot be translated faithfully."""


class ResponseStream:
    """Translate one streamed Chat Completions answer into Responses events."""

    def __init__(
        self, request: m.CreateResponse, options: TranslationOptions, *, created_at: int | None = None
    ) -> None:
        self._options = options
        self._message_options = replace(options, reasoning_parser="off")
        self._with_logprobs = _wants_logprobs(request)
        self._created_at = int(time.time()) if created_at is None else created_at
        self.response = envelope(request, options, created_at=self._created_at, status="in_progress")
        self._sequence = 0
        self._items: list[_Item] = []
        self._open: _Item | None = None
        self._tools: dict[int, _Item] = {}
        self._finish_reason: str | None = None
        self._usage: m.CompletionUsage | None = None
        self._saw_reasoning_content = False
        self._think: _ThinkSplitter | None = (
            _ThinkSplitter() if options.reasoning_parser == "think_tags" else None
        )
        self.terminated = False

    # -- public -----------------------------------------------------------------------------------------

    @property
    def usage(self) -> m.CompletionUsage | None:
        """Azure's token usage, once its usage chunk has arrived (the translator asks for it)."""
        return self._usage

    @property
    def finished(self) -> bool:
        """Azure sent its finish_reason (the usage chunk and [DONE] may still follow)."""
        return self._finish_reason is not None

    def start(self) -> list[m.ResponseStreamEvent]:
        """`response.created` and `response.in_progress`: sent before Azure's first chunk is awaited."""
        snapshot = self._snapshot()
        return [
            m.ResponseCreatedEvent(sequence_number=self._next(), response=snapshot),
            m.ResponseInProgressEvent(sequence_number=self._next(), response=snapshot),
        ]

    def feed(self, data: bytes) -> list[m.ResponseStreamEvent]:
        """The events for one chunk's `data` (JSON bytes). Raises StreamProtocolError for an error chunk."""
        try:
            chunk = _CHUNK.decode(data)
        except msgspec.DecodeError:
            raise StreamProtocolError(_error_text(data)) from None
        events: _Events = []
        if isinstance(chunk.usage, m.CompletionUsage):
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.index != 0:
                continue  # the Responses API has one answer; the translator never asks for n > 1
            if isinstance(choice.delta, m.ChatCompletionStreamDelta):
                self._delta(choice, choice.delta, events)
            if isinstance(choice.finish_reason, str) and self._finish_reason is None:
                if self._think is not None and self._think.pending:
                    # A held-back partial tag that never completed is text after all.
                    pending, self._think.pending = self._think.pending, ""
                    if self._think.inside:
                        self._reasoning_text(pending, new_part=False, events=events)
                    else:
                        self._text(pending, [], events)
                self._finish_reason = choice.finish_reason
                self._close_open(events)
                if not self._items:
                    # Nothing was said: the JSON route returns one empty message; so does the stream.
                    self._open_message(events)
                    self._close_open(events)
        return events

    def complete(self) -> list[m.ResponseStreamEvent]:
        """The terminal event once Azure's stream ended normally: `response.completed` or `.incomplete`."""
        events: _Events = []
        if self._finish_reason is None:
            return self.fail("Azure OpenAI ended the stream without a finish_reason.")
        self._close_open(events)
        final = finish(
            self._snapshot(),
            [item.final for item in self._items if item.final is not None],
            self._usage,
            self._finish_reason,
            created=self._created_at,
        )
        self.terminated = True
        if final.status == "incomplete":
            events.append(m.ResponseIncompleteEvent(sequence_number=self._next(), response=final))
        else:
            events.append(m.ResponseCompletedEvent(sequence_number=self._next(), response=final))
        return events

    def fail(self, message: str) -> list[m.ResponseStreamEvent]:
        """Close what is open as incomplete and end with `response.failed` carrying `message`."""
        events: _Events = []
        if self._open is not None:
            self._close(self._open, events, status="incomplete")
        final = self._snapshot()
        final.status = "failed"
        final.output = [item.final for item in self._items if item.final is not None]
        final.error = m.ResponseError(code="server_error", message=message)
        self.terminated = True
        events.append(m.ResponseFailedEvent(sequence_number=self._next(), response=final))
        return events

    # -- chunk handling ---------------------------------------------------------------------------------

    def _delta(
        self, choice: m.ChatCompletionStreamChoice, delta: m.ChatCompletionStreamDelta, events: _Events
    ) -> None:
        if isinstance(delta.reasoning_content, str) and delta.reasoning_content:
            self._saw_reasoning_content = True
            self._reasoning_text(delta.reasoning_content, new_part=False, events=events)
        if isinstance(delta.context, m.AzureChatContext):
            item = self._message(events)
            item.context = delta.context
        if isinstance(delta.content, str) and delta.content:
            logprobs: list[m.ChatCompletionTokenLogprob] = []
            if isinstance(choice.logprobs, m.ChatChoiceLogprobs) and choice.logprobs.content:
                logprobs = choice.logprobs.content
            if self._think is not None and not self._saw_reasoning_content:
                for reasoning, piece in self._think.feed(delta.content):
                    if reasoning is None:
                        self._end_think_part()
                    elif reasoning:
                        self._reasoning_text(piece, new_part=self._think.new_part, events=events)
                        self._think.new_part = False
                    else:
                        self._text(piece, logprobs, events)
                        logprobs = []
            else:
                self._text(delta.content, logprobs, events)
        if isinstance(delta.refusal, str) and delta.refusal:
            item = self._message(events)
            part = self._part(item, "refusal", events)
            part.pieces.append(delta.refusal)
            events.append(
                m.ResponseRefusalDeltaEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    content_index=part.index,
                    delta=delta.refusal,
                )
            )
        if isinstance(delta.tool_calls, list):
            for call in delta.tool_calls:
                self._tool_call(call, events)

    def _text(self, text: str, logprobs: list[m.ChatCompletionTokenLogprob], events: _Events) -> None:
        if not text:
            return
        item = self._message(events)
        part = self._part(item, "output_text", events)
        part.pieces.append(text)
        if self._with_logprobs:
            part.logprobs.extend(logprobs)
        events.append(
            m.ResponseTextDeltaEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                delta=text,
                logprobs=logprob_items(logprobs) if self._with_logprobs else [],
            )
        )

    def _reasoning_text(self, text: str, *, new_part: bool, events: _Events) -> None:
        item = self._open
        if item is None or item.kind != "reasoning":
            self._close_open(events)
            item = self._add(_Item("reasoning", len(self._items), new_id("rs")), events)
        if new_part and item.summary_open:
            self._close_summary(item, events)
        if not item.summary_open:
            item.summaries.append([])
            item.summary_open = True
            events.append(
                m.ResponseReasoningSummaryPartAddedEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    summary_index=len(item.summaries) - 1,
                    part=m.SummaryTextContent(type="summary_text", text=""),
                )
            )
        if not text:
            return
        item.summaries[-1].append(text)
        events.append(
            m.ResponseReasoningSummaryTextDeltaEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=len(item.summaries) - 1,
                delta=text,
            )
        )

    def _end_think_part(self) -> None:
        if self._think is not None:
            self._think.new_part = True

    def _tool_call(self, call: m.ChatCompletionMessageToolCallChunk, events: _Events) -> None:
        function = call.function if isinstance(call.function, m.ChatCompletionFunctionCallChunk) else None
        arguments = function.arguments if function is not None and isinstance(function.arguments, str) else ""
        item = self._tools.get(call.index)
        if item is None:
            self._close_open(events)
            name = function.name if function is not None and isinstance(function.name, str) else ""
            call_id = call.id if isinstance(call.id, str) and call.id else new_id("call")
            item = _Item("function_call", len(self._items), new_id("fc"), tool_index=call.index)
            item.call_id, item.name = call_id, name
            self._tools[call.index] = item
            self._add(item, events)
        elif item.done:
            raise StreamProtocolError(
                f"Azure OpenAI sent more of tool call {call.index} after the next tool call had started."
            )
        elif function is not None and isinstance(function.name, str) and function.name and not item.name:
            item.name = function.name
        if arguments:  # Azure's first delta for a call often has empty arguments: no event for it
            item.arguments.append(arguments)
            events.append(
                m.ResponseFunctionCallArgumentsDeltaEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    delta=arguments,
                )
            )

    # -- items ------------------------------------------------------------------------------------------

    def _message(self, events: _Events) -> _Item:
        item = self._open
        if item is not None and item.kind == "message":
            return item
        return self._open_message(events)

    def _open_message(self, events: _Events) -> _Item:
        self._close_open(events)
        return self._add(_Item("message", len(self._items), new_id("msg")), events)

    def _add(self, item: _Item, events: _Events) -> _Item:
        self._items.append(item)
        self._open = item
        added: m.OutputItem
        if item.kind == "message":
            added = m.OutputMessage(id=item.id, role="assistant", content=[], status="in_progress")
        elif item.kind == "reasoning":
            added = m.ReasoningItem(id=item.id, summary=[], status="in_progress")
        else:
            added = m.FunctionToolCall(
                id=item.id, call_id=item.call_id, name=item.name, arguments="", status="in_progress"
            )
        events.append(
            m.ResponseOutputItemAddedEvent(
                sequence_number=self._next(), output_index=item.output_index, item=added
            )
        )
        return item

    def _part(self, item: _Item, kind: Literal["output_text", "refusal"], events: _Events) -> _Part:
        if item.parts and not item.parts[-1].done:
            if item.parts[-1].kind == kind:
                return item.parts[-1]
            self._close_part(item, item.parts[-1], events)
        for part in item.parts:
            if part.kind == kind:
                # Text after a refusal (or the reverse) and back again: Chat has one string of each, so
                # the Responses message has one part of each; a closed part cannot take more deltas.
                raise StreamProtocolError(f"Azure OpenAI interleaved {kind} with other content.")
        return self._open_part(kind, events, item)

    def _open_part(
        self, kind: Literal["output_text", "refusal"], events: _Events, item: _Item | None = None
    ) -> _Part:
        item = item or self._open
        assert item is not None and item.kind == "message"
        part = _Part(kind, len(item.parts))
        item.parts.append(part)
        content: m.OutputMessageContent = (
            m.OutputTextContent(text="", annotations=[], logprobs=[])
            if kind == "output_text"
            else m.RefusalContent(refusal="")
        )
        events.append(
            m.ResponseContentPartAddedEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                part=content,
            )
        )
        return part

    def _close_open(self, events: _Events) -> None:
        if self._open is not None:
            status = "incomplete" if incomplete_reason(self._finish_reason) else "completed"
            self._close(self._open, events, status=status)

    def _close(self, item: _Item, events: _Events, *, status: str) -> None:
        self._open = None
        item.done = True
        final: m.OutputItem
        failed = status == "incomplete" and self._finish_reason is None
        if item.kind == "message":
            if not item.parts:
                self._open_part("output_text", events, item)  # a message always has a text or refusal part
            final = self._final_message(item, status)
            for part in item.parts:
                if not part.done:
                    self._close_part(item, part, events, final)
        elif item.kind == "reasoning":
            if item.summary_open:
                self._close_summary(item, events)
            final = m.ReasoningItem(
                id=item.id,
                summary=[m.SummaryTextContent(type="summary_text", text="".join(p)) for p in item.summaries],
                status="incomplete" if failed else "completed",
            )
        else:
            arguments = "".join(item.arguments)
            events.append(
                m.ResponseFunctionCallArgumentsDoneEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    name=item.name,
                    arguments=arguments,
                )
            )
            final = m.FunctionToolCall(
                id=item.id,
                call_id=item.call_id,
                name=item.name,
                arguments=arguments,
                status="incomplete" if failed else "completed",
            )
        item.final = final
        events.append(
            m.ResponseOutputItemDoneEvent(
                sequence_number=self._next(), output_index=item.output_index, item=final
            )
        )

    def _final_message(self, item: _Item, status: str) -> m.OutputMessage:
        """The message exactly as the JSON route's `output_items` builds it, with the streamed id."""
        text = next((p for p in item.parts if p.kind == "output_text"), None)
        refusal = next((p for p in item.parts if p.kind == "refusal"), None)
        logprobs = text.logprobs if text is not None else []
        choice = m.ChatCompletionChoice(
            index=0,
            finish_reason=None,
            message=m.ChatCompletionResponseMessage(
                role="assistant",
                content=text.text if text is not None else None,
                refusal=refusal.text if refusal is not None else None,
                context=item.context,
            ),
            logprobs=m.ChatChoiceLogprobs(content=logprobs) if logprobs else None,
        )
        (built,) = output_items(
            choice, self._message_options, status=status, with_logprobs=self._with_logprobs
        )
        assert isinstance(built, m.OutputMessage)
        by_kind = {type(content): content for content in built.content}
        # Parts in the order they were streamed (content_index), as the JSON route would order them.
        content = [
            by_kind.get(m.OutputTextContent if p.kind == "output_text" else m.RefusalContent)
            for p in item.parts
        ]
        built.content = [c for c in content if c is not None] or built.content
        return structs.replace(built, id=item.id)

    def _close_part(
        self, item: _Item, part: _Part, events: _Events, final: m.OutputMessage | None = None
    ) -> None:
        part.done = True
        if final is None:
            final = self._final_message(item, "completed")
        content = final.content[part.index] if part.index < len(final.content) else None
        if part.kind == "output_text":
            assert isinstance(content, m.OutputTextContent)
            events.append(
                m.ResponseTextDoneEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    content_index=part.index,
                    text=content.text,
                    logprobs=content.logprobs if content.logprobs is not UNSET else [],  # type: ignore[arg-type]
                )
            )
        else:
            assert isinstance(content, m.RefusalContent)
            events.append(
                m.ResponseRefusalDoneEvent(
                    sequence_number=self._next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    content_index=part.index,
                    refusal=content.refusal,
                )
            )
        events.append(
            m.ResponseContentPartDoneEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                part=content,
            )
        )

    def _close_summary(self, item: _Item, events: _Events) -> None:
        item.summary_open = False
        index = len(item.summaries) - 1
        text = "".join(item.summaries[index])
        events.append(
            m.ResponseReasoningSummaryTextDoneEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=index,
                text=text,
            )
        )
        events.append(
            m.ResponseReasoningSummaryPartDoneEvent(
                sequence_number=self._next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=index,
                part=m.SummaryTextContent(type="summary_text", text=text),
            )
        )

    # -- helpers ----------------------------------------------------------------------------------------

    def _next(self) -> int:
        number = self._sequence
        self._sequence += 1
        return number

    def _snapshot(self) -> m.Response:
        return structs.replace(self.response, output=[])


def _error_text(data: bytes) -> str:
    """What an undecodable chunk says: Azure's error message when it is an error object."""
    try:
        error = error_object(data)
    except msgspec.DecodeError:
        return "Azure OpenAI sent a stream event that is not JSON."
    if error is not None:
        message = error.get("message") or "no message"
        code = error.get("code")
        return f"Azure OpenAI failed mid-stream: {message}" + (f" (code {code})" if code else "")
    return "Azure OpenAI sent a stream event the gateway could not read."


class _ThinkSplitter:
    """Splits streamed text on `<think>`/`</think>`, holding back a possible partial tag.

    `feed` returns `(True, text)` for reasoning, `(False, text)` for answer text and `(None, "")` at
    each `</think>` (so the next block starts a new summary part, as in the JSON route).
    """

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""
        self.new_part = True

    def feed(self, text: str) -> list[tuple[bool | None, str]]:
        out: list[tuple[bool | None, str]] = []
        buffer, self.pending = self.pending + text, ""
        while buffer:
            tag = _CLOSE_TAG if self.inside else _OPEN_TAG
            at = buffer.find(tag)
            if at >= 0:
                if at:
                    out.append((self.inside, buffer[:at]))
                buffer = buffer[at + len(tag) :]
                if self.inside:
                    out.append((None, ""))
                self.inside = not self.inside
                continue
            # The longest end of the buffer that could be the start of the tag waits for the next chunk.
            longest = min(len(tag) - 1, len(buffer))
            keep = next((k for k in range(longest, 0, -1) if tag.startswith(buffer[-k:])), 0)
            if len(buffer) > keep:
                out.append((self.inside, buffer[: len(buffer) - keep]))
            self.pending = buffer[len(buffer) - keep :]
            break
        return out
