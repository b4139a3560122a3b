"""The fleet phase of ``make bench``: replicas sharing Azure quota through Redis, and a pool with failover.

    python bench/fleet.py                 # this phase alone, printed and written to bench/out/fleet.json
    python bench/fleet.py --requests 300  # more requests per point

Azure is the emulator (``python -m app emulator``), whose deployments enforce rpm quotas per second the way
Azure does and count what they accepted and throttled - so the 429s are counted where Azure counts them.
Points, each with ``--replicas`` gateway processes (3) driven round-robin at ``--concurrency``:

* ``shared``: one deployment at ``--rpm`` (600 = 10 requests/s), budgets in Redis;
* ``local``: the same without Redis (each process spends the whole quota on its own), for comparison;
* ``pool``: two deployments at ``--rpm`` each, budgets in Redis: goodput against the combined quota;
* ``failover``: the same pool with one deployment answering 503 to everything.

Figures per point: wall time, goodput (answered requests per second as a share of the quota), Azure's 429s
per 1,000 calls, what the clients saw, and per deployment the calls it received.
Needs Redis at 127.0.0.1:6379 (``--redis-url``); keys go under a random prefix and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
KEY = "emulator-key"
API_VERSION = "2024-10-21"
DEPLOYMENTS = ("fleet-a", "fleet-b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited during startup")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}{path}", timeout=5).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


@contextlib.contextmanager
def process(cmd: list[str], env: dict[str, str], ready: str, name: str) -> Iterator[str]:
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / f"{name}.log", "wb") as log:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=OUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc, ready)
            yield url
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def gateway_env(
    emulator: str, rpm: int, deployments: tuple[str, ...], redis: str | None, prefix: str
) -> dict[str, str]:
    pool = [
        {"openai_base_url": emulator, "openai_model": name, "openai_api_key": KEY, "rpm": rpm} for name in deployments
    ]
    env = {
        "GATEWAY_API_VERSION": API_VERSION,
        "GATEWAY_DEPLOYMENTS": json.dumps(pool),
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_BREAKER_COOLDOWN": "2",
        "GATEWAY_REDIS_PREFIX": prefix,
    }
    if redis:
        env["GATEWAY_REDIS_URL"] = redis
    return env


async def _drive(urls: list[str], requests: int, concurrency: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    served_by: Counter[str] = Counter()
    todo = iter(range(requests))
    body = {"model": "any", "messages": [{"role": "user", "content": "hello"}]}

    async def worker(client: httpx.AsyncClient) -> None:
        for i in todo:
            reply = await client.post(f"{urls[i % len(urls)]}/v1/chat/completions", json=body)
            statuses[reply.status_code] += 1
            served_by[reply.headers.get("x-gateway-deployment", "")] += 1

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return {"seconds": time.monotonic() - started, "statuses": dict(statuses), "served_by": dict(served_by)}


def emulator_stats(url: str) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = httpx.get(f"{url}/_emulator/deployments").json()
    return {name: {k: v for k, v in stats.items() if k != "accepted_at"} for name, stats in data.items()}


def point(args: argparse.Namespace, emulator: str, name: str, deployments: tuple[str, ...], redis: str | None,
          outage: str | None = None) -> dict[str, Any]:
    prefix = f"bench-fleet-{secrets.token_hex(4)}"
    for deployment in DEPLOYMENTS:
        fault = {"fault": "server_error", "status": 503} if deployment == outage else None
        httpx.put(f"{emulator}/_emulator/deployments/{deployment}", json={"outage": fault}).raise_for_status()
    env = gateway_env(emulator, args.rpm, deployments, redis, prefix)
    cmd = [sys.executable, "-m", "app", "serve"]
    try:
        with contextlib.ExitStack() as stack:
            names = [f"fleet_{name}_{i}" for i in range(args.replicas)]
            urls = [stack.enter_context(process(cmd, env, "/readyz", log)) for log in names]
            time.sleep(1.5)  # let every bucket fill: each point starts from a rested quota
            before = emulator_stats(emulator)
            drove = asyncio.run(_drive(urls, args.requests, args.concurrency))
            after = emulator_stats(emulator)
    finally:
        if redis:
            with contextlib.suppress(Exception):
                import redis as redis_py

                client = redis_py.Redis.from_url(redis)
                keys = list(client.scan_iter(match=f"{prefix}:*"))
                if keys:
                    client.delete(*keys)
                client.close()
    per = {d: {k: after[d][k] - before.get(d, {}).get(k, 0) for k in ("received", "accepted", "throttled", "failed")}
           for d in deployments}  # fmt: skip
    calls = sum(p["received"] for p in per.values())
    throttled = sum(p["throttled"] for p in per.values())
    healthy = [d for d in deployments if d != outage]
    quota_rps = args.rpm / 60 * len(healthy)
    ok = drove["statuses"].get(200, 0)
    result = {
        "name": name, "replicas": args.replicas, "requests": args.requests, "redis": bool(redis),
        "deployments": list(deployments), "outage": outage, "quota_rps": quota_rps, **drove,
        "pace_seconds": args.requests / quota_rps, "calls": calls, "throttled": throttled,
        "throttled_per_1000": 1000 * throttled / calls if calls else 0.0,
        "goodput_share": (ok / drove["seconds"]) / quota_rps, "per_deployment": per,
    }  # fmt: skip
    print(
        f"fleet {name}: {drove['seconds']:.1f}s (pace {result['pace_seconds']:.1f}s), goodput "
        f"{result['goodput_share']:.0%} of {quota_rps:g} req/s, {result['throttled_per_1000']:.0f} 429s per 1,000 "
        f"calls, clients saw {drove['statuses']}, per deployment {per}",
        flush=True,
    )
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "app", "emulator", *[f"--deployment={d}" for d in DEPLOYMENTS],
           *[f"--quota={d}={args.rpm}" for d in DEPLOYMENTS]]  # fmt: skip
    redis = args.redis_url
    with process(cmd, {}, "/_emulator/deployments", "fleet_emulator") as emulator:
        points = [
            point(args, emulator, "shared", DEPLOYMENTS[:1], redis),
            point(args, emulator, "local", DEPLOYMENTS[:1], None),
            point(args, emulator, "pool", DEPLOYMENTS, redis),
            point(args, emulator, "failover", DEPLOYMENTS, redis, outage=DEPLOYMENTS[1]),
        ]
    return {"rpm": args.rpm, "points": points}


def report_lines(fleet: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """The RESULTS.md section and the targets it checks."""
    lines = [
        "## Fleet: replicas sharing Azure's quota (bench/fleet.py)",
        "",
        f"Emulated Azure deployments at {fleet['rpm']} rpm each, enforced per second; 429s counted by the emulator.",
        "",
        "| point | replicas | Redis | deployments | requests | seconds (pace) | goodput ÷ quota | 429s / 1,000 calls | "
        "clients saw | calls per deployment |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    targets: list[tuple[str, str, str, str]] = []
    for p in fleet["points"]:
        deployments = ", ".join(p["deployments"]) + (f" ({p['outage']} down)" if p["outage"] else "")
        calls = ", ".join(f"{d}: {v['received']}" for d, v in p["per_deployment"].items())
        lines.append(
            f"| {p['name']} | {p['replicas']} | {'yes' if p['redis'] else 'no'} | {deployments} | {p['requests']} | "
            f"{p['seconds']:.1f} ({p['pace_seconds']:.1f}) | {p['goodput_share']:.0%} | "
            f"{p['throttled_per_1000']:.0f} | {p['statuses']} | {calls} |"
        )
        answered = p["statuses"].get("200", p["statuses"].get(200, 0)) == p["requests"]
        if p["redis"]:
            share = p["throttled"] / p["calls"] if p["calls"] else 0
            targets.append((f"fleet {p['name']}: Azure 429s", "≤ 5% of calls", f"{share:.1%}",
                            "met" if share <= 0.05 else "missed"))
            ratio = p["seconds"] / p["pace_seconds"]
            targets.append((f"fleet {p['name']}: time", "≤ 1.5× the quota's pace", f"{ratio:.2f}×",
                            "met" if ratio <= 1.5 and answered else "missed"))
    lines.append("")
    return lines, targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    result = run(args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fleet.json").write_text(json.dumps(result, indent=1))
    print("\n".join(report_lines(result)[0]))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=150, help="requests per fleet point (default 150)")
    parser.add_argument("--replicas", type=int, default=3, help="gateway processes per point (default 3)")
    parser.add_argument("--rpm", type=int, default=600, help="each deployment's quota (default 600 = 10/s)")
    parser.add_argument("--concurrency", type=int, default=30, help="client connections (default 30)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")


if __name__ == "__main__":
    sys.exit(main())
