"""The stored-responses phase of bench/run.py: what ``store: true`` costs, and a 50-turn chain.

Against one gateway on the stub with the embedded SQLite store (a fresh file), in the same run:

* ``responses_small`` with ``store: false`` and with ``store: true`` at 1 and 64 connections, interleaved per
  repeat so both see the same machine: the added p50 and the share of req/s that storing costs.
* A 50-turn ``previous_response_id`` chain, one request after another (each turn's chain is read in one
  query and the turn written before the answer): the latency of turns 1, 10, 25 and 50, against the same
  turns with ``store: false`` and the whole history sent in ``input`` (what a stateless client does).

Also with ``memory`` (an in-process SQLite database: the same SQL without the file) and on Postgres when
127.0.0.1:5432 answers (a throwaway database, dropped at the end). A shared 2-core machine moves wall-clock
figures by tens of percent between minutes, so each backend also gets the store's own cost timed in one
process with no HTTP in between (``in_process``: p50 microseconds per save, chain read and get).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import payloads

TURNS = 50
SAMPLED_TURNS = (1, 10, 25, 50)
PORT = 18210


def _postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _chain(url: str, store: bool) -> list[float]:
    """Milliseconds per turn of a 50-turn conversation: chained by id (store) or resent whole (no store)."""
    times: list[float] = []
    history: list[dict[str, Any]] = []
    previous: str | None = None
    with httpx.Client(base_url=url, timeout=30) as client:
        for turn in range(1, TURNS + 1):
            message = {"role": "user", "content": f"Turn {turn}: say hello in one short sentence."}
            body: dict[str, Any] = {"model": payloads.MODEL, "store": store}
            if store:
                body["input"] = [message]
                if previous:
                    body["previous_response_id"] = previous
            else:
                history.append(message)
                body["input"] = list(history)
            started = time.perf_counter()
            reply = client.post("/v1/responses", content=json.dumps(body), headers={"content-type": "application/json"})
            times.append((time.perf_counter() - started) * 1000)
            if reply.status_code != 200:
                raise RuntimeError(f"turn {turn}: HTTP {reply.status_code} {reply.text[:300]}")
            data = reply.json()
            previous = data["id"]
            if not store:
                history += [
                    {"role": "assistant", "content": part["text"]}
                    for item in data["output"] if item["type"] == "message"
                    for part in item["content"] if part["type"] == "output_text"
                ]  # fmt: skip
    return times


async def _in_process(store_url: str, n: int = 400) -> dict[str, float]:
    """The store's own cost, timed in this process (no HTTP, no stub): p50 microseconds per operation."""
    from app.store import Item, Turn, open_store

    store = open_store(store_url, retention=30 * 86400)
    assert store is not None
    await store.open()
    body = b'{"id":"resp_x","object":"response","output":[' + b'{"type":"message","text":"' + b"x" * 900 + b'"}]}'
    item = b'{"type":"message","role":"user","content":[{"type":"input_text","text":"' + b"y" * 200 + b'"}]}'

    def turn(rid: str, previous: str | None) -> Turn:
        return Turn(response_id=rid, created_at=int(time.time()), body=body, previous_id=previous,
                    input_items=[Item(f"{rid}-i", item)], output_items=[Item(f"{rid}-o", item)])  # fmt: skip

    tenant = secrets.token_hex(4)
    save: list[float] = []
    previous = None
    for n_turn in range(n):
        rid = f"resp_{secrets.token_hex(12)}"
        started = time.perf_counter()
        await store.save_turn(tenant, turn(rid, previous if n_turn % TURNS else None))
        save.append(time.perf_counter() - started)
        previous = rid
    chain: list[float] = []
    get: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        await store.chain(tenant, previous or "")
        chain.append(time.perf_counter() - started)
        started = time.perf_counter()
        await store.get_response(tenant, previous or "")
        get.append(time.perf_counter() - started)
    await store.aclose()
    depth = n % TURNS or TURNS

    def us(samples: list[float]) -> float:
        return round(statistics.median(samples) * 1e6, 1)

    return {"save_turn_us": us(save), f"chain_depth_{depth}_us": us(chain), "get_response_us": us(get)}


def run(
    bench: Any,
    *,
    start: Callable[..., Any],
    measure: Callable[..., dict[str, Any]],
    run_wrk: Callable[..., dict[str, Any]],
    gateway_env: Callable[[int], dict[str, str]],
    cpus: Callable[[bool, str], list[str]],
    out: Path,
    stub_port: int,
) -> dict[str, Any]:
    a = bench.args
    backends: list[tuple[str, str]] = []
    sqlite_file = out / "store-bench.sqlite3"
    for leftover in out.glob("store-bench.sqlite3*"):
        leftover.unlink()
    backends.append(("sqlite", f"sqlite:///{sqlite_file}"))
    backends.append(("memory", "memory"))
    pg_db = f"gw_bench_{secrets.token_hex(4)}"
    if _postgres_up():
        asyncio.run(_admin(f'CREATE DATABASE "{pg_db}"'))
        backends.append(("postgres", f"postgresql://postgres@127.0.0.1:5432/{pg_db}"))
    else:
        bench.note("store phase: Postgres not reachable at 127.0.0.1:5432; SQLite only")
    results: dict[str, Any] = {}
    try:
        for name, store_url in backends:
            env = {**gateway_env(stub_port), "GATEWAY_STORE_URL": store_url}
            server = start(f"gateway_store_{name}", [*cpus(a.pin, "0"), bench.python, "-m", "app", "serve",
                                                     "--port", str(PORT)], PORT, env=env)  # fmt: skip
            try:
                url = f"http://127.0.0.1:{PORT}/v1/responses"
                bodies = {
                    flag: payloads.encode({**payloads.responses_small(), "store": flag}) for flag in (False, True)
                }
                for body in bodies.values():
                    run_wrk(url, body, 16, 1, {}, a.pin)  # warm
                points: list[dict[str, Any]] = []
                for repeat in range(a.repeats):
                    for conns in (1, 64):
                        for flag, body in bodies.items():
                            point = measure(server, url, body, conns, a.duration, a.pin)
                            point.update(store=flag, conns=conns, repeat=repeat)
                            points.append(point)
                            print(f"store {name:8} c={conns:<3} store={flag!s:5} {point['rps']:8.0f} req/s  "
                                  f"p50 {point['p50_ms']:.3f} ms  err {point['errors']}", flush=True)  # fmt: skip
                chains = {"store": _chain(f"http://127.0.0.1:{PORT}", True),
                          "resend": _chain(f"http://127.0.0.1:{PORT}", False)}  # fmt: skip
                in_process = asyncio.run(_in_process(store_url))
                results[name] = {"points": points, "chain_ms": chains, "summary": _summary(points, chains),
                                 "in_process": in_process}  # fmt: skip
                print(f"store {name}: {json.dumps(results[name]['summary'])} in-process {in_process}", flush=True)
            finally:
                server.stop()
    finally:
        if len(backends) > 1:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
    return results


def _summary(points: list[dict[str, Any]], chains: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for conns in (1, 64):
        def median(flag: bool, key: str, conns: int = conns) -> float:
            return statistics.median(p[key] for p in points if p["conns"] == conns and p["store"] is flag)

        off_p50, on_p50 = median(False, "p50_ms"), median(True, "p50_ms")
        off_rps, on_rps = median(False, "rps"), median(True, "rps")
        out[f"c{conns}"] = {
            "p50_ms_store_false": round(off_p50, 3), "p50_ms_store_true": round(on_p50, 3),
            "added_p50_ms": round(on_p50 - off_p50, 3),
            "rps_store_false": round(off_rps), "rps_store_true": round(on_rps),
            "rps_cost_pct": round(100 * (off_rps - on_rps) / off_rps, 1) if off_rps else None,
        }  # fmt: skip
    out["chain_turn_ms"] = {
        kind: {str(turn): round(times[turn - 1], 2) for turn in SAMPLED_TURNS} for kind, times in chains.items()
    }
    return out


def report_lines(store: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """The RESULTS.md section: what storing costs per backend, and the 50-turn chain."""
    lines = [
        "## Stored responses (bench/store_phase.py)",
        "",
        "`responses_small` with `store: false` against `store: true` (medians of the interleaved repeats), the "
        "latency of turns of a 50-turn chain (`previous_response_id`) against the same turns resent whole, and "
        "the store's own cost timed in one process.",
        "",
        "| backend | c=1 p50 ms false / true | c=64 req/s false / true (cost) | chain turn 1 / 50 ms (resend) | "
        "in-process save / chain(50) / get µs |",
        "|---|---|---|---|---|",
    ]
    for name, entry in store.items():
        if not isinstance(entry, dict) or "summary" not in entry:
            continue
        s, ip = entry["summary"], entry["in_process"]
        c1, c64, chain = s["c1"], s["c64"], s["chain_turn_ms"]
        lines.append(
            f"| {name} | {c1['p50_ms_store_false']} / {c1['p50_ms_store_true']} | {c64['rps_store_false']} / "
            f"{c64['rps_store_true']} ({c64['rps_cost_pct']}%) | {chain['store']['1']} / {chain['store']['50']} "
            f"({chain['resend']['1']} / {chain['resend']['50']}) | {ip['save_turn_us']} / "
            f"{ip.get('chain_depth_50_us', '-')} / {ip['get_response_us']} |"
        )
    lines.append("")
    return lines, []
