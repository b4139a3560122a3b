"""The WebSocket bench phase measures what it says: the stub's agent deployment answers with tool calls, the
three loops of bench/agent_loop.py run all their turns through a real gateway, and the HTTP
previous_response_id loop really chains - it sends only the new tool output, and Azure still gets the whole
conversation from the gateway's store (no timing asserted here)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Emulator, gateway_settings
from support.servers import free_port, running

from app.api.factory import create_app
from bench import agent_loop

STUB = Path(__file__).resolve().parents[2] / "bench" / "stub.py"
# What every request of the loop carries (model, instructions, tools), and one tool output with its file.
FIXED_BYTES = len(json.dumps(agent_loop._create([], stream=True, store=True)))
OUTPUT_BYTES = len(json.dumps(agent_loop._output({"call_id": "call_stub_read"})))
# A request that holds one tool output: the fixed part, the output, and room for the id and field names.
ONE_OUTPUT_AT_MOST = FIXED_BYTES + OUTPUT_BYTES + 150


def _text(message: dict[str, Any]) -> str:
    """A Chat message's text, whether its content is a string or a list of text parts."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part["text"] for part in content)


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(STUB), "--port", str(port)], stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        assert b"listening" in process.stderr.readline()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def test_the_agent_deployment_answers_with_a_tool_call(stub: str) -> None:
    url = f"{stub}/openai/deployments/agent-gpt/chat/completions"
    choice = httpx.post(url, json={"messages": []}, timeout=10).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "read_file"
    streamed = httpx.post(url, json={"messages": [], "stream": True}, timeout=10).text
    assert '"tool_calls"' in streamed and '"finish_reason":"tool_calls"' in streamed
    assert streamed.rstrip().endswith("data: [DONE]")
    other = httpx.post(f"{stub}/openai/deployments/gpt/chat/completions", json={"messages": []}, timeout=10)
    assert other.json()["choices"][0]["finish_reason"] == "stop"  # other deployments are unchanged


def test_every_loop_runs_every_turn_through_the_gateway(stub: str, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"  # the bench's store: an SQLite file
    app = create_app(gateway_settings(stub, openai_model="agent-gpt", store_url=store_url))
    with running(app) as url:
        port = int(url.rsplit(":", 1)[1])
        runs = {name: asyncio.run(loop(port, 3)) for name, loop in agent_loop.LOOPS.items()}
        stored = httpx.get(f"{url}/v1/responses/{runs['http_previous']['last_response_id']}", timeout=10)
    over_socket, resend, chained = runs["websocket"], runs["http"], runs["http_previous"]
    # Resending grows every turn; the other two send only each new tool output after turn 1.
    assert resend["client_bytes"] > chained["client_bytes"]
    assert chained["last_turn_bytes"] < ONE_OUTPUT_AT_MOST < FIXED_BYTES + 2 * OUTPUT_BYTES < resend["last_turn_bytes"]
    assert abs(chained["last_turn_bytes"] - over_socket["last_turn_bytes"]) < 100
    assert all(run["events"] >= 3 * 4 for run in runs.values())
    # store: true kept the last turn, linked to the one before it.
    assert stored.status_code == 200 and stored.json()["previous_response_id"].startswith("resp_")


def test_the_previous_response_id_loop_sends_only_the_new_output_and_azure_gets_the_chain(
    clean_emulator: Emulator, tmp_path: Path
) -> None:
    turns = 4
    clean_emulator.script(*(
        {"message": {"tool_calls": [{"id": f"call_{n}", "function": {"name": "read_file",
                                                                       "arguments": {"path": f"f{n}.py"}}}]}}
        for n in range(1, turns + 1)
    ))  # fmt: skip
    app = create_app(gateway_settings(clean_emulator.url, store_url=f"sqlite:///{tmp_path / 'store.sqlite3'}"))
    with running(app) as url:
        result = asyncio.run(agent_loop.http_previous_loop(int(url.rsplit(":", 1)[1]), turns))
    bodies = [request["body"] for request in clean_emulator.requests()]
    assert len(bodies) == turns
    # The client's last request held one tool output; Azure's held the task and every call and output so far.
    assert FIXED_BYTES + OUTPUT_BYTES < result["last_turn_bytes"] < ONE_OUTPUT_AT_MOST
    last = bodies[-1]["messages"]
    assert [m["role"] for m in last] == ["system", "user", *["assistant", "tool"] * (turns - 1)]
    assert _text(last[1]) == agent_loop.TASK
    assert [m["tool_call_id"] for m in last if m["role"] == "tool"] == [f"call_{n}" for n in range(1, turns)]
    assert [m["tool_calls"][0]["id"] for m in last if m["role"] == "assistant"] == [
        f"call_{n}" for n in range(1, turns)
    ]
    assert all(_text(m) == agent_loop.FILE_TEXT for m in last if m["role"] == "tool")
