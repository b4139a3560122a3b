"""The background phase: what ``background: true`` costs against the same request answered inline.

Against one gateway on the stub with a store (bench/run.py starts it on a fresh SQLite file), in one run:

* ``queued_ms``: a background create until its ``queued`` answer - what the client waits now;
* ``done_ms``: create, then ``GET`` every 2 ms until ``completed``, against ``inline_ms``, the same request
  answered inline (``store: true``): the run's own overhead (two more row writes, a task) plus poll granularity;
* ``stream_ms`` / ``inline_stream_ms``: a background stream read to its last event, against a plain stream;
  ``resume_ms``: replaying a finished run's kept events from the start (``GET ?stream=true``);
* ``burst``: 200 background creates from 16 concurrent clients, each polled to completion, against 200 inline
  creates from 16 clients: responses per second end to end.

Medians of the samples; one process, so the figures move with the machine as every wall-clock figure here does.

    python bench/background_phase.py --port 8000    # against a gateway already running on the stub
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import payloads

SAMPLES = 60
BURST = 200
BURST_CLIENTS = 16
POLL = 0.002


def _body(**extra: Any) -> dict[str, Any]:
    return {**payloads.responses_small(), **extra}


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50": round(statistics.median(ordered) * 1000, 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


async def _until_done(http: httpx.AsyncClient, response_id: str) -> dict[str, Any]:
    while True:
        got = (await http.get(f"/v1/responses/{response_id}")).json()
        if got["status"] not in ("queued", "in_progress"):
            return got
        await asyncio.sleep(POLL)


async def _stream_seconds(
    http: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None
) -> tuple[float, int]:
    started = time.perf_counter()
    events = 0
    async with http.stream(method, url, json=body) as reply:
        reply.raise_for_status()
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                events += 1
    return time.perf_counter() - started, events


async def measure(port: int, samples: int = SAMPLES, burst: int = BURST) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        queued, done, inline, stream, inline_stream, resume = [], [], [], [], [], []
        for _ in range(samples):
            started = time.perf_counter()
            reply = await http.post("/v1/responses", json=_body(background=True))
            queued.append(time.perf_counter() - started)
            assert reply.json()["status"] == "queued", reply.text
            final = await _until_done(http, reply.json()["id"])
            done.append(time.perf_counter() - started)
            assert final["status"] == "completed", final
            started = time.perf_counter()
            assert (await http.post("/v1/responses", json=_body())).status_code == 200
            inline.append(time.perf_counter() - started)
            seconds, _ = await _stream_seconds(http, "POST", "/v1/responses", _body(background=True, stream=True))
            stream.append(seconds)
            seconds, _ = await _stream_seconds(http, "POST", "/v1/responses", _body(stream=True))
            inline_stream.append(seconds)
        # The last background stream's id, then its replay from the start.
        reply = await http.post("/v1/responses", json=_body(background=True, stream=True))
        first = json.loads(next(line for line in reply.text.splitlines() if line.startswith("data: "))[6:])
        await _until_done(http, first["response"]["id"])
        for _ in range(samples):
            seconds, events = await _stream_seconds(
                http, "GET", f"/v1/responses/{first['response']['id']}?stream=true", None
            )
            resume.append(seconds)
        bursts = {"background": await _burst(http, burst, True), "inline": await _burst(http, burst, False)}
    return {
        "queued_ms": _ms(queued), "done_ms": _ms(done), "inline_ms": _ms(inline),
        "stream_ms": _ms(stream), "inline_stream_ms": _ms(inline_stream),
        "resume_ms": _ms(resume), "resume_events": events, "burst": bursts, "samples": samples,
    }  # fmt: skip


async def _burst(http: httpx.AsyncClient, n: int, background: bool) -> dict[str, float]:
    todo = list(range(n))

    async def client() -> None:
        while todo:
            todo.pop()
            reply = await http.post("/v1/responses", json=_body(background=background))
            assert reply.status_code == 200, reply.text
            if background:
                assert (await _until_done(http, reply.json()["id"]))["status"] == "completed"

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(BURST_CLIENTS)))
    seconds = time.perf_counter() - started
    return {"responses": n, "seconds": round(seconds, 2), "per_second": round(n / seconds, 1)}


def describe(result: dict[str, Any]) -> str:
    b = result["burst"]
    return (
        f"queued answer p50 {result['queued_ms']['p50']} ms; done (polled) p50 {result['done_ms']['p50']} ms vs "
        f"inline {result['inline_ms']['p50']} ms; stream {result['stream_ms']['p50']} ms vs "
        f"{result['inline_stream_ms']['p50']} ms; resume of {result['resume_events']} events "
        f"{result['resume_ms']['p50']} ms; burst {b['background']['per_second']} vs {b['inline']['per_second']} "
        "responses/s"
    )


def report_lines(result: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """The RESULTS.md section (no targets: background mode has none of its own)."""
    b = result["burst"]
    rows = [
        ("until the `queued` answer", result["queued_ms"], None),
        ("until `completed` (polling every 2 ms) / inline JSON", result["done_ms"], result["inline_ms"]),
        ("stream to its last event / plain stream", result["stream_ms"], result["inline_stream_ms"]),
        (f"replay of a finished run's {result['resume_events']} kept events", result["resume_ms"], None),
    ]
    lines = [
        "## Background responses (bench/background_phase.py)",
        "",
        f"`background: true` against the same request answered inline, on a fresh SQLite store, "
        f"{result['samples']} samples each.",
        "",
        "| measure | background p50 / p95 ms | inline p50 / p95 ms |",
        "|---|---|---|",
    ]
    for name, ours, inline in rows:
        other = f"{inline['p50']} / {inline['p95']}" if inline else "-"
        lines.append(f"| {name} | {ours['p50']} / {ours['p95']} | {other} |")
    lines += [
        "",
        f"{b['background']['responses']} responses from {BURST_CLIENTS} clients, each polled to completion: "
        f"{b['background']['per_second']} responses/s in background, {b['inline']['per_second']} inline.",
        "",
    ]
    return lines, []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--burst", type=int, default=BURST)
    args = parser.parse_args()
    result = asyncio.run(measure(args.port, args.samples, args.burst))
    print(json.dumps(result, indent=2))
    print(describe(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
