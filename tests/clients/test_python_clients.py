"""Python client libraries, pinned in pyproject's dev extra, driven through the gateway on the emulator (issue 14).

The OpenAI Agents SDK (plain and streamed runs with a tool, and the reasoning items it replays), LangChain's
`ChatOpenAI(use_responses_api=True)` (invoke, stream, tools, structured output) and LiteLLM's `responses()`
as a client. Each speaks to a real gateway over HTTP; what Azure received is checked where the translation
matters. A library that cannot be imported fails here (they are dev dependencies, installed by `make test`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import openai
import pytest
from conftest import Emulator

pytestmark = pytest.mark.usefixtures("clean_emulator")

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # LiteLLM fetches a price list at import otherwise


def _weather(city: str) -> str:
    return f"Sunny and 21C in {city}"


# -- OpenAI Agents SDK -------------------------------------------------------------------------------------


def _agent(gateway_url: str) -> tuple[Any, Any, list[str]]:
    from agents import Agent, OpenAIResponsesModel, function_tool, set_tracing_disabled

    set_tracing_disabled(True)
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        calls.append(city)
        return _weather(city)

    client = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key="unused", max_retries=0)
    agent = Agent(
        name="weather",
        instructions="Answer weather questions with the tool.",
        model=OpenAIResponsesModel(model="m", openai_client=client),
        tools=[get_weather],
    )
    return agent, client, calls


def test_agents_sdk_run_with_a_tool_replays_reasoning(gateway_url: str, emulator: Emulator) -> None:
    from agents import Runner

    emulator.script(
        {"message": {"reasoning_content": "I need the weather tool.", "content": None, "tool_calls": [
            {"id": "call_a1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}},
        {"message": {"content": "It is sunny in Paris."}},
    )  # fmt: skip
    agent, client, calls = _agent(gateway_url)

    async def main() -> Any:
        try:
            return await Runner.run(agent, "What is the weather in Paris?")
        finally:
            await client.close()

    result = asyncio.run(main())
    assert calls == ["Paris"]
    assert result.final_output == "It is sunny in Paris."
    messages = emulator.last_body()["messages"]
    assert messages[0] == {"role": "system", "content": "Answer weather questions with the tool."}
    assert messages[-2]["tool_calls"][0]["id"] == "call_a1"
    assert messages[-1] == {"role": "tool", "content": _weather("Paris"), "tool_call_id": "call_a1"}


def test_agents_sdk_streamed_run(gateway_url: str, emulator: Emulator) -> None:
    from agents import Runner

    agent, client, calls = _agent(gateway_url)

    async def main() -> tuple[Any, list[str]]:
        try:
            result = Runner.run_streamed(agent, "What is the weather in Rome?")
            return result, [event.type async for event in result.stream_events()]
        finally:
            await client.close()

    result, kinds = asyncio.run(main())
    assert calls == ["Rome"]
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert "Sunny and 21C in Rome" in result.final_output


# -- LangChain ---------------------------------------------------------------------------------------------


def _chat(gateway_url: str, **kw: Any) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="m", base_url=f"{gateway_url}/v1", api_key="unused", use_responses_api=True, max_retries=0, **kw
    )


def test_langchain_invoke_and_stream(gateway_url: str) -> None:
    llm = _chat(gateway_url)
    assert llm.invoke("Hello there").text == "You said: Hello there"
    pieces = [chunk.text for chunk in llm.stream("Stream this")]
    assert "".join(pieces) == "You said: Stream this"
    assert len([p for p in pieces if p]) > 1  # really streamed


def test_langchain_tools(gateway_url: str, emulator: Emulator) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return _weather(city)

    llm = _chat(gateway_url).bind_tools([get_weather])
    question = HumanMessage("What's the weather in Paris?")
    first = llm.invoke([question])
    (call,) = first.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "Paris"}
    answer = llm.invoke([question, first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])])
    assert "Sunny and 21C in Paris" in answer.text
    assert emulator.last_body()["messages"][-1]["role"] == "tool"


def test_langchain_structured_output(gateway_url: str, emulator: Emulator) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str

    llm = _chat(gateway_url).with_structured_output(City, method="json_schema")
    city = llm.invoke("Name a city in France.")
    assert isinstance(city, City)
    sent = emulator.last_body()
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["name", "country"]


# -- LiteLLM -----------------------------------------------------------------------------------------------


def test_litellm_responses_as_a_client(gateway_url: str, emulator: Emulator) -> None:
    import litellm

    response = litellm.responses(
        model="openai/m", input="Hi from LiteLLM", api_base=f"{gateway_url}/v1", api_key="unused"
    )
    assert response.output[0].content[0].text == "You said: Hi from LiteLLM"
    assert emulator.last_body()["messages"][-1] == {"role": "user", "content": "Hi from LiteLLM"}

    streamed = litellm.responses(
        model="openai/m", input="Stream from LiteLLM", api_base=f"{gateway_url}/v1", api_key="unused", stream=True
    )
    kinds = [event.type for event in streamed]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
