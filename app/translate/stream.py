"""Azure's Chat Completions chunks → Responses stream events, one chunk at a time.

A pure state machine (no I/O, no clock except for timestamps): the route feeds it each chunk as it
arrives and writes out the events it returns, so nothing is buffered beyond the item being built.

Rules it keeps (the Responses and Open Responses streaming contracts):
- `response.created` and `response.in_progress` come first, with a full Response snapshot.
- Items get `output_index` 0, 1, 2... in the order they start; reasoning (Azure's `reasoning_content`),
  the assistant message and each function call (keyed by the chunk's tool-call `index`) are separate
  items. A reasoning or message item is closed (its `.done` events) as soon as the next item starts or
  Azure finishes; function calls stay open together until Azure finishes, since the argument deltas of
  parallel calls may interleave (index 0, 1, 0).
- Every item is added before its deltas and closed exactly once; `sequence_number` counts from 0.
- The terminal event's Response is built with the same code as the JSON route (`response.finish`,
  `output_items`), reusing the streamed item ids, so it equals what the non-streaming call returns.

Azure's quirks handled here: a first chunk with `choices: []` and only `prompt_filter_results`; chunks
with only `content_filter_results`/`content_filter_offsets` and no `delta`; the usage in a last chunk
with `choices: []`; an empty first tool-call `arguments` delta; an error object mid-stream.
"""

from __future__ import annotations

import time
from dataclasses import replace

import msgspec
from msgspec import structs

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.response import envelope, finish, logprob_items, new_id
from app.translate.response import wants_logprobs as _wants_logprobs
from app.translate.stream_items import Events, Item, StreamItems, StreamProtocolError
from app.translate.think import ThinkSplitter
from app.translate.tools import ToolSet
from app.wire.errors import error_object

__all__ = ["ResponseStream", "StreamProtocolError"]

_CHUNK = msgspec.json.Decoder(m.CreateChatCompletionStreamResponse)


TERMINAL_EVENTS = (m.ResponseCompletedEvent, m.ResponseIncompleteEvent, m.ResponseFailedEvent)
"""The events that end a response's stream: exactly one comes last."""


class ResponseStream:
    """Translate one streamed Chat Completions answer into Responses events."""

    def __init__(
        self,
        request: m.CreateResponse,
        options: TranslationOptions,
        *,
        created_at: int | None = None,
        tools: ToolSet | None = None,
    ) -> None:
        self._options = options
        self._message_options = replace(options, reasoning_parser="off")
        self._with_logprobs = _wants_logprobs(request)
        self._created_at = int(time.time()) if created_at is None else created_at
        self.response = envelope(request, options, created_at=self._created_at, status="in_progress")
        self._out = StreamItems(self._message_options, with_logprobs=self._with_logprobs, tools=tools)
        self._tools: dict[int, Item] = {}
        self._usage: m.CompletionUsage | None = None
        self._saw_reasoning_content = False
        self._think: ThinkSplitter | None = ThinkSplitter() if options.reasoning_parser == "think_tags" else None
        self.terminated = False

    # -- public -----------------------------------------------------------------------------------------

    @property
    def usage(self) -> m.CompletionUsage | None:
        """Azure's token usage, once its usage chunk has arrived (the translator asks for it)."""
        return self._usage

    @property
    def finished(self) -> bool:
        """Azure sent its finish_reason (the usage chunk and [DONE] may still follow)."""
        return self._out.finish_reason is not None

    def start(self) -> list[m.ResponseStreamEvent]:
        """`response.created` and `response.in_progress`: sent before Azure's first chunk is awaited."""
        snapshot = self._snapshot()
        return [
            m.ResponseCreatedEvent(sequence_number=self._out.next(), response=snapshot),
            m.ResponseInProgressEvent(sequence_number=self._out.next(), response=snapshot),
        ]

    def start_queued(self) -> list[m.ResponseStreamEvent]:
        """A background response's start: `response.created` and `response.queued`, both `queued`;
        ``in_progress`` follows once Azure has answered."""
        queued = structs.replace(self._snapshot(), status="queued")
        return [
            m.ResponseCreatedEvent(sequence_number=self._out.next(), response=queued),
            m.ResponseQueuedEvent(sequence_number=self._out.next(), response=queued),
        ]

    def in_progress(self) -> m.ResponseInProgressEvent:
        return m.ResponseInProgressEvent(sequence_number=self._out.next(), response=self._snapshot())

    def feed(self, data: bytes) -> list[m.ResponseStreamEvent]:
        """The events for one chunk's `data` (JSON bytes). Raises StreamProtocolError for an error chunk."""
        try:
            chunk = _CHUNK.decode(data)
        except msgspec.DecodeError:
            raise StreamProtocolError(_error_text(data)) from None
        events: Events = []
        if isinstance(chunk.usage, m.CompletionUsage):
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.index != 0:
                continue  # the Responses API has one answer; the translator never asks for n > 1
            if isinstance(choice.delta, m.ChatCompletionStreamDelta):
                self._delta(choice, choice.delta, events)
            if isinstance(choice.finish_reason, str) and self._out.finish_reason is None:
                if self._think is not None and self._think.pending:
                    # A held-back partial tag that never completed is text after all.
                    pending, self._think.pending = self._think.pending, ""
                    if self._think.inside:
                        self._reasoning_text(pending, new_part=False, events=events)
                    else:
                        self._text(pending, [], events)
                self._out.finish_reason = choice.finish_reason
                self._out.close_open(events)
                if not self._out.items:
                    # Nothing was said: the JSON route returns one empty message; so does the stream.
                    self._out.open_message(events)
                    self._out.close_open(events)
        return events

    def complete(self) -> list[m.ResponseStreamEvent]:
        """The terminal event once Azure's stream ended normally: `response.completed` or `.incomplete`."""
        events: Events = []
        if self._out.finish_reason is None:
            return self.fail("Azure OpenAI ended the stream without a finish_reason.")
        self._out.close_open(events)
        final = finish(
            self._snapshot(),
            self._out.finals(),
            self._usage,
            self._out.finish_reason,
            created=self._created_at,
        )
        self.terminated = True
        if final.status == "incomplete":
            events.append(m.ResponseIncompleteEvent(sequence_number=self._out.next(), response=final))
        else:
            events.append(m.ResponseCompletedEvent(sequence_number=self._out.next(), response=final))
        return events

    def fail(self, message: str) -> list[m.ResponseStreamEvent]:
        """Close what is open as incomplete and end with `response.failed` carrying `message`."""
        events: Events = []
        self._out.close_open(events, status="incomplete")
        final = self._snapshot()
        final.status = "failed"
        final.output = self._out.finals()
        final.error = m.ResponseError(code="server_error", message=message)
        self.terminated = True
        events.append(m.ResponseFailedEvent(sequence_number=self._out.next(), response=final))
        return events

    # -- chunk handling ---------------------------------------------------------------------------------

    def _delta(self, choice: m.ChatCompletionStreamChoice, delta: m.ChatCompletionStreamDelta, events: Events) -> None:
        if isinstance(delta.reasoning_content, str) and delta.reasoning_content:
            self._saw_reasoning_content = True
            self._reasoning_text(delta.reasoning_content, new_part=False, events=events)
        if isinstance(delta.context, m.AzureChatContext):
            item = self._out.message(events)
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
            item = self._out.message(events)
            part = self._out.part(item, "refusal", events)
            part.pieces.append(delta.refusal)
            events.append(
                m.ResponseRefusalDeltaEvent(
                    sequence_number=self._out.next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    content_index=part.index,
                    delta=delta.refusal,
                )
            )
        if isinstance(delta.tool_calls, list):
            for call in delta.tool_calls:
                self._tool_call(call, events)

    def _text(self, text: str, logprobs: list[m.ChatCompletionTokenLogprob], events: Events) -> None:
        if not text:
            return
        item = self._out.message(events)
        part = self._out.part(item, "output_text", events)
        part.pieces.append(text)
        if self._with_logprobs:
            part.logprobs.extend(logprobs)
        events.append(
            m.ResponseTextDeltaEvent(
                sequence_number=self._out.next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                delta=text,
                logprobs=logprob_items(logprobs) if self._with_logprobs else [],
            )
        )

    def _reasoning_text(self, text: str, *, new_part: bool, events: Events) -> None:
        item = self._out.open
        if item is None or item.kind != "reasoning":
            self._out.close_open(events)
            item = self._out.add(Item("reasoning", len(self._out.items), new_id("rs")), events)
        if new_part and item.summary_open:
            self._out.close_summary(item, events)
        if not item.summary_open:
            item.summaries.append([])
            item.summary_open = True
            events.append(
                m.ResponseReasoningSummaryPartAddedEvent(
                    sequence_number=self._out.next(),
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
                sequence_number=self._out.next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=len(item.summaries) - 1,
                delta=text,
            )
        )

    def _end_think_part(self) -> None:
        if self._think is not None:
            self._think.new_part = True

    def _tool_call(self, call: m.ChatCompletionMessageToolCallChunk, events: Events) -> None:
        function = call.function if isinstance(call.function, m.ChatCompletionFunctionCallChunk) else None
        arguments = function.arguments if function is not None and isinstance(function.arguments, str) else ""
        item = self._tools.get(call.index)
        if item is None:
            name = function.name if function is not None and isinstance(function.name, str) else ""
            call_id = call.id if isinstance(call.id, str) and call.id else new_id("call")
            item = Item("function_call", len(self._out.items), new_id("fc"), tool_index=call.index)
            item.call_id, item.name = call_id, name
            self._tools[call.index] = item
            self._out.add(item, events)
        elif item.done:
            raise StreamProtocolError(
                f"Azure OpenAI sent more of tool call {call.index} after other output had started."
            )
        elif function is not None and isinstance(function.name, str) and function.name and not item.name:
            item.name = function.name
        if arguments:  # Azure's first delta for a call often has empty arguments: no event for it
            item.arguments.append(arguments)
        # A custom tool's or tool search's call is given whole when it closes (its Chat arguments are JSON
        # around what the client sees).
        if arguments and self._out.tools.streams_arguments(item.name):
            events.append(
                m.ResponseFunctionCallArgumentsDeltaEvent(
                    sequence_number=self._out.next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    delta=arguments,
                )
            )

    # -- helpers ----------------------------------------------------------------------------------------

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
