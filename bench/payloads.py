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


def responses_codex() -> dict[str, Any]:
    """A Codex CLI turn 2 as its default configuration sends it (shapes from a capture of Codex 0.171):
    developer messages, function tools, a namespace group, a custom grammar tool, client tool search and
    web search, client_metadata, and the reasoning item replayed with content null before the call and its
    output. The hosted tool is omitted, the rest flattened to functions: the client-tool path's cost."""
    long = _SENTENCE * 40
    function = {k: v for k, v in TOOLS[0].items() if k != "strict"}
    tools: list[dict[str, Any]] = [
        {**function, "name": name, "strict": False} for name in ("exec_command", "write_stdin", "view_image")
    ]
    tools += [
        {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.",
         "tools": [{**function, "name": n} for n in ("spawn_agent", "send_input", "close_agent")]},
        {"type": "custom", "name": "apply_patch", "description": "Apply a patch.",
         "format": {"type": "grammar", "syntax": "lark", "definition": long[:578]}},
        {"type": "tool_search", "execution": "client", "description": "Find tools.",
         "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}},
        {"type": "web_search", "external_web_access": False},
    ]  # fmt: skip
    return {
        "model": "gpt-5.5",
        "stream": False,
        "input": [
            {"type": "message", "id": "msg_1", "role": "developer", "content": [{"type": "input_text", "text": long}]},
            {"type": "message", "id": "msg_2", "role": "user", "content": [{"type": "input_text", "text": "ls"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Run ls."}],
             "content": None, "encrypted_content": None},
            {"type": "function_call", "status": "completed", "id": "fc_1", "name": "exec_command",
             "arguments": '{"cmd": "ls"}', "call_id": "call_1"},
            {"type": "function_call_output", "id": "fco_1", "call_id": "call_1", "output": long[:171]},
        ],
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0f8e6c1a-2b9d-4c1e-9a7b-5d3f2e1c0b9a",
        "client_metadata": {k: "id" for k in ("thread_id", "session_id", "turn_id", "root_turn_id")},
    }  # fmt: skip


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
