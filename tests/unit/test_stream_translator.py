"""The chunk → event translator on its own: hand-written Azure chunks, including the odd ones.

Each stream is framed and checked by `stream_validator.validate_stream`, like the end-to-end ones.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from support.stream_validator import StreamResult, validate_stream

from app.api.sse import frame_response_event as frame
from app.models import generated as m
from app.translate import TranslationOptions
from app.translate.stream import ResponseStream, StreamProtocolError

OPTIONS = TranslationOptions(deployment="gpt-4o-mini")
REQUEST = msgspec.convert({"model": "m", "input": "hi", "stream": True}, m.CreateResponse)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
    if delta is not None:
        choice["delta"] = delta
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "x", "choices": [choice]}
    return json.dumps({**body, **extra}).encode()


PROMPT_FILTER = json.dumps(
    {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": [{}]}
).encode()
FILTER_ONLY = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "x",
        "choices": [
            {"index": 0, "finish_reason": None, "content_filter_results": {}, "content_filter_offsets": {}}
        ],
    }
).encode()
USAGE = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "x",
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
).encode()


def run(chunks: list[bytes], options: TranslationOptions = OPTIONS, *, complete: bool = True) -> StreamResult:
    stream = ResponseStream(REQUEST, options)
    events = stream.start()
    failed = False
    for data in chunks:
        try:
            events += stream.feed(data)
        except StreamProtocolError as exc:
            events += stream.fail(str(exc))
            failed = True
            break
    if not failed:
        events += stream.complete() if complete else stream.fail("connection dropped")
    return validate_stream(b"".join(frame(e) for e in events), schemas=False)


def call(
    index: int, *, id: str | None = None, name: str | None = None, arguments: str = ""
) -> dict[str, Any]:
    part: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if id:
        part.update(id=id, type="function")
        part["function"]["name"] = name
    return {"tool_calls": [part]}


def test_azure_quirks_are_skipped_and_usage_is_kept() -> None:
    result = run(
        [
            PROMPT_FILTER,
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hi"}),
            chunk({"content": " there"}),
            FILTER_ONLY,
            chunk({}, "stop"),
            USAGE,
        ]
    )
    assert result.text == "Hi there"
    assert result.final["usage"]["total_tokens"] == 7
    assert result.final["output"][0]["content"][0]["text"] == "Hi there"


def test_parallel_calls_with_empty_first_argument_deltas() -> None:
    result = run(
        [
            chunk({"role": "assistant", "content": None}),
            chunk(call(0, id="call_a", name="f")),
            chunk(call(0, arguments='{"x"')),
            chunk(call(0, arguments=": 1}")),
            chunk(call(1, id="call_b", name="g")),
            chunk(call(1, arguments="{}")),
            chunk({}, "tool_calls"),
        ]
    )
    first, second = result.final["output"]
    assert (first["call_id"], first["name"], first["arguments"]) == ("call_a", "f", '{"x": 1}')
    assert (second["call_id"], second["name"], second["arguments"]) == ("call_b", "g", "{}")
    assert [e["delta"] for e in result.of_type("response.function_call_arguments.delta")] == [
        '{"x"',
        ": 1}",
        "{}",
    ]


def test_text_then_tool_call_closes_the_message_first() -> None:
    result = run(
        [
            chunk({"content": "Let me check."}),
            chunk(call(0, id="call_a", name="f", arguments="{}")),
            chunk({}, "tool_calls"),
        ]
    )
    assert [item["type"] for item in result.final["output"]] == ["message", "function_call"]


def test_interleaved_parallel_call_deltas_keep_both_calls_open() -> None:
    """Index 0, 1, 0, 1: each delta names its call, so both calls stay open and keep their own arguments."""
    result = run(
        [
            chunk({"role": "assistant", "content": None}),
            chunk(call(0, id="call_a", name="f")),
            chunk(call(1, id="call_b", name="g")),
            chunk(call(0, arguments='{"x"')),
            chunk(call(1, arguments='{"y"')),
            chunk(call(0, arguments=": 1}")),
            chunk(call(1, arguments=": 2}")),
            chunk({}, "tool_calls"),
        ]
    )
    assert result.terminal == "response.completed"
    first, second = result.final["output"]
    assert (first["call_id"], first["name"], first["arguments"]) == ("call_a", "f", '{"x": 1}')
    assert (second["call_id"], second["name"], second["arguments"]) == ("call_b", "g", '{"y": 2}')
    assert [(e["output_index"], e["delta"]) for e in result.of_type("response.function_call_arguments.delta")] == [
        (0, '{"x"'), (1, '{"y"'), (0, ": 1}"), (1, ": 2}"),
    ]  # fmt: skip
    done = result.of_type("response.function_call_arguments.done")
    assert [(e["output_index"], e["arguments"]) for e in done] == [(0, '{"x": 1}'), (1, '{"y": 2}')]


def test_interleaved_calls_equal_the_non_streaming_answer() -> None:
    from app.translate import chat_to_response

    chat = msgspec.convert(
        {
            "id": "c1", "object": "chat.completion", "created": 1, "model": "x",
            "choices": [{
                "index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                    {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": '{"y": 2}'}},
                ]},
            }],
        },
        m.CreateChatCompletionResponse,
    )  # fmt: skip
    expected = msgspec.to_builtins(chat_to_response(chat, REQUEST, OPTIONS).output)
    result = run(
        [
            chunk(call(0, id="call_a", name="f")),
            chunk(call(1, id="call_b", name="g", arguments='{"y"')),
            chunk(call(0, arguments='{"x": 1}')),
            chunk(call(1, arguments=": 2}")),
            chunk({}, "tool_calls"),
        ]
    )
    without_ids = [{k: v for k, v in item.items() if k != "id"} for item in result.final["output"]]
    assert without_ids == [{k: v for k, v in item.items() if k != "id"} for item in expected]


def test_a_failed_stream_closes_every_open_call_incomplete() -> None:
    result = run([chunk(call(0, id="a", name="f", arguments="{")), chunk(call(1, id="b", name="g"))], complete=False)
    assert result.terminal == "response.failed"
    assert [item["status"] for item in result.final["output"]] == ["incomplete", "incomplete"]


def test_a_late_delta_for_a_closed_call_fails_the_response_instead_of_corrupting_it() -> None:
    result = run(
        [
            chunk(call(0, id="a", name="f", arguments="{")),
            chunk({"content": "Now some text."}),
            chunk(call(0, arguments="}")),
        ]
    )
    assert result.terminal == "response.failed"
    assert "tool call 0" in result.final["error"]["message"]


def test_an_error_chunk_fails_the_response_with_azures_message() -> None:
    error = json.dumps({"error": {"code": "server_error", "message": "The model crashed"}}).encode()
    result = run([chunk({"content": "partial"}), error])
    assert result.terminal == "response.failed"
    assert result.final["error"] == {
        "code": "server_error",
        "message": "Azure OpenAI failed mid-stream: The model crashed (code server_error)",
    }
    assert result.final["output"][0]["status"] == "incomplete"


def test_a_stream_that_ends_without_finish_reason_fails() -> None:
    result = run([chunk({"content": "partial"})])
    assert result.terminal == "response.failed"


def test_think_tags_split_across_chunks_become_reasoning() -> None:
    options = TranslationOptions(deployment="d", reasoning_parser="think_tags")
    pieces = ["<thi", "nk>Let me ", "think.</th", "ink>\n\nThe answer", " is 4. <", "b>ok</b>"]
    result = run([chunk({"content": p}) for p in pieces] + [chunk({}, "stop")], options)
    reasoning, message = result.final["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Let me think."}]
    assert message["content"][0]["text"] == "\n\nThe answer is 4. <b>ok</b>"


def test_failed_stream_closes_open_items_as_incomplete() -> None:
    result = run([chunk({"reasoning_content": "hmm"})], complete=False)
    (reasoning,) = result.final["output"]
    assert reasoning["status"] == "incomplete" and result.terminal == "response.failed"


def test_no_content_at_all_gives_one_empty_message() -> None:
    result = run([PROMPT_FILTER, chunk({"role": "assistant", "content": ""}), chunk({}, "content_filter")])
    assert result.terminal == "response.incomplete"
    assert result.final["incomplete_details"] == {"reason": "content_filter"}
    assert result.final["output"][0]["content"][0]["text"] == ""


def test_frames_are_single_line_lf_events() -> None:
    (event, _) = ResponseStream(REQUEST, OPTIONS).start()
    data = frame(event)
    assert data.startswith(b"event: response.created\ndata: {") and data.endswith(b"}\n\n")
    assert data.count(b"\n") == 3 and b"\r" not in data
