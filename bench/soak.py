"""Soak test: many concurrent clients against gateway + emulator, with faults injected at random.

    python bench/soak.py                       # 64 clients, 10 minutes, 5% faults
    python bench/soak.py --duration 60 --clients 32 --mix responses=3,chat=1

Starts the Azure emulator and the gateway as two separate processes (so the gateway's RSS is its own),
tells the emulator to inject a fault into a random 5% of requests, runs the clients, and reports the
outcomes by kind, p50/p99 latency, throughput, upstream attempts by outcome and retries (from the gateway's
own /metrics), and the gateway's RSS at the start and the end. Every request carries an ``x-request-id``;
a client-side failure is listed with it, so ``--gateway-log PATH`` finds the gateway's line for it.
``--url``/``--emulator-url``/``--pid`` point it at servers you started yourself.

The request mix is pluggable: a workload is an async function ``(client, headers) -> httpx.Response``
registered in ``WORKLOADS``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
AZURE_KEY = "emulator-key"

Workload = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]


async def responses(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    body = {"model": "x", "input": f"soak {random.random():.6f}"}
    return await client.post("/v1/responses", json=body, headers=headers)


async def chat(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    body = {"model": "x", "messages": [{"role": "user", "content": f"soak {random.random():.6f}"}]}
    return await client.post("/v1/chat/completions", json=body, headers=headers)


async def responses_stream(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    body = {"model": "x", "input": f"soak {random.random():.6f}", "stream": True}
    return await client.post("/v1/responses", json=body, headers=headers)


async def chat_stream(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    body = {"model": "x", "messages": [{"role": "user", "content": f"soak {random.random():.6f}"}], "stream": True}
    return await client.post("/v1/chat/completions", json=body, headers=headers)


WORKLOADS: dict[str, Workload] = {
    "responses": responses,
    "chat": chat,
    "responses_stream": responses_stream,
    "chat_stream": chat_stream,
}

# What the emulator injects into a random `--fault-rate` share of requests. Most are absorbed by the
# gateway's retries; malformed bodies (502) and content-filter rejections (400) reach the client by design.
FAULTS = [
    {"fault": "throttle", "retry_after_ms": 50},
    {"fault": "throttle", "retry_after": "0"},
    {"fault": "server_error", "status": 500},
    {"fault": "server_error", "status": 503},
    {"fault": "reset"},
    {"fault": "reset", "after_bytes": 30},
    {"fault": "malformed"},
    {"fault": "content_filter"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_up(url: str, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise SystemExit(f"server at {url} did not start") from None
            time.sleep(0.1)


def start_servers(
    num_concurrent: int, gateway_log: str | None
) -> tuple[str, str, list[subprocess.Popen[bytes]]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    e_port, g_port = free_port(), free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "app", "emulator", "--port", str(e_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    emulator_url = f"http://127.0.0.1:{e_port}"
    wait_up(f"{emulator_url}/_emulator/script", emulator)
    gateway_env = {
        **env,
        "GATEWAY_OPENAI_BASE_URL": emulator_url,
        "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": "gpt-4o-mini",
        "GATEWAY_API_VERSION": "2024-10-21",
        "GATEWAY_NUM_CONCURRENT_REQUESTS": str(num_concurrent),
    }
    log = open(gateway_log, "wb") if gateway_log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    gateway = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(g_port)],
        env=gateway_env,
        cwd=REPO,
        stdout=log,
        stderr=log,
    )
    gateway_url = f"http://127.0.0.1:{g_port}"
    wait_up(f"{gateway_url}/openapi.json", gateway)
    return gateway_url, emulator_url, [gateway, emulator]


def upstream_counts(gateway_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Calls to Azure by outcome and retries by reason, from the gateway's own /metrics."""
    attempts: dict[str, int] = {}
    retries: dict[str, int] = {}
    text = httpx.get(f"{gateway_url}/metrics", timeout=30).text
    for line in text.splitlines():
        for prefix, into, label in (
            ("gateway_upstream_attempts_total{", attempts, "outcome"),
            ("gateway_upstream_retries_total{", retries, "reason"),
        ):
            if line.startswith(prefix):
                labels, _, value = line[len(prefix) :].rpartition("} ")
                name = labels.split(f'{label}="', 1)[1].split('"', 1)[0]
                into[name] = int(float(value))
    return attempts, retries


def parse_mix(text: str) -> list[tuple[str, float]]:
    mix = []
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in WORKLOADS:
            raise SystemExit(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
        mix.append((name, float(weight or 1)))
    return mix


def kind_of(response: httpx.Response) -> str:
    if response.status_code < 400:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            text = response.text
            if "/responses" in str(response.request.url):
                if "event: response.failed" in text:
                    return "stream ended response.failed"
                if "event: response.completed" not in text and "event: response.incomplete" not in text:
                    return "stream cut before its terminal event"
            elif "data: [DONE]" not in text:
                return "stream cut before [DONE]"
            elif 'data: {"error"' in text:
                return "stream error chunk"
        return "ok"
    try:
        code = response.json()["error"]["code"]
    except Exception:
        code = "?"
    return f"{response.status_code} {code}"


async def run(
    args: argparse.Namespace, gateway_url: str
) -> tuple[Counter[str], Counter[str], list[float], list[str]]:
    mix = parse_mix(args.mix)
    names = [n for n, _ in mix]
    weights = [w for _, w in mix]
    outcomes: Counter[str] = Counter()
    by_workload: Counter[str] = Counter()
    latencies: list[float] = []
    failures: list[str] = []
    stop_at = time.monotonic() + args.duration
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            name = random.choices(names, weights)[0]
            request_id = f"soak-{len(latencies) + len(failures)}-{random.getrandbits(32):08x}"
            started = time.perf_counter()
            try:
                kind = kind_of(await WORKLOADS[name](client, {"x-request-id": request_id}))
            except httpx.HTTPError as exc:
                kind = f"client {type(exc).__name__}"
                # The id finds the gateway's own line for it in --gateway-log.
                failures.append(f"{request_id} {name}: {exc!r} after {time.perf_counter() - started:.3f}s")
            latencies.append(time.perf_counter() - started)
            outcomes[kind] += 1
            by_workload[name] += 1

    async with httpx.AsyncClient(base_url=gateway_url, timeout=120, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(args.clients)))
    return outcomes, by_workload, latencies, failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds to run (default 600)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of upstream calls faulted")
    parser.add_argument(
        "--mix",
        default="responses=1,chat=1,responses_stream=1,chat_stream=1",
        help=f"workload weights, e.g. responses=3,chat=1 (known: {', '.join(WORKLOADS)})",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="gateway num_concurrent_requests")
    parser.add_argument("--url", help="use a running gateway instead of starting one")
    parser.add_argument("--emulator-url", help="the running gateway's emulator (for fault injection)")
    parser.add_argument("--pid", type=int, help="the running gateway's pid (for RSS)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gateway-log", metavar="PATH", help="write the started gateway's JSON log lines here")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON only")
    args = parser.parse_args()
    random.seed(args.seed)

    procs: list[subprocess.Popen[bytes]] = []
    if args.url:
        gateway_url, emulator_url, pid = args.url, args.emulator_url, args.pid
    else:
        gateway_url, emulator_url, procs = start_servers(args.concurrency, args.gateway_log)
        pid = procs[0].pid
    try:
        if emulator_url:
            httpx.delete(f"{emulator_url}/_emulator/requests")
            mix = {"rate": args.fault_rate, "seed": args.seed, "faults": FAULTS}
            httpx.post(f"{emulator_url}/_emulator/faults", json=mix).raise_for_status()
        rss_start = rss_mib(pid) if pid else float("nan")
        started = time.monotonic()
        outcomes, by_workload, latencies, failures = asyncio.run(run(args, gateway_url))
        total = len(latencies)
        elapsed = time.monotonic() - started
        rss_end = rss_mib(pid) if pid else float("nan")
        injected = None
        if emulator_url:
            injected = httpx.get(f"{emulator_url}/_emulator/faults").json()["injected"]
            httpx.delete(f"{emulator_url}/_emulator/faults")
        attempts, retries = upstream_counts(gateway_url)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)

    summary = {
        "duration_s": round(elapsed, 1),
        "clients": args.clients,
        "fault_rate": args.fault_rate,
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "by_workload": dict(by_workload),
        "outcomes": dict(outcomes.most_common()),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        "faults_injected": injected,
        "upstream_attempts": attempts,
        "upstream_attempts_per_request": round(sum(attempts.values()) / max(total, 1), 3),
        "retries": retries,
        "client_errors": failures[:20],
        "rss_mib_start": round(rss_start, 1),
        "rss_mib_end": round(rss_end, 1),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            if key == "client_errors":
                print(f"{key:>30}: {len(failures)}")
                for failure in value:
                    print(f"{'':>32}{failure}")
            else:
                print(f"{key:>30}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
