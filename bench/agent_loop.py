"""The WebSocket phase: a 20-tool-call agent loop over one WebSocket connection vs the same loop over HTTP.

The loop is what a coding agent's rollout does: a task, then per turn the model calls ``read_file`` and the
client answers with the file (about 2 KB). The stub's ``agent*`` deployments answer every request with that
tool call (bench/stub.py), so all 20 turns are tool calls and the loop is the same on both transports.

* WebSocket: one connection; turn 1 sends the task, every later turn only the tool output and
  ``previous_response_id`` with ``store: false`` (the connection's cache holds the chain).
* HTTP: one keep-alive connection, ``stream: true``, the whole conversation resent every turn - what a
  client has to do while the gateway stores no responses (the store, issue 15, adds ``previous_response_id``
  over HTTP; a third variant goes here when it lands).

Both read every event as JSON, as a client does. Reported: wall time per loop (median of the repeats,
the two transports interleaved so drift hurts both alike), the bytes the client sent, and the ratio.

    python bench/agent_loop.py --port 8000      # against a gateway already running on an agent deployment
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
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


async def websocket_loop(port: int, turns: int = TURNS) -> dict[str, float]:
    started, sent, events = time.perf_counter(), 0, 0
    async with connect(f"ws://127.0.0.1:{port}/v1/responses", max_size=None) as socket:
        body = _create([{"role": "user", "content": TASK}], store=False)
        for _ in range(turns):
            raw = json.dumps({"type": "response.create", **body})
            sent += len(raw)
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
    return {"seconds": time.perf_counter() - started, "client_bytes": sent, "events": events}


async def http_loop(port: int, turns: int = TURNS) -> dict[str, float]:
    started, sent, events = time.perf_counter(), 0, 0
    items: list[dict[str, Any]] = [{"role": "user", "content": TASK}]
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for _ in range(turns):
            raw = json.dumps(_create(items, stream=True, store=False))
            sent += len(raw)
            final: dict[str, Any] | None = None
            async with client.stream("POST", "/v1/responses", content=raw, headers=headers) as reply:
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
            call = _tool_call(final)
            items += [{k: call[k] for k in ("type", "call_id", "name", "arguments")}, _output(call)]
    return {"seconds": time.perf_counter() - started, "client_bytes": sent, "events": events}


def compare(port: int, *, turns: int = TURNS, repeats: int = 7) -> dict[str, Any]:
    """Both loops ``repeats`` times, interleaved, after one warm-up each; medians and the ratio."""
    asyncio.run(websocket_loop(port, 2))
    asyncio.run(http_loop(port, 2))
    runs: dict[str, list[dict[str, float]]] = {"websocket": [], "http": []}
    for _ in range(repeats):
        runs["websocket"].append(asyncio.run(websocket_loop(port, turns)))
        runs["http"].append(asyncio.run(http_loop(port, turns)))
    summary: dict[str, Any] = {"turns": turns, "repeats": repeats, "runs": runs}
    for name, samples in runs.items():
        summary[f"{name}_ms"] = statistics.median(s["seconds"] for s in samples) * 1000
        summary[f"{name}_client_kib"] = samples[0]["client_bytes"] / 1024
    summary["ratio"] = summary["websocket_ms"] / summary["http_ms"]
    return summary


def describe(summary: dict[str, Any]) -> str:
    return (f"{summary['turns']}-tool-call loop: WebSocket {summary['websocket_ms']:.0f} ms "
            f"({summary['websocket_client_kib']:.0f} KiB sent), HTTP {summary['http_ms']:.0f} ms "
            f"({summary['http_client_kib']:.0f} KiB sent); WebSocket / HTTP = {summary['ratio']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="a gateway whose deployment is a stub agent*")
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    summary = compare(args.port, turns=args.turns, repeats=args.repeats)
    print(describe(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
