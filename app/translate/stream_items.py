"""The output items of one streamed Response: ids, indexes and the events that open and close them.

`ResponseStream` (stream.py) decides what each Azure chunk means; this module keeps the bookkeeping
every Responses stream owes its client: `sequence_number` from 0, `output_index` in the order items
start, an `.added` event before any delta, exactly one `.done` per item and content part, and each
closed item's final form built by the JSON route's own code (`output_items`), so a stream's final
Response equals the non-streaming one.

At most one reasoning or message item is open at a time, but function calls stay open side by side: Azure
may interleave the argument deltas of parallel calls (index 0, 1, 0 - each delta names its call), so a call
is closed only when Azure finishes, fails, or something other than a call starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from msgspec import UNSET, structs

from app.models import generated as m
from app.translate.options import TranslationOptions
from app.translate.response import incomplete_reason, new_id, output_items
from app.translate.tools import ToolSet

Events = list[m.ResponseStreamEvent]


class StreamProtocolError(Exception):
    """Azure's stream broke the rules in a way that cannot be translated faithfully."""


@dataclass
class Part:
    kind: Literal["output_text", "refusal"]
    index: int
    pieces: list[str] = field(default_factory=list)
    logprobs: list[m.ChatCompletionTokenLogprob] = field(default_factory=list)
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class Item:
    kind: Literal["reasoning", "message", "function_call"]
    output_index: int
    id: str
    done: bool = False
    final: m.OutputItem | None = None
    # message
    parts: list[Part] = field(default_factory=list)
    context: m.AzureChatContext | None = None
    # reasoning: one list of pieces per summary part
    summaries: list[list[str]] = field(default_factory=list)
    summary_open: bool = False
    # function call
    tool_index: int = -1
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamItems:
    """The items of one stream, in order: at most one open message or reasoning item, any open calls."""

    def __init__(
        self, message_options: TranslationOptions, *, with_logprobs: bool, tools: ToolSet | None = None
    ) -> None:
        self._message_options = message_options
        self._with_logprobs = with_logprobs
        # How each call is given back (function, custom tool call, tool search call), as in the JSON route.
        self.tools = tools or ToolSet()
        self.items: list[Item] = []
        self.open: Item | None = None
        """The open message or reasoning item."""
        self.open_calls: list[Item] = []
        """The function calls still taking argument deltas, in output_index order."""
        # Azure's finish_reason once it arrived: an item still open then closes `incomplete` on a
        # length/content_filter stop, and one closed without any finish_reason (a failure) too.
        self.finish_reason: str | None = None
        self._sequence = 0

    def next(self) -> int:
        number = self._sequence
        self._sequence += 1
        return number

    def finals(self) -> list[m.OutputItem]:
        return [item.final for item in self.items if item.final is not None]

    def message(self, events: Events) -> Item:
        item = self.open
        if item is not None and item.kind == "message":
            return item
        return self.open_message(events)

    def open_message(self, events: Events) -> Item:
        self.close_open(events)
        return self.add(Item("message", len(self.items), new_id("msg")), events)

    def add(self, item: Item, events: Events) -> Item:
        """Start ``item``: a call joins the open calls; anything else first closes what is open."""
        if item.kind == "function_call":
            if self.open is not None:
                self.close_open_item(events)
            self.open_calls.append(item)
        else:
            self.close_open(events)
            self.open = item
        self.items.append(item)
        added: m.OutputItem
        if item.kind == "message":
            added = m.OutputMessage(id=item.id, role="assistant", content=[], status="in_progress")
        elif item.kind == "reasoning":
            added = m.ReasoningItem(id=item.id, summary=[], status="in_progress")
        else:
            added = self.tools.output_item(
                id=item.id, call_id=item.call_id, name=item.name, arguments="", status="in_progress"
            )
        events.append(
            m.ResponseOutputItemAddedEvent(sequence_number=self.next(), output_index=item.output_index, item=added)
        )
        return item

    def part(self, item: Item, kind: Literal["output_text", "refusal"], events: Events) -> Part:
        if item.parts and not item.parts[-1].done:
            if item.parts[-1].kind == kind:
                return item.parts[-1]
            self.close_part(item, item.parts[-1], events)
        for part in item.parts:
            if part.kind == kind:
                # Text after a refusal (or the reverse) and back again: Chat has one string of each, so
                # the Responses message has one part of each; a closed part cannot take more deltas.
                raise StreamProtocolError(f"Azure OpenAI interleaved {kind} with other content.")
        return self.open_part(kind, events, item)

    def open_part(self, kind: Literal["output_text", "refusal"], events: Events, item: Item | None = None) -> Part:
        item = item or self.open
        assert item is not None and item.kind == "message"
        part = Part(kind, len(item.parts))
        item.parts.append(part)
        content: m.OutputMessageContent = (
            m.OutputTextContent(text="", annotations=[], logprobs=[])
            if kind == "output_text"
            else m.RefusalContent(refusal="")
        )
        events.append(
            m.ResponseContentPartAddedEvent(
                sequence_number=self.next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                part=content,
            )
        )
        return part

    def close_open(self, events: Events, *, status: str | None = None) -> None:
        """Close every open item, in output_index order; by default as Azure's finish_reason says."""
        if status is None:
            status = "incomplete" if incomplete_reason(self.finish_reason) else "completed"
        for item in sorted([*self.open_calls, *([self.open] if self.open else [])], key=lambda i: i.output_index):
            self.close(item, events, status=status)

    def close_open_item(self, events: Events) -> None:
        """Close the open message or reasoning item (a call is starting; other calls stay open)."""
        if self.open is not None:
            status = "incomplete" if incomplete_reason(self.finish_reason) else "completed"
            self.close(self.open, events, status=status)

    def close(self, item: Item, events: Events, *, status: str) -> None:
        if item is self.open:
            self.open = None
        elif item in self.open_calls:
            self.open_calls.remove(item)
        item.done = True
        final: m.OutputItem
        failed = status == "incomplete" and self.finish_reason is None
        if item.kind == "message":
            if not item.parts:
                self.open_part("output_text", events, item)  # a message always has a text or refusal part
            final = self.final_message(item, status)
            for part in item.parts:
                if not part.done:
                    self.close_part(item, part, events, final)
        elif item.kind == "reasoning":
            if item.summary_open:
                self.close_summary(item, events)
            final = m.ReasoningItem(
                id=item.id,
                summary=[m.SummaryTextContent(type="summary_text", text="".join(p)) for p in item.summaries],
                status="incomplete" if failed else "completed",
            )
        else:
            arguments = "".join(item.arguments)
            final = self.tools.output_item(
                id=item.id,
                call_id=item.call_id,
                name=item.name,
                arguments=arguments,
                status="incomplete" if failed else "completed",
            )
            if isinstance(final, m.FunctionToolCall):
                events.append(
                    m.ResponseFunctionCallArgumentsDoneEvent(
                        sequence_number=self.next(),
                        item_id=item.id,
                        output_index=item.output_index,
                        name=final.name,
                        arguments=arguments,
                    )
                )
        item.final = final
        events.append(
            m.ResponseOutputItemDoneEvent(sequence_number=self.next(), output_index=item.output_index, item=final)
        )

    def final_message(self, item: Item, status: str) -> m.OutputMessage:
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
        (built,) = output_items(choice, self._message_options, status=status, with_logprobs=self._with_logprobs)
        assert isinstance(built, m.OutputMessage)
        by_kind = {type(content): content for content in built.content}
        # Parts in the order they were streamed (content_index), as the JSON route would order them.
        content = [
            by_kind.get(m.OutputTextContent if p.kind == "output_text" else m.RefusalContent) for p in item.parts
        ]
        built.content = [c for c in content if c is not None] or built.content
        return structs.replace(built, id=item.id)

    def close_part(self, item: Item, part: Part, events: Events, final: m.OutputMessage | None = None) -> None:
        part.done = True
        if final is None:
            final = self.final_message(item, "completed")
        content = final.content[part.index] if part.index < len(final.content) else None
        if part.kind == "output_text":
            assert isinstance(content, m.OutputTextContent)
            events.append(
                m.ResponseTextDoneEvent(
                    sequence_number=self.next(),
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
                    sequence_number=self.next(),
                    item_id=item.id,
                    output_index=item.output_index,
                    content_index=part.index,
                    refusal=content.refusal,
                )
            )
        events.append(
            m.ResponseContentPartDoneEvent(
                sequence_number=self.next(),
                item_id=item.id,
                output_index=item.output_index,
                content_index=part.index,
                part=content,
            )
        )

    def close_summary(self, item: Item, events: Events) -> None:
        item.summary_open = False
        index = len(item.summaries) - 1
        text = "".join(item.summaries[index])
        events.append(
            m.ResponseReasoningSummaryTextDoneEvent(
                sequence_number=self.next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=index,
                text=text,
            )
        )
        events.append(
            m.ResponseReasoningSummaryPartDoneEvent(
                sequence_number=self.next(),
                item_id=item.id,
                output_index=item.output_index,
                summary_index=index,
                part=m.SummaryTextContent(type="summary_text", text=text),
            )
        )
