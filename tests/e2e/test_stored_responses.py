"""Stored responses end to end: the openai SDK against a real gateway on the emulator.

``store`` (default true) keeps every finished response - JSON or streamed, completed, incomplete or failed -
before the client gets it; ``previous_response_id`` replays the chain; retrieve, delete and input_items
answer in OpenAI's shapes. Each test runs on an SQLite file and on Postgres (support.store_backends);
tests/e2e/test_store_backends.py adds a restart on SQLite and two processes on one Postgres.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import support.store_backends as backends
from conftest import Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.settings.load import Secret

# Every test here runs on an SQLite file and on Postgres: the module-scoped gateway of support.store_backends.
gateway_url, client, http = backends.gateway_url, backends.client, backends.http


def _messages(emulator: Emulator) -> list[dict[str, Any]]:
    return list(emulator.last_body()["messages"])


def test_a_response_is_stored_retrieved_listed_and_deleted(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    created = client.responses.create(model="m", input="Hello there", metadata={"k": "v"})
    assert created.store is True
    got = client.responses.retrieve(created.id)
    assert got.model_dump() == created.model_dump()
    items = client.responses.input_items.list(created.id)
    assert [(i.type, i.role, i.content[0].text) for i in items.data] == [("message", "user", "Hello there")]
    assert items.data[0].id.startswith("msg_") and items.first_id == items.last_id == items.data[0].id
    assert client.responses.delete(created.id) is None
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.retrieve(created.id)
    assert info.value.body["message"] == f"Response with id '{created.id}' not found."  # type: ignore[index]


def test_previous_response_id_replays_the_chain_without_earlier_instructions(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    first = client.responses.create(model="m", input="My name is Ada.", instructions="Speak like a pirate.")
    second = client.responses.create(model="m", input="What is my name?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert second.instructions is None
    sent = _messages(clean_emulator)
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]  # no system: instructions not inherited
    assert sent[0]["content"] == [{"type": "text", "text": "My name is Ada."}]
    assert sent[1]["content"] == first.output_text
    third = client.responses.create(
        model="m", input="And again?", previous_response_id=second.id, instructions="Be brief."
    )
    sent = _messages(clean_emulator)
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[0]["content"] == "Be brief."
    # input_items lists only the response's own input, not the chain's.
    assert [i.content[0].text for i in client.responses.input_items.list(third.id).data] == ["And again?"]


def test_streamed_responses_are_stored_before_the_stream_completes(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    with client.responses.stream(model="m", input="Stream me") as stream:
        for event in stream:
            if event.type == "response.completed":
                # The follow-up is sent the moment the terminal event arrives (LiteLLM lost these).
                follow = client.responses.create(model="m", input="next", previous_response_id=event.response.id)
                streamed = event.response
    assert follow.previous_response_id == streamed.id
    assert [m["role"] for m in _messages(clean_emulator)] == ["user", "assistant", "user"]
    assert client.responses.retrieve(streamed.id).output_text == streamed.output_text
    chained = client.responses.create(model="m", input="third", previous_response_id=follow.id, stream=True)
    final = next(event for event in chained if event.type == "response.completed").response
    assert final.previous_response_id == follow.id
    assert len(_messages(clean_emulator)) == 5


def test_incomplete_and_failed_responses_are_stored(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    clean_emulator.script({"message": {"content": "partial"}, "finish_reason": "length"})
    incomplete = client.responses.create(model="m", input="long answer please", max_output_tokens=16)
    assert incomplete.status == "incomplete"
    assert client.responses.retrieve(incomplete.id).status == "incomplete"
    clean_emulator.script({"fault": "reset", "after_bytes": 10})
    events = list(client.responses.create(model="m", input="break", stream=True))
    failed = events[-1]
    assert failed.type == "response.failed"
    stored = client.responses.retrieve(failed.response.id)
    assert stored.status == "failed" and stored.error is not None


def test_unknown_deleted_and_unstored_ids_are_previous_response_not_found(
    client: openai.OpenAI, http: httpx.Client, clean_emulator: Emulator
) -> None:
    unstored = client.responses.create(model="m", input="forget me", store=False)
    assert unstored.store is False
    deleted = client.responses.create(model="m", input="delete me")
    client.responses.delete(deleted.id)
    for ident in ("resp_unknown", unstored.id, deleted.id):
        reply = http.post("/v1/responses", json={"model": "m", "input": "x", "previous_response_id": ident})
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"] == {
            "message": f"Previous response with id '{ident}' not found.",
            "type": "invalid_request_error",
            "param": "previous_response_id",
            "code": "previous_response_not_found",
        }
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_a_gap_in_the_chain_is_an_error_not_a_shorter_history(
    client: openai.OpenAI, http: httpx.Client, clean_emulator: Emulator
) -> None:
    first = client.responses.create(model="m", input="one")
    second = client.responses.create(model="m", input="two", previous_response_id=first.id)
    client.responses.delete(first.id)
    reply = http.post("/v1/responses", json={"model": "m", "input": "x", "previous_response_id": second.id})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "previous_response_not_found"
    assert first.id in reply.json()["error"]["message"]


def test_input_items_pages_like_openai(client: openai.OpenAI, http: httpx.Client, clean_emulator: Emulator) -> None:
    texts = [f"part {n}" for n in range(5)]
    created = client.responses.create(model="m", input=[{"role": "user", "content": t} for t in texts])
    first = client.responses.input_items.list(created.id, limit=2, order="asc")
    assert [i.content[0].text for i in first.data] == texts[:2] and first.has_more
    rest = client.responses.input_items.list(created.id, limit=10, order="asc", after=first.last_id)
    assert [i.content[0].text for i in rest.data] == texts[2:] and not rest.has_more
    every = [item.content[0].text for item in client.responses.input_items.list(created.id, limit=2)]
    assert every == texts[::-1]  # the SDK's auto-pagination (desc by default) follows `after`
    before = http.get(f"/v1/responses/{created.id}/input_items", params={"order": "asc", "before": rest.data[0].id})
    assert [i["content"][0]["text"] for i in before.json()["data"]] == texts[:2]
    for params, param in (({"limit": 0}, "limit"), ({"order": "up"}, "order"), ({"after": "msg_x"}, "after")):
        bad = http.get(f"/v1/responses/{created.id}/input_items", params=params)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == param, bad.text
    bad = http.get(f"/v1/responses/{created.id}", params={"include[]": "file_search_call.results"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "include[0]"
    ok = http.get(f"/v1/responses/{created.id}", params={"include[]": "message.output_text.logprobs"})
    assert ok.status_code == 200


def test_replayed_tool_calls_and_outputs_survive_the_chain(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    asked = client.responses.create(model="m", input="What's the weather in Paris?", tools=[tool])  # type: ignore[list-item]
    call = asked.output[-1]
    assert call.type == "function_call"
    answered = client.responses.create(
        model="m",
        previous_response_id=asked.id,
        tools=[tool],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
    )
    sent = _messages(clean_emulator)
    assert sent[1]["tool_calls"][0]["id"] == call.call_id
    assert sent[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny"}
    listed = client.responses.input_items.list(answered.id)
    assert listed.data[0].type == "function_call_output" and listed.data[0].id.startswith("fco_")


@pytest.fixture(scope="module")
def keyed_gateway(emulator: Emulator) -> Iterator[str]:
    settings = gateway_settings(emulator.url, gateway_api_keys=(Secret("key-a"), Secret("key-b")))
    with running(create_app(settings)) as url:
        yield url


def test_another_keys_ids_look_unknown(keyed_gateway: str, clean_emulator: Emulator) -> None:
    a = openai.OpenAI(base_url=f"{keyed_gateway}/v1", api_key="key-a", max_retries=0)
    b = openai.OpenAI(base_url=f"{keyed_gateway}/v1", api_key="key-b", max_retries=0)
    mine = a.responses.create(model="m", input="secret")
    conversation = a.conversations.create()
    with pytest.raises(openai.NotFoundError) as other:
        b.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError) as unknown:
        b.responses.retrieve("resp_" + "0" * 48)
    assert other.value.body["message"].replace(mine.id, "X") == unknown.value.body["message"].replace(  # type: ignore[index]
        "resp_" + "0" * 48, "X"
    )
    with pytest.raises(openai.BadRequestError) as chained:
        b.responses.create(model="m", input="x", previous_response_id=mine.id)
    assert chained.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        b.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        b.conversations.retrieve(conversation.id)
    assert a.responses.retrieve(mine.id).id == mine.id  # still there for its owner


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/responses/resp_x", "DELETE, GET, OPTIONS"),
        ("/v1/responses/resp_x/input_items", "GET, OPTIONS"),
        ("/v1/conversations/conv_x", "DELETE, GET, OPTIONS, POST"),
        ("/v1/conversations/conv_x/items", "GET, OPTIONS, POST"),
        ("/v1/conversations/conv_x/items/msg_x", "DELETE, GET, OPTIONS"),
    ],
)
def test_options_lists_every_method_of_the_path(http: httpx.Client, path: str, allow: str) -> None:
    """Litestar's own OPTIONS listed only one handler's method on shared paths (see app/api/allow.py)."""
    assert http.options(path).headers["allow"] == allow


def test_replayed_reasoning_follows_reasoning_replay(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    """The session gateway runs reasoning_replay = drop: a stored reasoning item is not sent on."""
    clean_emulator.script({"message": {"content": "Paris.", "reasoning_content": "The capital of France."}})
    first = client.responses.create(model="m", input="Capital of France?")
    assert [item.type for item in first.output] == ["reasoning", "message"]
    client.responses.create(model="m", input="And Italy?", previous_response_id=first.id)
    sent = _messages(clean_emulator)
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "Paris."  # no reasoning text, no <think> block
