"""``POST /v1/responses/compact`` end to end: the openai SDK's ``responses.compact()`` against a real gateway.

The summary is the configured deployment's answer to the conversation plus the gateway's prompt; it comes
back sealed in a ``compaction`` item, which a later ``input`` (HTTP or WebSocket) carries back and the
gateway opens, so Azure sees the summary where the conversation was. A tampered item, or one sealed with
another key, is a 400 naming it; gateways sharing ``compaction_key`` (replicas) open each other's items.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from conftest import Emulator, gateway_settings
from support.servers import running
from support.sockets import turn, ws_url
from support.stream_validator import validate_events
from websockets.sync.client import connect

from app.api.factory import create_app
from app.service.compact import COMPACTION_PROMPT
from app.service.compaction import SUMMARY_HEADING
from app.settings.load import Secret

pytestmark = pytest.mark.usefixtures("clean_emulator")

CONVERSATION = [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Remember the word: slate."}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "OK."}]},
]
SUMMARY = "The user asked to remember the code word slate."


@pytest.fixture(scope="module")
def keyed(emulator: Emulator) -> Iterator[str]:
    """A gateway with a compaction_key (as in production), so other gateways can share or lack it."""
    with running(create_app(gateway_settings(emulator.url, compaction_key=Secret("replica-key")))) as url:
        yield url


def _sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="test", max_retries=0)


def _compact(url: str, emulator: Emulator) -> list[dict[str, Any]]:
    emulator.script({"message": {"content": SUMMARY}})
    compacted = _sdk(url).responses.compact(model="m", input=CONVERSATION)  # type: ignore[arg-type]
    return [item.model_dump(mode="json", exclude_none=True, warnings=False) for item in compacted.output]


def _chat_texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for message in body["messages"]:
        content = message.get("content")
        text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
        out.append((message["role"], text))
    return out


def test_compact_round_trip_with_the_sdk(keyed: str, emulator: Emulator) -> None:
    emulator.script({"message": {"content": SUMMARY}})
    compacted = _sdk(keyed).responses.compact(model="anything", input=CONVERSATION)  # type: ignore[arg-type]
    assert compacted.object == "response.compaction"
    assert compacted.id.startswith("resp_") and isinstance(compacted.created_at, int)
    assert compacted.usage is not None and compacted.usage.total_tokens > 0
    # The user's words are kept as they were, the rest is one sealed item the client cannot read.
    user, item = compacted.output
    assert user.type == "message" and user.role == "user" and user.id.startswith("msg_")
    assert user.model_dump(mode="json", warnings=False)["content"][0]["text"] == "Remember the word: slate."
    assert item.type == "compaction" and item.id.startswith("cmp_")
    assert "slate" not in item.encrypted_content
    # Azure was asked for the summary: the conversation, then the gateway's prompt as the last user message.
    assert _chat_texts(emulator.last_body()) == [
        ("user", "Remember the word: slate."),
        ("assistant", "OK."),
        ("user", COMPACTION_PROMPT),
    ]

    # The next request carries the compacted window back; Azure sees the summary in the item's place.
    items = [entry.model_dump(mode="json", exclude_none=True, warnings=False) for entry in compacted.output]
    answer = _sdk(keyed).responses.create(model="m", input=[*items, {"role": "user", "content": "Continue."}])
    assert answer.status == "completed"
    roles = _chat_texts(emulator.last_body())
    assert roles[0] == ("user", "Remember the word: slate.")
    assert roles[1][0] in ("developer", "system")
    assert roles[1][1] == f"{SUMMARY_HEADING}\n{SUMMARY}"
    assert roles[2] == ("user", "Continue.")


def test_a_compacted_window_starts_a_new_websocket_chain(keyed: str, emulator: Emulator) -> None:
    items = _compact(keyed, emulator)
    with connect(ws_url(keyed)) as socket:
        events = turn(socket, model="m", store=False, tools=[], input=[*items, {"role": "user", "content": "Go on."}])
    assert validate_events(events).terminal == "response.completed"
    assert _chat_texts(emulator.last_body())[1][1].endswith(SUMMARY)


def test_a_compacted_window_can_be_compacted_again(keyed: str, emulator: Emulator) -> None:
    items = _compact(keyed, emulator)
    emulator.script({"message": {"content": "Shorter still."}})
    again = _sdk(keyed).responses.compact(model="m", input=[*items, {"role": "user", "content": "More."}])
    assert [entry.type for entry in again.output] == ["message", "message", "compaction"]
    sent = _chat_texts(emulator.last_body())
    assert sent[1][1].endswith(SUMMARY) and sent[-1] == ("user", COMPACTION_PROMPT)


def test_a_tampered_item_is_a_400_naming_it(keyed: str, emulator: Emulator) -> None:
    user, item = _compact(keyed, emulator)
    sealed = item["encrypted_content"]
    item["encrypted_content"] = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    emulator.clear()
    reply = httpx.post(f"{keyed}/v1/responses", json={"model": "m", "input": [user, item]})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == "input[1].encrypted_content"
    assert error["code"] == "invalid_encrypted_content"
    assert item["id"] in error["message"]
    assert emulator.requests() == []  # refused before anything reached Azure


def test_replicas_sharing_the_key_open_each_others_items_and_others_refuse_them(
    keyed: str, emulator: Emulator
) -> None:
    items = _compact(keyed, emulator)
    body = {"model": "m", "input": [*items, {"role": "user", "content": "Continue."}]}
    same = create_app(gateway_settings(emulator.url, compaction_key=Secret("replica-key")))
    other = create_app(gateway_settings(emulator.url, compaction_key=Secret("another-key")))
    unset = create_app(gateway_settings(emulator.url))  # a random per-process key
    with running(same) as same_url, running(other) as other_url, running(unset) as unset_url:
        assert httpx.post(f"{same_url}/v1/responses", json=body).status_code == 200
        for url in (other_url, unset_url):
            reply = httpx.post(f"{url}/v1/responses", json=body)
            assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_encrypted_content"


def test_an_item_not_made_by_the_gateway_is_refused(gateway_url: str) -> None:
    foreign = {"type": "compaction", "id": "cmp_001", "encrypted_content": "gAAAAABpM0Yj-...="}
    reply = httpx.post(f"{gateway_url}/v1/responses", json={"model": "m", "input": [foreign]})
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "input[0].encrypted_content"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": "Compact this."}, "model", "missing_required_parameter"),
        ({"model": "m"}, "input", None),
        ({"model": "m", "input": []}, "input", None),
        ({"model": "m", "input": "x", "previous_response_id": "resp_1"}, "previous_response_id", None),
        ({"model": "m", "input": "x", "stream": True}, "stream", "unknown_parameter"),
    ],
)
def test_bad_compact_requests_are_400(
    gateway_url: str, body: dict[str, Any], param: str, code: str | None
) -> None:
    reply = httpx.post(f"{gateway_url}/v1/responses/compact", json=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


def test_context_management_is_refused_with_the_way_to_compact(gateway_url: str) -> None:
    body = {"model": "m", "input": "x", "context_management": [{"type": "compaction", "compact_threshold": 2000}]}
    reply = httpx.post(f"{gateway_url}/v1/responses", json=body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "context_management" and "/v1/responses/compact" in error["message"]


def test_compact_continues_a_stored_chain(keyed: str, emulator: Emulator) -> None:
    """previous_response_id on compact: the stored chain comes first, as in a create."""
    first = _sdk(keyed).responses.create(model="m", input="The launch is on Tuesday.")
    emulator.script({"message": {"content": SUMMARY}})
    compacted = _sdk(keyed).responses.compact(model="m", previous_response_id=first.id, input="And notify support.")
    texts = [entry.model_dump(mode="json", warnings=False)["content"][0]["text"] for entry in compacted.output[:-1]]
    assert texts == ["The launch is on Tuesday.", "And notify support."]
    sent = _chat_texts(emulator.last_body())
    assert [role for role, _ in sent] == ["user", "assistant", "user", "user"]
    assert sent[-1] == ("user", COMPACTION_PROMPT)
