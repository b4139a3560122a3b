"""The Conversations API and the real agent clients on it: the openai SDK, the Agents SDK's
``auto_previous_response_id`` and ``OpenAIConversationsSession``, against a real gateway on the emulator.

and LangChain's ``use_previous_response_id``. Every test runs on an SQLite file and on Postgres
(``support.store_backends``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest
import support.store_backends as backends
from conftest import Emulator

# Every test here runs on an SQLite file and on Postgres: the module-scoped gateway of support.store_backends.
gateway_url, client, http = backends.gateway_url, backends.client, backends.http


def _roles(emulator: Emulator) -> list[str]:
    return [m["role"] for m in emulator.last_body()["messages"]]


def test_a_conversation_collects_its_responses(client: openai.OpenAI, clean_emulator: Emulator) -> None:
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "system", "content": "You are terse."}], metadata={"topic": "t"}
    )
    assert conversation.id.startswith("conv_") and conversation.metadata == {"topic": "t"}
    first = client.responses.create(model="m", input="My name is Ada.", conversation=conversation.id)
    assert first.conversation is not None and first.conversation.id == conversation.id
    second = client.responses.create(model="m", input="Who am I?", conversation={"id": conversation.id})
    assert _roles(clean_emulator) == ["system", "user", "assistant", "user"]
    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [(i.type, i.role) for i in items] == [
        ("message", "system"), ("message", "user"), ("message", "assistant"),
        ("message", "user"), ("message", "assistant"),
    ]  # fmt: skip
    assert items[-1].id == second.output[-1].id
    # Items added by hand are part of what the next response sees.
    added = client.conversations.items.create(conversation.id, items=[{"role": "user", "content": "More."}])
    assert [i.role for i in added.data] == ["user"]
    client.responses.create(model="m", input="Go on.", conversation=conversation.id)
    assert _roles(clean_emulator) == ["system", "user", "assistant", "user", "assistant", "user", "user"]


def test_conversation_routes_answer_in_openai_shapes(client: openai.OpenAI, http: httpx.Client) -> None:
    conversation = client.conversations.create()
    assert client.conversations.retrieve(conversation.id).metadata == {}
    assert client.conversations.update(conversation.id, metadata={"a": "b"}).metadata == {"a": "b"}
    added = client.conversations.items.create(
        conversation.id, items=[{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
    )
    first, second = added.data
    assert client.conversations.items.retrieve(first.id, conversation_id=conversation.id).content[0].text == "one"
    page = client.conversations.items.list(conversation.id, limit=1)
    assert [i.id for i in page.data] == [second.id] and page.has_more
    assert client.conversations.items.delete(first.id, conversation_id=conversation.id).id == conversation.id
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(first.id, conversation_id=conversation.id)
    deleted = client.conversations.delete(conversation.id)
    assert deleted.deleted is True and deleted.id == conversation.id
    for path in (f"/v1/conversations/{conversation.id}", f"/v1/conversations/{conversation.id}/items"):
        reply = http.get(path)
        assert reply.status_code == 404
        assert reply.json()["error"]["message"] == f"Conversation with id '{conversation.id}' not found."
    reply = http.post("/v1/responses", json={"model": "m", "input": "x", "conversation": conversation.id})
    assert reply.status_code == 404 and reply.json()["error"]["param"] == "conversation"
    reply = http.post("/v1/conversations", json={})  # what the SDK sends for create() with no arguments
    assert reply.status_code == 200 and reply.json()["object"] == "conversation"
    bad = http.post("/v1/conversations", json={"items": [{"type": "item_reference", "id": "x"}]})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "items[0]"


def test_one_response_at_a_time_per_conversation(
    client: openai.OpenAI, http: httpx.Client, clean_emulator: Emulator
) -> None:
    conversation = client.conversations.create()
    clean_emulator.script({"message": {"content": "slow"}, "stream": {"chunk_delay": 0.2}})
    body = {"model": "m", "input": "first", "conversation": conversation.id, "stream": True}
    with http.stream("POST", "/v1/responses", json=body) as streaming:
        assert streaming.status_code == 200
        busy = http.post("/v1/responses", json={"model": "m", "input": "second", "conversation": conversation.id})
        assert busy.status_code == 409, busy.text
        assert busy.json()["error"]["code"] == "conversation_locked"
        streaming.read()
    after = client.responses.create(model="m", input="third", conversation=conversation.id)
    assert after.status == "completed"
    # A stream the client abandons frees the conversation too.
    clean_emulator.script({"message": {"content": "x" * 50}, "stream": {"chunk_delay": 0.2}})
    with http.stream("POST", "/v1/responses", json=body) as streaming:
        next(streaming.iter_bytes())
    for _ in range(50):
        reply = http.post("/v1/responses", json={"model": "m", "input": "4", "conversation": conversation.id})
        if reply.status_code != 409:
            break
        asyncio.run(asyncio.sleep(0.1))
    assert reply.status_code == 200, reply.text


def test_agents_sdk_auto_previous_response_id(gateway_url: str, clean_emulator: Emulator) -> None:
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool, set_tracing_disabled

    set_tracing_disabled(True)

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"Sunny in {city}"

    async def main() -> Any:
        client = openai.AsyncOpenAI(base_url=gateway_url + "/v1", api_key="unused", max_retries=0)
        agent = Agent(
            name="weather",
            instructions="Use the tool.",
            model=OpenAIResponsesModel(model="m", openai_client=client),
            tools=[get_weather],
        )
        try:
            return await Runner.run(
                agent, "What is the weather in Paris?", auto_previous_response_id=True, run_config=RunConfig()
            )
        finally:
            await client.close()

    result = asyncio.run(main())
    assert result.final_output == "Based on the tool result: Sunny in Paris"
    requests = clean_emulator.requests()
    assert len(requests) == 2
    # The second model call sent only the tool output and previous_response_id; the gateway replayed the rest.
    assert [m["role"] for m in requests[1]["body"]["messages"]] == ["system", "user", "assistant", "tool"]


def test_agents_sdk_openai_conversations_session(gateway_url: str, clean_emulator: Emulator) -> None:
    from agents import Agent, OpenAIConversationsSession, OpenAIResponsesModel, Runner, set_tracing_disabled

    set_tracing_disabled(True)

    async def main() -> tuple[Any, Any, list[Any]]:
        client = openai.AsyncOpenAI(base_url=gateway_url + "/v1", api_key="unused", max_retries=0)
        agent = Agent(name="a", instructions="Be brief.", model=OpenAIResponsesModel(model="m", openai_client=client))
        session = OpenAIConversationsSession(openai_client=client)
        try:
            first = await Runner.run(agent, "My name is Ada.", session=session)
            second = await Runner.run(agent, "What is my name?", session=session)
            return first, second, await session.get_items()
        finally:
            await client.close()

    first, second, items = asyncio.run(main())
    assert first.final_output and second.final_output
    texts = [item["content"] if isinstance(item["content"], str) else item["content"][0]["text"] for item in items]
    assert texts[0] == "My name is Ada." and "What is my name?" in texts
    # The second call carried the first turn as history.
    assert _roles(clean_emulator) == ["system", "user", "assistant", "user"]


def test_langchain_use_previous_response_id(gateway_url: str, clean_emulator: Emulator) -> None:
    """LangChain sends only the messages after its last AI message, naming that message's response id: the
    gateway's store must put the earlier turn back before Azure sees the conversation."""
    from langchain_core.messages import HumanMessage
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model="m",
        base_url=f"{gateway_url}/v1",
        api_key="unused",
        use_responses_api=True,
        max_retries=0,
        use_previous_response_id=True,
    )
    first_question = HumanMessage("My name is Ada.")
    first = llm.invoke([first_question])
    assert first.response_metadata["id"].startswith("resp_")
    second = llm.invoke([first_question, first, HumanMessage("What is my name?")])
    stored = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="unused").responses.retrieve(
        second.response_metadata["id"]
    )
    assert stored.previous_response_id == first.response_metadata["id"]  # LangChain really chained
    # ... and sent only the new turn: the first question reached the gateway once, in the first response.
    items = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="unused").responses.input_items.list(stored.id)
    assert [item.content[0].text for item in items.data if item.type == "message"] == ["What is my name?"]
    texts = [
        m["content"] if isinstance(m["content"], str) else "".join(p["text"] for p in m["content"])
        for m in clean_emulator.last_body()["messages"]
    ]
    assert texts == [
        "My name is Ada.",
        "You said: My name is Ada.",
        "What is my name?",
    ]
