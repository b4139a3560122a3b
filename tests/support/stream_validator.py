"""Checks a streamed body event by event: framing, schemas, sequence and the item lifecycle.

Used by every streaming test. Two layers:

* Structural checks, always: SSE framing (`event:` line, one single-line `data:` line, blank line, LF
  only, event name == JSON `type`), `sequence_number` contiguous from 0, `response.created` then
  `response.in_progress` first with an empty in-progress snapshot, every item added before its deltas and
  closed exactly once, unique and increasing `output_index`, the same `item_id` throughout, joined deltas
  equal to the `.done` text/arguments and to the item in the final Response, exactly one terminal event
  and it is the last one.
* Conformance, when the reference specs in ../shared are present: every event validates against
  OpenAI's schema for its type (`ResponseStreamEvent` in openai-responses-chat-subset.yaml; with
  `Response.usage` nullable, see `_usage_nullable`) and against the Open Responses streaming union
  (openresponses-openapi.json), where an unknown type is an error.
  When ../shared is absent only the structural checks run; `SPECS_PRESENT` says which, and the
  conformance test is skipped with a reason naming ../shared.

../shared is found next to the repository (`Path(__file__).resolve().parents[3] / "shared"`); a checkout
elsewhere (a git worktree) can point at it with the environment variable GATEWAY_SHARED_DIR.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SHARED = Path(os.environ.get("GATEWAY_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
OPENAI_SPEC = SHARED / "specs" / "openai-responses-chat-subset.yaml"
OPEN_RESPONSES_SPEC = SHARED / "specs" / "openresponses-openapi.json"
SPECS_PRESENT = OPENAI_SPEC.exists() and OPEN_RESPONSES_SPEC.exists()
SKIP_REASON = f"../shared specs not available (looked in {SHARED}); only structural stream checks ran"

TERMINAL = {"response.completed", "response.incomplete", "response.failed"}
STATUS_OF_TERMINAL = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
}


class StreamInvalid(AssertionError):
    pass


@dataclass
class StreamResult:
    events: list[dict[str, Any]]
    final: dict[str, Any]
    terminal: str
    schema_checked: bool
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def text(self) -> str:
        return "".join(e["delta"] for e in self.of_type("response.output_text.delta"))


# -- framing --------------------------------------------------------------------------------------------


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Split a Responses SSE body into (event name, JSON) pairs, failing on any framing problem."""
    if b"\r" in body:
        raise StreamInvalid("the stream contains CR characters; events must use LF line endings only")
    text = body.decode("utf-8")
    if not text.endswith("\n\n"):
        raise StreamInvalid("the stream does not end with a blank line after its last event")
    parsed = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        if len(lines) != 2 or not lines[0].startswith("event: ") or not lines[1].startswith("data: "):
            what = "an event is not exactly `event: <type>` + one `data: <json>` line"
            raise StreamInvalid(f"{what}: {block[:200]!r}")
        name = lines[0][len("event: ") :]
        data = json.loads(lines[1][len("data: ") :])
        if not isinstance(data, dict) or data.get("type") != name:
            raise StreamInvalid(f"event name {name!r} differs from its data's type {data.get('type')!r}")
        parsed.append((name, data))
    return parsed


def parse_chat_sse(body: bytes) -> list[Any]:
    """Split a Chat Completions SSE body into JSON payloads (and the final "[DONE]" string)."""
    if b"\r" in body:
        raise StreamInvalid("the stream contains CR characters")
    text = body.decode("utf-8")
    if not text.endswith("\n\n"):
        raise StreamInvalid("the stream does not end with a blank line")
    out: list[Any] = []
    for block in text[:-2].split("\n\n"):
        if not block.startswith("data: ") or "\n" in block:
            raise StreamInvalid(f"a chat event is not one `data:` line: {block[:200]!r}")
        data = block[len("data: ") :]
        out.append(data if data == "[DONE]" else json.loads(data))
    if "[DONE]" in out[:-1]:
        raise StreamInvalid("events follow data: [DONE]")
    return out


# -- schemas --------------------------------------------------------------------------------------------


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` → a JSON-schema null alternative (the OpenAI file still has some)."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _by_type(document: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Validators keyed by event type, each resolving refs inside `document`."""
    components = document["components"]
    validators = {}
    for name in names:
        schema = components["schemas"][name]
        kind = schema["properties"]["type"]["enum"][0]
        validators[kind] = jsonschema.Draft202012Validator({**schema, "components": components})
    return validators


def _usage_nullable(document: dict[str, Any]) -> None:
    """The one known error in OpenAI's schema that a stream cannot avoid: `Response.usage` is not nullable.

    OpenAI's own API sends `"usage": null` in `response.created`/`response.in_progress` (nothing has been
    counted yet), and Open Responses *requires* the key with null allowed; a zero usage would be a lie.
    So the OpenAI document is checked with exactly this one property made nullable, nothing else.
    """
    for part in document["components"]["schemas"]["Response"].get("allOf", []):
        usage = part.get("properties", {}).get("usage")
        if usage is not None:
            part["properties"]["usage"] = {"anyOf": [usage, {"type": "null"}]}


@cache
def openai_validators() -> dict[str, Any]:
    document = _nullable(yaml.safe_load(OPENAI_SPEC.read_text()))
    _usage_nullable(document)
    members = document["components"]["schemas"]["ResponseStreamEvent"]["anyOf"]
    return _by_type(document, [ref["$ref"].rsplit("/", 1)[1] for ref in members])


@cache
def open_responses_validators() -> dict[str, Any]:
    document = json.loads(OPEN_RESPONSES_SPEC.read_text())
    union = document["paths"]["/responses"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    return _by_type(document, [ref["$ref"].rsplit("/", 1)[1] for ref in union["schema"]["oneOf"]])


def check_schemas(event: dict[str, Any]) -> None:
    kind = event["type"]
    both = (("OpenAI", openai_validators()), ("Open Responses", open_responses_validators()))
    for label, validators in both:
        validator = validators.get(kind)
        if validator is None:
            raise StreamInvalid(f"{label}'s streaming union has no event type {kind!r}")
        errors = sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            raise StreamInvalid(
                f"event #{event.get('sequence_number')} ({kind}) fails the {label} schema at "
                f"{where or '<root>'}: {errors[0].message[:300]}"
            )


# -- the checks -----------------------------------------------------------------------------------------


@dataclass
class _Item:
    output_index: int
    id: str
    type: str
    added: dict[str, Any]
    done: dict[str, Any] | None = None
    parts: dict[int, dict[str, Any]] = field(default_factory=dict)  # content_index → state
    summaries: dict[int, dict[str, Any]] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    arguments_done: str | None = None


def _fail(event: dict[str, Any], message: str) -> StreamInvalid:
    return StreamInvalid(f"event #{event.get('sequence_number')} ({event.get('type')}): {message}")


def validate_stream(body: bytes, *, schemas: bool | None = None) -> StreamResult:
    """Check a whole `/v1/responses` SSE body; return the events and the terminal event's Response."""
    return validate_events([data for _, data in parse_sse(body)], schemas=schemas)


def validate_events(events: list[dict[str, Any]], *, schemas: bool | None = None) -> StreamResult:
    """The same checks on one response's events as JSON objects (a WebSocket turn's messages)."""
    schemas = SPECS_PRESENT if schemas is None else schemas
    if not events:
        raise StreamInvalid("no events")
    for number, event in enumerate(events):
        if event.get("sequence_number") != number:
            raise _fail(event, f"sequence_number should be {number}")
        if schemas:
            check_schemas(event)
    # A background stream starts created, queued (both `queued`), then in_progress once Azure answered.
    queued = len(events) > 1 and events[1]["type"] == "response.queued"
    start = ["response.created", "response.queued", "response.in_progress"] if queued else [
        "response.created", "response.in_progress"]  # fmt: skip
    ends_early = queued and len(events) == 3 and events[2]["type"] == "response.failed"  # Azure refused it
    if [e["type"] for e in events[: len(start)]] != start and not ends_early:
        first = [e["type"] for e in events[: len(start)]]
        raise StreamInvalid(f"the stream must start with {', '.join(start)}; got {first}")
    created = events[0]["response"]
    for number, event in enumerate(events[: len(start) - (1 if ends_early else 0)]):
        snapshot = event["response"]
        status = "queued" if queued and number < 2 else "in_progress"
        if snapshot["status"] != status or snapshot["output"] != [] or snapshot["usage"] is not None:
            raise _fail(event, f"the snapshot must be {status} with output [] and usage null")
        if snapshot["completed_at"] is not None or snapshot["id"] != created["id"]:
            raise _fail(event, "the snapshot must have completed_at null and the created id")
    terminals = [i for i, e in enumerate(events) if e["type"] in TERMINAL]
    if len(terminals) != 1 or terminals[0] != len(events) - 1:
        raise StreamInvalid(f"exactly one terminal event, last, expected; at {terminals} of {len(events)}")

    items: dict[int, _Item] = {}
    by_id: dict[str, _Item] = {}
    for event in events[len(start) : -1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            index = event["output_index"]
            if index in items or index != len(items):
                raise _fail(event, f"output_index {index} reused or out of order (expected {len(items)})")
            item = _Item(index, event["item"]["id"], event["item"]["type"], event["item"])
            # Parallel function calls may be open side by side (their argument deltas interleave, each event
            # names its output_index); anything else starts only once everything before it is closed.
            open_kinds = {i.type for i in items.values() if i.done is None}
            if open_kinds and (item.type != "function_call" or open_kinds != {"function_call"}):
                raise _fail(event, "a new item started while the previous one is still open")
            if item.id in by_id:
                raise _fail(event, f"item id {item.id} reused")
            items[index], by_id[item.id] = item, item
            continue
        index = event.get("output_index")
        item = items.get(index)  # type: ignore[arg-type]
        if item is None:
            raise _fail(event, f"output_index {index} has no output_item.added before it")
        if item.done is not None:
            raise _fail(event, f"item {item.id} already closed")
        if "item_id" in event and event["item_id"] != item.id:
            raise _fail(event, f"item_id {event['item_id']} differs from the added item's {item.id}")
        if kind == "response.output_item.done":
            if event["item"]["id"] != item.id or event["item"]["type"] != item.type:
                raise _fail(event, "output_item.done names another item")
            _check_item_done(event, item)
            item.done = event["item"]
        elif kind in ("response.content_part.added", "response.content_part.done"):
            _content_part(event, item)
        elif kind in (
            "response.output_text.delta",
            "response.output_text.done",
            "response.refusal.delta",
            "response.refusal.done",
        ):
            _content_text(event, item)
        elif kind.startswith("response.function_call_arguments."):
            if item.type != "function_call":
                raise _fail(event, "arguments event for a non-function item")
            if item.arguments_done is not None:
                raise _fail(event, "arguments already done")
            if kind.endswith(".delta"):
                item.arguments.append(event["delta"])
            else:
                if event["arguments"] != "".join(item.arguments):
                    raise _fail(event, "arguments differ from the joined deltas")
                if event["name"] != item.added["name"]:
                    raise _fail(event, "name differs from the added item's")
                item.arguments_done = event["arguments"]
        elif kind.startswith("response.reasoning_summary_"):
            _summary(event, item)
        else:
            raise _fail(event, "unexpected event type")

    terminal = events[-1]
    final = terminal["response"]
    if final["id"] != created["id"] or final["created_at"] != created["created_at"]:
        raise _fail(terminal, "the final Response has another id or created_at than response.created")
    if final["status"] != STATUS_OF_TERMINAL[terminal["type"]]:
        raise _fail(terminal, f"status {final['status']} does not match the event")
    if terminal["type"] != "response.failed":
        still_open = [i.id for i in items.values() if i.done is None]
        if still_open:
            raise _fail(terminal, f"items never closed: {still_open}")
    else:
        if not final.get("error") or not final["error"].get("message"):
            raise _fail(terminal, "response.failed needs an error")
    done_items = [items[i].done for i in sorted(items) if items[i].done is not None]
    if final["output"] != done_items:
        raise _fail(terminal, "the final output differs from the items as closed by output_item.done")
    if terminal["type"] == "response.incomplete" and not final.get("incomplete_details"):
        raise _fail(terminal, "response.incomplete needs incomplete_details")
    return StreamResult(
        events=events,
        final=final,
        terminal=terminal["type"],
        schema_checked=schemas,
        items={i.id: i.done or i.added for i in items.values()},
    )


def _content_part(event: dict[str, Any], item: _Item) -> None:
    if item.type != "message":
        raise _fail(event, "content part on a non-message item")
    index = event["content_index"]
    part = event["part"]
    if event["type"].endswith(".added"):
        if index in item.parts or index != len(item.parts):
            raise _fail(event, f"content_index {index} reused or out of order")
        if any(not p["closed"] for p in item.parts.values()):
            raise _fail(event, "a content part started while another is open")
        if part["type"] == "output_text" and (part.get("text") != "" or part.get("annotations") != []):
            raise _fail(event, f"an added output_text part must be empty with annotations []: {part}")
        if part["type"] == "refusal" and part.get("refusal") != "":
            raise _fail(event, f"an added refusal part must be empty: {part}")
        item.parts[index] = {"type": part["type"], "deltas": [], "done_text": None, "closed": False}
        return
    state = item.parts.get(index)
    if state is None or state["closed"]:
        raise _fail(event, f"content_part.done for a part not open ({index})")
    if state["done_text"] is None:
        raise _fail(event, "content_part.done before its text/refusal .done")
    text = part.get("text") if part["type"] == "output_text" else part.get("refusal")
    if part["type"] != state["type"] or text != state["done_text"]:
        raise _fail(event, "content_part.done differs from the streamed text")
    state["closed"] = True
    state["part"] = part


def _content_text(event: dict[str, Any], item: _Item) -> None:
    state = item.parts.get(event["content_index"])
    if state is None or state["closed"]:
        raise _fail(event, "text event for a part that is not open")
    expected = "output_text" if "output_text" in event["type"] else "refusal"
    if state["type"] != expected:
        raise _fail(event, f"{event['type']} on a {state['type']} part")
    if state["done_text"] is not None:
        raise _fail(event, "text event after the part's .done")
    if event["type"].endswith(".delta"):
        state["deltas"].append(event["delta"])
        return
    text = event["text"] if expected == "output_text" else event["refusal"]
    if text != "".join(state["deltas"]):
        raise _fail(event, "the .done text differs from the joined deltas")
    state["done_text"] = text


def _summary(event: dict[str, Any], item: _Item) -> None:
    if item.type != "reasoning":
        raise _fail(event, "reasoning summary event on a non-reasoning item")
    index = event["summary_index"]
    kind = event["type"]
    if kind == "response.reasoning_summary_part.added":
        if index in item.summaries or index != len(item.summaries):
            raise _fail(event, f"summary_index {index} reused or out of order")
        item.summaries[index] = {"deltas": [], "done_text": None, "closed": False}
        return
    state = item.summaries.get(index)
    if state is None or state["closed"]:
        raise _fail(event, "summary event for a part that is not open")
    if kind == "response.reasoning_summary_text.delta":
        if state["done_text"] is not None:
            raise _fail(event, "delta after text.done")
        state["deltas"].append(event["delta"])
    elif kind == "response.reasoning_summary_text.done":
        if event["text"] != "".join(state["deltas"]):
            raise _fail(event, "summary text differs from the joined deltas")
        state["done_text"] = event["text"]
    elif kind == "response.reasoning_summary_part.done":
        if state["done_text"] is None or event["part"].get("text") != state["done_text"]:
            raise _fail(event, "summary part.done differs from its text.done")
        state["closed"] = True
    else:
        raise _fail(event, "unknown reasoning summary event")


def _check_item_done(event: dict[str, Any], item: _Item) -> None:
    final = event["item"]
    if item.type == "message":
        if any(not p["closed"] for p in item.parts.values()):
            raise _fail(event, "message closed with an open content part")
        if len(final["content"]) != len(item.parts):
            raise _fail(event, "the closed message has other content parts than were streamed")
        for index, part in enumerate(final["content"]):
            if part != item.parts[index]["part"]:
                raise _fail(event, f"content[{index}] differs from its content_part.done")
    elif item.type == "function_call":
        if item.arguments_done is None and final["status"] == "completed":
            raise _fail(event, "function call closed without function_call_arguments.done")
        if final["arguments"] != "".join(item.arguments):
            raise _fail(event, "the closed function call's arguments differ from the joined deltas")
        for key in ("call_id", "name"):
            if final[key] != item.added[key]:
                raise _fail(event, f"{key} changed between added and done")
    elif item.type == "reasoning":
        if any(not s["closed"] for s in item.summaries.values()):
            raise _fail(event, "reasoning closed with an open summary part")
        texts = [item.summaries[i]["done_text"] for i in sorted(item.summaries)]
        if [s["text"] for s in final["summary"]] != texts:
            raise _fail(event, "the closed reasoning summary differs from the streamed parts")
