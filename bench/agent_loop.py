"""The WebSocket phase: a 20-tool-call agent loop over one WebSocket connection vs the same loop over HTTP.

The loop is what a coding agent's rollout does: a task, then per turn the model calls ``read_file`` and the
client answers with the file (about 2 KB). The stub's ``agent*`` deployments answer every request with that
tool call (bench/stub.py), so all 20 turns are tool calls and the loop is the same on every transport.

* WebSocket: one connection; turn 1 sends the task, every later turn only the tool output and
  ``previous_response_id`` with ``store: false`` (the connection's cache holds the chain).
* HTTP, resend: one keep-alive connection, ``stream: true``, ``store: false``, the whole conversation resent
  every turn - what a client does without a store.
* HTTP, previous_response_id: one keep-alive connection, ``stream: true``, ``store: true``; turn 1 sends the
  task, every later turn only the tool output and ``previous_response_id``. The gateway reads the chain from
  its store each turn and writes the turn before ``response.completed``, so this variant's figure is for the
  store the gateway runs with: in ``make bench`` (bench/run.py) the embedded SQLite store on a fresh file of
  its own (``bench/out/agent-loop-store.sqlite3``).

All read every event as JSON, as a client does. Reported: wall time per loop (median of the repeats, the
variants interleaved, their order rotated each repeat, so drift hurts all alike), the bytes the client sent,
and the ratios WebSocket ÷ HTTP-resend and WebSocket ÷ HTTP-previous_response_id.

    python bench/stub.py --port 18100 &
    GATEWAY_OPENAI_BASE_URL=http://127.0.0.1:18100 GATEWAY_OPENAI_API_KEY=k GATEWAY_OPENAI_MODEL=agent-gpt \\
      GATEWAY_API_VERSION=2024-10-21 GATEWAY_ACCESS_LOG=false GATEWAY_STORE_URL=sqlite:////tmp/agent.sqlite3 \\
      python -m app serve --port 8000 &
    python bench/agent_loop.py --port 8000      # against a gateway with a store on an agent deployment
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import payloads

TURNS = 20
INSTRUCTIONS = "You are a careful coding agent. Read the files you need, then fix the bug."
TASK = "The tests in tests/test_parser.py fail since yesterday's change. Find out why and fix it."
FILE_TEXT = "".join(f"def helper_{i}(value: int) -> int:\n    return value * {i} + 1\n\n\n" for i in range(40))
HEADERS = {"content-type": "application/json"}


def _create(input_items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": payloads.MODEL, "instructions": INSTRUCTIONS, "tools": payloads.TOOLS, "input": input_items,
            **extra}


def _tool_call(response: dict[str, Any]) -> dict[str, Any]:
    calls = [item for item in response["output"] if item["type"] == "function_call"]
    if response["status"] != "completed" or not calls:
        raise RuntimeError(f"the turn did not end in a tool call: {response['status']} {response['output']}")
    return calls[0]


def _output(call: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call["call_id"], "output": FILE_TEXT}


def _result(started: float, sent: list[int], events: int, last_id: str) -> dict[str, Any]:
    """One loop's figures: ``client_bytes`` in all, ``last_turn_bytes`` (the last request alone) and the last id."""
    return {"seconds": time.perf_counter() - started, "client_bytes": sum(sent), "last_turn_bytes": sent[-1],
            "events": events, "last_response_id": last_id}


async def websocket_loop(port: int, turns: int = TURNS) -> dict[str, Any]:
    started, events = time.perf_counter(), 0
    sent: list[int] = []
    async with connect(f"ws://127.0.0.1:{port}/v1/responses", max_size=None) as socket:
        body = _create([{"role": "user", "content": TASK}], store=False)
        for _ in range(turns):
            raw = json.dumps({"type": "response.create", **body})
            sent.append(len(raw))
            await socket.send(raw)
            while True:
                event = json.loads(await socket.recv())
                events += 1
                if event["type"] in ("response.completed", "response.failed", "response.incomplete", "error"):
                    break
            if event["type"] != "response.completed":
                raise RuntimeError(f"turn failed: {event}")
            response = event["response"]
            body = _create([_output(_tool_call(response))], store=False, previous_response_id=response["id"])
    return _result(started, sent, events, response["id"])


async def _http_turn(client: httpx.AsyncClient, raw: str) -> tuple[dict[str, Any], int]:
    """One streamed POST: the final response (from ``response.completed``) and how many events came."""
    final: dict[str, Any] | None = None
    events = 0
    async with client.stream("POST", "/v1/responses", content=raw, headers=HEADERS) as reply:
        if reply.status_code != 200:
            raise RuntimeError(f"HTTP {reply.status_code}: {(await reply.aread())[:300]!r}")
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                events += 1
                if event["type"] == "response.completed":
                    final = event["response"]
    if final is None:
        raise RuntimeError("the stream ended without response.completed")
    return final, events


async def http_loop(port: int, turns: int = TURNS) -> dict[str, Any]:
    """HTTP without a store: the whole conversation, growing by a call and its output, resent every turn."""
    started, events = time.perf_counter(), 0
    sent: list[int] = []
    items: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for _ in range(turns):
            raw = json.dumps(_create(items, stream=True, store=False))
            sent.append(len(raw))
            final, count = await _http_turn(client, raw)
            events += count
            call = _tool_call(final)
            items += [{k: call[k] for k in ("type", "call_id", "name", "arguments")}, _output(call)]
    return _result(started, sent, events, final["id"])


async def http_previous_loop(port: int, turns: int = TURNS) -> dict[str, Any]:
    """HTTP with the gateway's store: after turn 1 only the tool output and ``previous_response_id``."""
    started, events = time.perf_counter(), 0
    sent: list[int] = []
    body = _create([{"role": "user", "content": TASK}], stream=True, store=True)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for _ in range(turns):
            raw = json.dumps(body)
            sent.append(len(raw))
            final, count = await _http_turn(client, raw)
            events += count
            body = _create([_output(_tool_call(final))], stream=True, store=True, previous_response_id=final["id"])
    return _result(started, sent, events, final["id"])


# name in the results -> the loop; the order is the first repeat's (each later repeat rotates it by one).
LOOPS: dict[str, Callable[[int, int], Coroutine[Any, Any, dict[str, Any]]]] = {
    "websocket": websocket_loop,
    "http": http_loop,  # resend (the key predates the other HTTP variant; results.json keeps it)
    "http_previous": http_previous_loop,
}


def compare(port: int, *, turns: int = TURNS, repeats: int = 7) -> dict[str, Any]:
    """Every loop ``repeats`` times, interleaved, after one warm-up each; medians and the ratios."""
    for loop in LOOPS.values():
        asyncio.run(loop(port, 2))
    names = list(LOOPS)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(asyncio.run(LOOPS[name](port, turns)))
    summary: dict[str, Any] = {"turns": turns, "repeats": repeats, "runs": runs}
    for name, samples in runs.items():
        summary[f"{name}_ms"] = statistics.median(s["seconds"] for s in samples) * 1000
        summary[f"{name}_client_kib"] = samples[0]["client_bytes"] / 1024
    summary["ratio"] = summary["websocket_ms"] / summary["http_ms"]  # WebSocket / HTTP-resend
    summary["ratio_previous"] = summary["websocket_ms"] / summary["http_previous_ms"]
    return summary


def describe(summary: dict[str, Any]) -> str:
    return (f"{summary['turns']}-tool-call loop: WebSocket {summary['websocket_ms']:.0f} ms "
            f"({summary['websocket_client_kib']:.0f} KiB sent), HTTP resend {summary['http_ms']:.0f} ms "
            f"({summary['http_client_kib']:.0f} KiB sent), HTTP previous_response_id "
            f"{summary['http_previous_ms']:.0f} ms ({summary['http_previous_client_kib']:.0f} KiB sent); "
            f"WebSocket / HTTP resend = {summary['ratio']:.2f}, "
            f"WebSocket / HTTP previous_response_id = {summary['ratio_previous']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True,
                        help="a gateway with a store (store_url not off) whose deployment is a stub agent*")
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="also write the summary (every run's figures) to this file")
    args = parser.parse_args()
    summary = compare(args.port, turns=args.turns, repeats=args.repeats)
    print(describe(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
