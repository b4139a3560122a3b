"""Background responses end to end (issue 16): the openai SDK's ``create(background=True)``, ``retrieve``,
``cancel`` and ``retrieve(stream=True, starting_after=N)`` against a real gateway on the emulator, on an SQLite
file and on Postgres (support.store_backends). Runs that need a held Azure call use the emulator's stream gates
(``POST /_emulator/gates/{name}`` releases one), so no test depends on timing to catch a run mid-way.
tests/e2e/test_background_processes.py covers what needs several processes: a resume or a cancel on another
process, and a process that dies or is stopped mid-run.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest
import support.store_backends as backends
from conftest import Emulator, gateway_settings
from support.background import gated, open_gate, wait_for
from support.servers import running
from support.stream_validator import SKIP_REASON, SPECS_PRESENT, validate_stream

from app.api.factory import create_app

gateway_url, client, http = backends.gateway_url, backends.client, backends.http


def test_a_background_response_is_queued_at_once_and_polled_to_completion(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    gate = gated(clean_emulator, "Otters hold hands while they sleep.")
    created = client.responses.create(model="m", input="Tell me about otters.", background=True)
    assert created.status == "queued" and created.background is True and created.output == []
    running_now = wait_for(client, created.id, "in_progress")  # Azure answered; its stream waits at the gate
    assert running_now.output == []
    open_gate(clean_emulator, gate)
    done = wait_for(client, created.id, "completed")
    assert done.output_text == "Otters hold hands while they sleep."
    assert done.usage is not None and done.usage.output_tokens > 0
    assert done.id == created.id and done.background is True
    items = client.responses.input_items.list(created.id)
    assert [i.content[0].text for i in items.data] == ["Tell me about otters."]  # type: ignore[union-attr]
    # A finished background response chains like any other.
    follow = client.responses.create(model="m", input="And beavers?", previous_response_id=created.id)
    assert [m["role"] for m in clean_emulator.last_body()["messages"]] == ["user", "assistant", "user"]
    assert follow.status == "completed"


def test_a_background_stream_is_resumed_after_any_event(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    clean_emulator.script({"message": {"content": "one two three four five six"}})
    stream = client.responses.create(model="m", input="Count.", background=True, stream=True)
    events = list(stream)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[0].response.status == "queued"
    assert events[1].type == "response.queued" and events[1].response.status == "queued"
    assert events[2].type == "response.in_progress" and events[-1].type == "response.completed"
    response_id = events[0].response.id
    assert client.responses.retrieve(response_id).output_text == "one two three four five six"
    for after in (0, 3, len(events) - 2):
        resumed = list(client.responses.retrieve(response_id, stream=True, starting_after=after))
        assert [e.sequence_number for e in resumed] == list(range(after + 1, len(events)))
        assert [e.model_dump() for e in resumed] == [e.model_dump() for e in events[after + 1 :]]
    everything = list(client.responses.retrieve(response_id, stream=True))
    assert [e.model_dump() for e in everything] == [e.model_dump() for e in events]


def test_a_client_that_leaves_the_stream_does_not_stop_the_run(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    gate = gated(clean_emulator, "still here")
    stream = client.responses.create(model="m", input="Go.", background=True, stream=True)
    first = next(iter(stream))
    stream.close()  # gone before Azure said a word
    open_gate(clean_emulator, gate)
    assert wait_for(client, first.response.id, "completed").output_text == "still here"
    resumed = list(client.responses.retrieve(first.response.id, stream=True, starting_after=first.sequence_number))
    assert resumed[0].sequence_number == first.sequence_number + 1 and resumed[-1].type == "response.completed"


def test_a_live_resume_follows_the_run_until_it_ends(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    gate = gated(clean_emulator, "live words")
    created = client.responses.create(model="m", input="Go.", background=True, stream=True)
    first = next(iter(created))
    created.close()
    wait_for(client, first.response.id, "in_progress")
    resumed = client.responses.retrieve(first.response.id, stream=True, starting_after=0)
    open_gate(clean_emulator, gate)
    events = list(resumed)
    assert [e.type for e in events[:2]] == ["response.queued", "response.in_progress"]
    assert events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "live words"


def test_cancel_stops_the_azure_call_and_is_idempotent(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    gate = gated(clean_emulator, "never said")
    created = client.responses.create(model="m", input="Go.", background=True)
    wait_for(client, created.id, "in_progress")
    cancelled = client.responses.cancel(created.id)
    assert cancelled.status == "cancelled" and cancelled.id == created.id
    open_gate(clean_emulator, gate)  # had the call not been aborted, its answer would now arrive
    time.sleep(0.3)
    assert client.responses.retrieve(created.id).status == "cancelled"
    assert client.responses.cancel(created.id).status == "cancelled"  # twice: the same answer


def test_cancel_answers_what_cannot_be_cancelled(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    done = client.responses.create(model="m", input="Hi.", background=True)
    finished = wait_for(client, done.id, "completed")
    assert client.responses.cancel(done.id).model_dump() == finished.model_dump()  # ended: as it is
    plain = client.responses.create(model="m", input="Hi.")
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.cancel(plain.id)
    assert info.value.code == "response_not_cancellable"
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_nonexistent")
    # A bodiless POST with no Content-Type is a cancel, not a body to judge (curl -X POST …/cancel).
    raw = httpx.post(f"{client.base_url}responses/{done.id}/cancel")
    assert raw.status_code == 200 and raw.json()["status"] == "completed"


def test_a_failed_azure_call_fails_the_run_with_azure_s_reason(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    clean_emulator.script({"fault": "content_filter"})
    created = client.responses.create(model="m", input="Go.", background=True)
    failed = wait_for(client, created.id, "failed")
    assert failed.error is not None and "content management policy" in failed.error.message
    clean_emulator.script({"fault": "content_filter"})
    events = list(client.responses.create(model="m", input="Go.", background=True, stream=True))
    assert [e.type for e in events] == ["response.created", "response.queued", "response.failed"]


@pytest.mark.skipif(not SPECS_PRESENT, reason=SKIP_REASON)
def test_background_streams_are_valid_in_both_streaming_unions(http: httpx.Client, clean_emulator: Emulator) -> None:
    # What the gateway sent (not the SDK's models of it), checked against OpenAI's and the Open Responses
    # event schemas and for a well-formed order, as created, as replayed, and when Azure refuses the call.
    body = {"input": "Go.", "background": True, "stream": True}
    clean_emulator.script({"message": {"content": "checked words", "reasoning_content": "thinking first"}})
    created = validate_stream(http.post("/v1/responses", json=body).content)
    replay = http.get(f"/v1/responses/{created.events[0]['response']['id']}", params={"stream": "true"})
    assert validate_stream(replay.content).events == created.events
    clean_emulator.script({"fault": "content_filter"})
    refused = validate_stream(http.post("/v1/responses", json=body).content)
    assert [e["type"] for e in refused.events] == ["response.created", "response.queued", "response.failed"]


def test_a_chain_cannot_continue_from_a_run_that_has_not_finished(
    client: openai.OpenAI, clean_emulator: Emulator
) -> None:
    gate = gated(clean_emulator, "first")
    created = client.responses.create(model="m", input="Go.", background=True)
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="m", input="Next.", previous_response_id=created.id)
    assert info.value.code == "previous_response_in_progress" and info.value.param == "previous_response_id"
    open_gate(clean_emulator, gate)
    wait_for(client, created.id, "completed")
    assert client.responses.create(model="m", input="Next.", previous_response_id=created.id).status == "completed"


def test_background_needs_the_store(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="m", input="Hi.", background=True, store=False)
    assert info.value.param == "store"
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.retrieve(client.responses.create(model="m", input="Hi.").id, stream=True)
    assert info.value.param == "stream"


def test_background_with_the_store_off_says_how_to_turn_it_on(emulator: Emulator) -> None:
    with running(create_app(gateway_settings(emulator.url, store_url="off"))) as url:
        reply = httpx.post(f"{url}/v1/responses", json={"input": "Hi.", "background": True})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "background" and error["code"] == "store_disabled"
    assert "GATEWAY_STORE_URL" in error["message"]


def test_cancel_frees_the_concurrency_slot(emulator: Emulator, tmp_path: Any) -> None:
    emulator.clear()
    settings = gateway_settings(
        emulator.url, store_url=f"sqlite:///{tmp_path}/s.sqlite3", num_concurrent_requests=1, max_queue_wait=2.0
    )
    with running(create_app(settings)) as url, openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0) as sdk:
        gate = gated(emulator, "holding the only slot")
        held = sdk.responses.create(model="m", input="Go.", background=True)
        wait_for(sdk, held.id, "in_progress")
        sdk.responses.cancel(held.id)
        # The only slot is free again at once: this would wait 2 s and get 503 gateway_busy otherwise.
        assert sdk.responses.create(model="m", input="Next.").status == "completed"
        open_gate(emulator, gate)


def test_a_run_on_a_conversation_keeps_it_while_it_lives(emulator: Emulator, tmp_path: Any) -> None:
    # The conversation's lock lives request_timeout (here 1 s) unless renewed: the run's heartbeats renew it,
    # so a second response on the conversation is refused for as long as the run goes on, then allowed.
    emulator.clear()
    settings = gateway_settings(
        emulator.url, store_url=f"sqlite:///{tmp_path}/s.sqlite3", request_timeout=1.0,
        background_heartbeat_seconds=0.2,
    )  # fmt: skip
    with running(create_app(settings)) as url, openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0) as sdk:
        conversation = sdk.conversations.create()
        gate = gated(emulator, "the long answer")
        run = sdk.responses.create(model="m", input="Go.", background=True, conversation=conversation.id)
        wait_for(sdk, run.id, "in_progress")
        time.sleep(2.0)  # twice the lock's own lifetime
        with pytest.raises(openai.ConflictError) as info:
            sdk.responses.create(model="m", input="Meanwhile?", conversation=conversation.id)
        assert info.value.code == "conversation_locked"
        open_gate(emulator, gate)
        assert wait_for(sdk, run.id, "completed").output_text == "the long answer"
        assert sdk.responses.create(model="m", input="Now?", conversation=conversation.id).status == "completed"
        texts = [item.content[0].text for item in sdk.conversations.items.list(conversation.id, order="asc").data]
        assert texts[:2] == ["Go.", "the long answer"]
