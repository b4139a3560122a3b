"""The WebSocket bench phase measures what it says: the stub's agent deployment answers with tool calls, and
both loops of bench/agent_loop.py run all their turns through a real gateway (no timing asserted here)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import gateway_settings
from support.servers import free_port, running

from app.api.factory import create_app
from bench import agent_loop

STUB = Path(__file__).resolve().parents[2] / "bench" / "stub.py"


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


def test_both_loops_run_every_turn_through_the_gateway(stub: str) -> None:
    app = create_app(gateway_settings(stub, openai_model="agent-gpt"))
    with running(app) as url:
        port = int(url.rsplit(":", 1)[1])
        over_socket = asyncio.run(agent_loop.websocket_loop(port, turns=3))
        over_http = asyncio.run(agent_loop.http_loop(port, turns=3))
    # The HTTP loop resends the growing conversation; the WebSocket one sends only each new tool output.
    assert over_http["client_bytes"] > over_socket["client_bytes"]
    assert over_socket["events"] >= 3 * 4 and over_http["events"] >= 3 * 4
