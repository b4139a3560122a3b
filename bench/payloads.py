"""Request bodies for the bench: Responses and Chat Completions, small and a 50-turn agent conversation.

The direct-call bodies (what a client would send to Azure itself) are produced by the gateway's own
translator, so "direct" and "through the gateway" put exactly the same bytes on the upstream wire.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from app.translate import TranslationOptions, responses_to_chat
from app.translate.chat import chat_for_azure
from app.wire.decode import decode_chat_request, decode_create_response

MODEL = "gpt-4o-mini"
TURNS = 50

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look up, in plain words."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "description": "How many results."},
                "filters": {
                    "type": "object",
                    "properties": {"since": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
                    "additionalProperties": False,
                    "required": ["since", "tags"],
                },
            },
            "required": ["query", "limit", "filters"],
            "additionalProperties": False,
        },
        "strict": True,
    }
    for name, description in [
        ("search_docs", "Search the product documentation and return matching passages."),
        ("read_file", "Read a file from the repository and return its text."),
        ("run_tests", "Run the test suite, or a subset of it, and return the failures."),
        ("open_ticket", "Open a ticket in the tracker with a title and a body."),
    ]
]

_SENTENCE = "The quick brown fox jumps over the lazy dog while the build keeps running in the background. "


def responses_small(stream: bool = False, max_output_tokens: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "input": "Say hello in one short sentence."}
    if stream:
        body["stream"] = True
    if max_output_tokens is not None:
        body["max_output_tokens"] = max_output_tokens
    return body


def responses_large() -> dict[str, Any]:
    """A 50-turn agent conversation with tool calls and tool results: about 50 KB of JSON."""
    items: list[dict[str, Any]] = []
    for turn in range(TURNS):
        call_id = f"call_{turn:04d}abcdefghijklmnop"
        items.append({"role": "user", "content": f"Step {turn}: " + _SENTENCE * 2})
        items.append(
            {
                "type": "function_call",
                "call_id": call_id,
                "name": TOOLS[turn % len(TOOLS)]["name"],
                "arguments": json.dumps({"query": f"step {turn} " + _SENTENCE[:60], "limit": 5,
                                         "filters": {"since": "2024-01-01", "tags": ["a", "b"]}}),
            }
        )
        items.append({"type": "function_call_output", "call_id": call_id, "output": _SENTENCE * 3})
        items.append(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": f"Done with step {turn}. " + _SENTENCE}],
            }
        )
    items.append({"role": "user", "content": "Summarise what we did."})
    return {
        "model": MODEL,
        "instructions": "You are a careful coding agent. Use the tools when they help.",
        "input": items,
        "tools": TOOLS,
        "tool_choice": "auto",
        "temperature": 0.2,
        "max_output_tokens": 256,
    }


def chat_small(stream: bool = False, max_tokens: int | None = None) -> dict[str, Any]:
    message = {"role": "user", "content": "Say hello in one short sentence."}
    body: dict[str, Any] = {"model": MODEL, "messages": [message]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def upstream_body(route: str, body: dict[str, Any], deployment: str = MODEL) -> bytes:
    """The Chat Completions body the gateway sends Azure for ``body`` on ``route`` (streaming kept as asked)."""
    options = TranslationOptions(deployment=deployment)
    stream = bool(body.get("stream"))
    plain = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    if route == "/v1/responses":
        chat = responses_to_chat(decode_create_response(encode(plain)), options)
    else:
        chat = chat_for_azure(decode_chat_request(encode(plain)), options)
    out = msgspec.json.decode(msgspec.json.encode(chat))
    if stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return encode(out)
