"""What real clients send and expect, end to end through a real gateway on the emulator (issue 14).

NeMo Gym's agent loop (reasoning replayed with `content: null`, typeless tool outputs), fields that only
describe the client, custom tools and tool search in JSON and streamed answers, `GET /v1/models`, the Chat
passthrough's delta-less content-filter chunk under the openai SDK's stream loop, and the policy for
deployments that refuse function tools with reasoning.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import AZURE_KEY, DEPLOYMENT, Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, create_emulator_app, emulator_state
from app.emulator.script import parse_action

pytestmark = pytest.mark.usefixtures("clean_emulator")

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "reference" / "client_captures"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Apply a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch" /(.|\\n)*/'},
}


def test_nemo_gym_rollout_replaying_reasoning_with_content_null(client: openai.OpenAI, emulator: Emulator) -> None:
    """NeMo Gym's openai_model server returns the Response as it is; its agent loop replays every output item
    (reasoning with `content: null, encrypted_content: null`) and appends each call's output."""
    emulator.script(
        {"message": {"reasoning_content": "Need the weather tool.", "content": None, "tool_calls": [
            {"id": "call_w1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"id": "call_w2", "function": {"name": "get_weather", "arguments": {"city": "Lyon"}}}]}},
        {"message": {"reasoning_content": "Now answer.", "content": "Sunny in Paris."}},
    )  # fmt: skip
    history: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Paris?"}]
    for _turn in range(3):
        response = client.responses.create(model="policy", input=history, tools=[WEATHER], temperature=1.0, top_p=1.0)
        assert response.status == "completed"
        items = [item.model_dump() for item in response.output]
        for item in items:
            if item["type"] == "reasoning":
                item["content"], item["encrypted_content"] = None, None
        history += items
        calls = [item for item in items if item["type"] == "function_call"]
        if not calls:
            break
        # simple_agent appends NeMoGymFunctionCallOutput(type=..., call_id, output); the captured turn 2 (below)
        # has the bare {"call_id", "output"}: one of each here.
        history += [{"type": "function_call_output", "call_id": calls[0]["call_id"], "output": "sunny"}]
        history += [{"call_id": call["call_id"], "output": "sunny"} for call in calls[1:]]
    assert response.output_text == "Sunny in Paris."
    kinds = [item.get("type") for item in history[1:]]
    calls_and_outputs = ["function_call", "function_call", "function_call_output", None]
    assert kinds == ["reasoning", *calls_and_outputs, "reasoning", "message"]
    second = emulator.last_body()["messages"]
    assert second[-2:] == [
        {"role": "tool", "content": "sunny", "tool_call_id": "call_w1"},
        {"role": "tool", "content": "sunny", "tool_call_id": "call_w2"},
    ]
    assert [c["function"]["arguments"] for c in second[-3]["tool_calls"]] == ['{"city": "Paris"}', '{"city": "Lyon"}']


@pytest.mark.shared
@pytest.mark.parametrize(
    "name",
    [
        "nemo-gym-openai_model-turn2-reasoning-replayed.json",
        "codex-0.171-turn1-unknown-model.json",
        "codex-0.171-turn1-catalog-model-gpt-5.5.json",
        "codex-0.171-turn2-reasoning-replayed.json",
    ],
)
def test_captured_client_requests_are_accepted(emulator: Emulator, name: str) -> None:
    """Requests real clients sent, as captured (../shared/reference/client_captures), on an api-version that
    has reasoning_effort and verbosity (Codex sends both)."""
    capture = CAPTURES / name
    if not capture.exists():
        pytest.skip("../shared/reference/client_captures is absent")
    body = json.loads(capture.read_text())
    settings = gateway_settings(emulator.url, default_query={"api-version": "2025-04-01-preview"})
    with running(create_app(settings)) as url:
        reply = httpx.post(f"{url}/v1/responses", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    if any(tool.get("type") == "web_search" for tool in body.get("tools", [])):
        assert "web_search" in reply.headers["x-gateway-omitted"]


def test_client_metadata_is_accepted_and_not_forwarded(http: httpx.Client, emulator: Emulator) -> None:
    body = {"input": "hi", "client_metadata": {"thread_id": "t1", "x-codex-turn-metadata": "m"}}
    reply = http.post("/v1/responses", json=body)
    assert reply.status_code == 200, reply.text
    assert "client_metadata" not in emulator.last_body()
    assert "client_metadata" not in reply.json()


def test_an_unknown_parameter_is_still_refused_by_name(http: httpx.Client) -> None:
    reply = http.post("/v1/responses", json={"input": "hi", "client_mood": "happy"})
    assert reply.status_code == 400
    assert "client_mood" in reply.json()["error"]["message"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_custom_tool_call_comes_back_and_its_output_goes_back(
    client: openai.OpenAI, emulator: Emulator, stream: bool
) -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch"
    emulator.script(
        {"message": {"content": None, "tool_calls": [
            {"id": "call_p1", "function": {"name": "apply_patch", "arguments": {"input": patch}}}]}},
        {"message": {"content": "Patched."}},
    )  # fmt: skip
    tools: Any = [APPLY_PATCH, WEATHER]
    if stream:
        with client.responses.stream(model="m", input="add a.txt", tools=tools) as events:
            kinds = [event.type for event in events]
            response = events.get_final_response()
        assert kinds[-1] == "response.completed"
        assert "response.function_call_arguments.delta" not in kinds  # the input is given whole
    else:
        response = client.responses.create(model="m", input="add a.txt", tools=tools)
    (call,) = response.output
    assert call.type == "custom_tool_call"
    assert (call.name, call.input, call.call_id) == ("apply_patch", patch, "call_p1")
    sent = emulator.last_body()
    (function,) = [t["function"] for t in sent["tools"] if t["function"]["name"] == "apply_patch"]
    assert function["parameters"]["required"] == ["input"] and "lark grammar" in function["description"]

    output = {
        "type": "custom_tool_call_output",
        "call_id": "call_p1",
        "output": [{"type": "input_text", "text": "Done!"}],
    }
    again = client.responses.create(
        model="m", input=[{"role": "user", "content": "add a.txt"}, call.model_dump(), output], tools=tools
    )  # type: ignore[list-item]
    assert again.output_text == "Patched."
    messages = emulator.last_body()["messages"]
    replayed = messages[-2]["tool_calls"][0]["function"]
    assert replayed["name"] == "apply_patch" and json.loads(replayed["arguments"]) == {"input": patch}
    assert messages[-1] == {"role": "tool", "content": [{"type": "text", "text": "Done!"}], "tool_call_id": "call_p1"}


def test_namespace_and_tool_search_and_additional_tools(http: httpx.Client, emulator: Emulator) -> None:
    namespace = {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.",
                 "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}]}  # fmt: skip
    search = {"type": "tool_search", "execution": "client", "description": "Find tools.",
              "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}  # fmt: skip
    emulator.script(
        {"message": {"content": None, "tool_calls": [
            {"id": "call_s1", "function": {"name": "tool_search", "arguments": {"query": "agents"}}},
            {"id": "call_a1", "function": {"name": "multi_agent_v1__spawn_agent", "arguments": {"task": "t"}}}]}},
    )  # fmt: skip
    reply = http.post("/v1/responses", json={"input": "go", "tools": [search, namespace]})
    assert reply.status_code == 200, reply.text
    search_call, agent_call = reply.json()["output"]
    assert search_call["type"] == "tool_search_call" and search_call["execution"] == "client"
    assert search_call["arguments"] == {"query": "agents"} and search_call["call_id"] == "call_s1"
    assert agent_call["type"] == "function_call"
    assert (agent_call["name"], agent_call["namespace"]) == ("spawn_agent", "multi_agent_v1")

    # Turn 2: the search's output loads a tool; Codex-6-style additional_tools offers one more.
    found = {"type": "function", "name": "create_event", "parameters": {"type": "object"}}
    extra = {"type": "custom", "name": "exec", "description": "Run code."}
    replay = [
        {"role": "user", "content": "go"},
        search_call,
        agent_call,
        {"type": "tool_search_output", "call_id": "call_s1", "execution": "client", "status": "completed",
         "tools": [found]},
        {"type": "function_call_output", "call_id": "call_a1", "output": "spawned"},
        {"type": "additional_tools", "role": "developer", "tools": [extra]},
    ]  # fmt: skip
    reply = http.post("/v1/responses", json={"input": replay, "tools": [search, namespace]})
    assert reply.status_code == 200, reply.text
    sent = emulator.last_body()
    names = [t["function"]["name"] for t in sent["tools"]]
    assert names == ["tool_search", "multi_agent_v1__spawn_agent", "create_event", "exec"]
    calls = sent["messages"][1]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["tool_search", "multi_agent_v1__spawn_agent"]
    assert json.loads(sent["messages"][2]["content"]) == {"loaded_tools": ["create_event"]}


def test_models_list_the_deployment(client: openai.OpenAI, http: httpx.Client) -> None:
    assert [model.id for model in client.models.list()] == [DEPLOYMENT]
    assert client.models.retrieve(DEPLOYMENT).id == DEPLOYMENT
    reply = http.get("/v1/models/gpt-4o")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "model_not_found" and DEPLOYMENT in reply.json()["error"]["message"]


def test_chat_stream_loop_survives_the_content_filter_chunk(client: openai.OpenAI) -> None:
    """The emulator sends Azure's asynchronous-filter chunk (content_filter_offsets, no delta)."""
    texts = []
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi there"}], stream=True)
    filter_chunks = 0
    for chunk in stream:
        if chunk.choices:
            texts.append(chunk.choices[0].delta.content or "")  # the SDK loop every tutorial writes
            extra = chunk.choices[0].model_extra or {}
            filter_chunks += "content_filter_offsets" in extra
    assert "".join(texts) == "You said: Hi there"
    assert filter_chunks >= 1


@pytest.fixture(scope="module")
def newest() -> Iterator[dict[str, Any]]:
    """A deployment modelled as GPT-5.4, behind gateways with either reasoning_with_tools policy."""
    config = EmulatorConfig(api_key=AZURE_KEY, deployments=("gpt54",), models={"gpt54": "gpt-5.4-2026-03-05"})
    emulator = create_emulator_app(config)
    with running(emulator) as url:
        query = {"api-version": "2025-04-01-preview"}
        fallback = create_app(gateway_settings(url, openai_model="gpt54", default_query=query))
        reject = create_app(
            gateway_settings(url, openai_model="gpt54", default_query=query, reasoning_with_tools="reject")
        )
        with running(fallback) as fallback_url, running(reject) as reject_url:
            yield {"state": emulator_state(emulator), "fallback": fallback_url, "reject": reject_url}


def test_reasoning_with_tools_falls_back_once_and_says_so(newest: dict[str, Any]) -> None:
    state = newest["state"]
    state.clear()
    body = {"input": "weather?", "tools": [WEATHER], "reasoning": {"effort": "high"}}
    for _attempt in range(2):
        reply = httpx.post(f"{newest['fallback']}/v1/responses", json=body, timeout=30)
        assert reply.status_code == 200, reply.text
        assert "reasoning.effort high" in reply.headers["x-gateway-omitted"]
        assert reply.json()["reasoning"]["effort"] == "high"  # echoed as sent
    statuses = [r.status for r in state.requests]
    assert statuses == [400, 200, 200]  # refused once, then remembered
    assert state.requests[-1].body["reasoning_effort"] == "none"
    # Without tools nothing changes.
    state.enqueue([parse_action({"message": {"content": "ok"}})])
    reply = httpx.post(f"{newest['fallback']}/v1/responses", json={"input": "hi", "reasoning": {"effort": "high"}})
    assert reply.status_code == 200 and "x-gateway-omitted" not in reply.headers
    assert state.requests[-1].body["reasoning_effort"] == "high"


def test_reasoning_with_tools_reject_says_what_to_change(newest: dict[str, Any]) -> None:
    newest["state"].clear()
    reply = httpx.post(f"{newest['reject']}/v1/responses", json={"input": "weather?", "tools": [WEATHER]}, timeout=30)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "reasoning.effort"
    assert 'reasoning.effort "none"' in error["message"] and "gpt-5.4" in error["message"]


def test_streamed_client_tool_calls_match_the_json_answer(client: openai.OpenAI, emulator: Emulator) -> None:
    """A namespaced function call and a client tool search, streamed: each item opens as its own kind, only the
    function streams argument deltas, and the final Response equals the JSON one item for item."""
    namespace = {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.",
                 "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}}]}  # fmt: skip
    search = {"type": "tool_search", "execution": "client", "parameters": {"type": "object"}}
    calls = [
        {"id": "call_s1", "function": {"name": "tool_search", "arguments": {"query": "agents"}}},
        {"id": "call_a1", "function": {"name": "multi_agent_v1__spawn_agent", "arguments": {"task": "t"}}},
    ]
    reply = {"message": {"content": None, "tool_calls": calls}}
    tools: Any = [search, namespace]
    emulator.script(reply, reply)
    plain = client.responses.create(model="m", input="go", tools=tools)
    with client.responses.stream(model="m", input="go", tools=tools) as events:
        seen = list(events)
        streamed = events.get_final_response()
    added = [e.item.type for e in seen if e.type == "response.output_item.added"]
    assert added == ["tool_search_call", "function_call"]
    deltas = {e.item_id for e in seen if e.type == "response.function_call_arguments.delta"}
    assert deltas == {streamed.output[1].id}
    done = [e for e in seen if e.type == "response.function_call_arguments.done"]
    assert [e.name for e in done] == ["spawn_agent"]

    def strip(output: list[Any]) -> list[dict[str, Any]]:
        drop = ("id", "parsed_arguments")  # ids differ per call; parsed_arguments is the SDK's own
        return [{k: v for k, v in item.model_dump().items() if k not in drop} for item in output]

    assert strip(streamed.output) == strip(plain.output)
    assert streamed.output[0].arguments == {"query": "agents"}  # type: ignore[union-attr]
