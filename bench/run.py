"""The whole benchmark: stub, gateway, LiteLLM and a direct call, side by side, into bench/RESULTS.md.

    make bench                       # everything (about 20 minutes on 2 cores)
    python bench/run.py --quick      # one short repeat of each point, to check the harness

Layout of one run: the fast stub (bench/stub.py) stands in for Azure; wrk (bench/wrk/post.lua) drives each
system in turn at each concurrency, interleaved per repeat so a noisy neighbour hurts every system alike;
``bench/sse_client.py`` measures time to first event and holds 1,000 streams open. The system under test is
pinned to CPU 0, wrk and the stub to CPU 1 (``--no-pin`` to turn off). CPU time per request is the system's
process tree's user+system time over the requests wrk completed. Raw numbers go to bench/out/results.json;
bench/report.py turns them into RESULTS.md and bench/chart.py into RESULTS.png. Last, the fleet phase
(bench/fleet.py): replicas sharing an emulated deployment's quota through Redis, and a pool with failover.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(ROOT))

from bench import agent_loop, background_phase, fleet, inbound, payloads, sse_client, store_phase  # noqa: E402

API_VERSION = "2024-10-21"
MASTER_KEY = "sk-bench-master-key"
AZURE_KEY = "bench-azure-key"
SLOW_DEPLOYMENT = "slow-gpt"
SLOW_MS = 20.0
PORTS = {"stub": 18100, "gateway": 18200, "gateway_slow": 18201, "gateway_workers": 18202, "gateway_agent": 18203,
         "gateway_background": 18204,
         "litellm": 18300}
# The WebSocket phase's stub deployments (bench/stub.py): every answer a tool call; the slow one paced like slow*.
AGENT_DEPLOYMENTS = ("agent-gpt", "slow-agent")
AGENT_STORE = "agent-loop-store.sqlite3"  # the store of the phase's HTTP previous_response_id variant


# ------------------------------------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    route: str
    body: dict[str, Any]
    stream: bool = False
    note: str = ""

    @property
    def gateway_body(self) -> bytes:
        return payloads.encode(self.body)

    @property
    def direct_body(self) -> bytes:
        return payloads.upstream_body(self.route, self.body)


SCENARIOS = [
    Scenario("responses_small", "/v1/responses", payloads.responses_small(), note="one short user message"),
    Scenario("responses_large", "/v1/responses", payloads.responses_large(), note="50 turns with tools, ~50 KB"),
    Scenario(
        "responses_codex", "/v1/responses", payloads.responses_codex(),
        note="Codex CLI turn 2: namespace/custom/tool_search tools, web_search omitted, reasoning replayed",
    ),
    Scenario("responses_stream", "/v1/responses", payloads.responses_small(True, 16), True, "16 chunks"),
    Scenario("responses_stream_1000", "/v1/responses", payloads.responses_small(True, 1000), True, "1,000 chunks"),
    Scenario("chat_small", "/v1/chat/completions", payloads.chat_small(), note="one short user message"),
    Scenario("chat_stream", "/v1/chat/completions", payloads.chat_small(True, 16), True, "16 chunks"),
]
CONCURRENCY = [1, 16, 64, 256]


# ------------------------------------------------------------------------------------------------ processes


def _cpus(pin: bool, cpus: str) -> list[str]:
    return ["taskset", "-c", cpus] if pin and shutil.which("taskset") and os.cpu_count() and os.cpu_count() >= 2 else []


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mib(pid: int) -> float:
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(name: str, cmd: list[str], port: int, env: dict[str, str] | None = None, cwd: Path = OUT,
          ready_path: str = "/", timeout: float = 90.0) -> Server:
    log = open(OUT / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited during startup; see {OUT / (name + '.log')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return Server(name, port, proc)
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{name} did not start within {timeout:.0f} s; see {OUT / (name + '.log')}")


def http_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> sse_client.StreamResult:
    raw = sse_client.request_bytes("127.0.0.1", port, path, body, headers)
    return asyncio.run(sse_client.stream_once("127.0.0.1", port, raw, timeout=30))


# The gateway runs as README's "Running for throughput" says: no per-request log line (--access-log turns it
# on, to measure what it costs).
ACCESS_LOG = "false"


def gateway_env(stub_port: int, deployment: str = payloads.MODEL) -> dict[str, str]:
    return {
        "GATEWAY_ACCESS_LOG": ACCESS_LOG,
        "GATEWAY_OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}",
        "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": deployment,
        "GATEWAY_API_VERSION": API_VERSION,
        "GATEWAY_NUM_CONCURRENT_REQUESTS": "1100",
        "PYTHONPATH": str(ROOT),
    }


def litellm_config(stub_port: int) -> Path:
    path = OUT / "litellm.yaml"
    models = []
    for name in (payloads.MODEL, SLOW_DEPLOYMENT):
        models.append(
            f"""  - model_name: {name}
    litellm_params:
      model: azure/{name}
      api_base: http://127.0.0.1:{stub_port}
      api_key: {AZURE_KEY}
      api_version: "{API_VERSION}"
      use_chat_completions_api: true
"""
        )
    path.write_text("model_list:\n" + "".join(models) + f"general_settings:\n  master_key: {MASTER_KEY}\n")
    return path


# ------------------------------------------------------------------------------------------------ wrk


def run_wrk(url: str, body: bytes, conns: int, seconds: float, headers: dict[str, str], pin: bool) -> dict[str, Any]:
    body_file = OUT / f"body-{abs(hash(body))}.json"
    if not body_file.exists():
        body_file.write_bytes(body)
    cmd = [*_cpus(pin, "1"), "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "--latency", "-s", str(BENCH / "wrk" / "post.lua"), url, "--", str(body_file)]
    cmd += [f"{k}: {v}" for k, v in headers.items()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(line.split(" ", 1)[1])


def measure(server: Server, url: str, body: bytes, conns: int, seconds: float, pin: bool) -> dict[str, Any]:
    cpu0 = cpu_seconds(server.pid)
    result = run_wrk(url, body, conns, seconds, server.headers, pin)
    cpu = cpu_seconds(server.pid) - cpu0
    n = result["requests"]
    errors = sum(result["errors"].values())
    # No request finished inside the window: there is no latency to report (not a latency of 0).
    lat = {k: result["latency_us"][k] / 1000 if n else math.nan for k in ("p50", "p90", "p99")}
    return {
        "requests": n,
        "rps": n / (result["duration_us"] / 1e6),
        "p50_ms": lat["p50"],
        "p90_ms": lat["p90"],
        "p99_ms": lat["p99"],
        "cpu_ms_per_req": cpu / n * 1000 if n else math.nan,
        "errors": errors,
        "rss_mib": rss_mib(server.pid),
    }


# ------------------------------------------------------------------------------------------------ the run


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, Any] = {"points": [], "streams": {}, "memory": {}, "scaling": {}, "notes": []}
        self.servers: list[Server] = []

    def note(self, text: str) -> None:
        print(f"NOTE: {text}", flush=True)
        self.results["notes"].append(text)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        try:
            yield
        finally:
            for server in reversed(self.servers):
                server.stop()

    def start_all(self) -> None:
        a = self.args
        py = sys.executable
        stub = start("stub", [*_cpus(a.pin, "1"), py, str(BENCH / "stub.py"), "--port", str(PORTS["stub"]),
                              "--slow-ms", str(SLOW_MS)], PORTS["stub"])
        self.servers.append(stub)
        self.stub = stub
        gw = start("gateway", [*_cpus(a.pin, "0"), py, "-m", "app", "serve", "--port", str(PORTS["gateway"])],
                   PORTS["gateway"], env=gateway_env(PORTS["stub"]))
        self.servers.append(gw)
        self.gateway = gw
        self.litellm: Server | None = None
        litellm_bin = Path(a.litellm_venv).resolve() / "bin" / "litellm"
        if a.skip_litellm:
            self.note("LiteLLM skipped (--skip-litellm).")
        elif not litellm_bin.exists():
            self.note(f"LiteLLM not installed at {litellm_bin}; run `make bench` (bench/setup.sh) to install it.")
        else:
            env = {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                   "LITELLM_OFFLINE_MODE": "true"}
            ll = start("litellm", [*_cpus(a.pin, "0"), str(litellm_bin), "--config", str(litellm_config(PORTS["stub"])),
                                   "--host", "127.0.0.1", "--port", str(PORTS["litellm"]), "--num_workers", "1"],
                       PORTS["litellm"], env=env, timeout=180)
            ll.headers = {"Authorization": f"Bearer {MASTER_KEY}"}
            self.servers.append(ll)
            self.litellm = ll

    def systems(self) -> list[tuple[str, Server]]:
        out = [("direct", self.stub), ("gateway", self.gateway)]
        if self.litellm is not None:
            out.append(("litellm", self.litellm))
        return out

    def url(self, system: str, server: Server, scenario: Scenario, deployment: str = payloads.MODEL) -> str:
        if system == "direct":
            return (f"http://127.0.0.1:{server.port}/openai/deployments/{deployment}/chat/completions"
                    f"?api-version={API_VERSION}")
        return f"http://127.0.0.1:{server.port}{scenario.route}"

    def body(self, system: str, scenario: Scenario) -> bytes:
        return scenario.direct_body if system == "direct" else scenario.gateway_body

    def check(self) -> dict[tuple[str, str], str]:
        """One request per system and scenario; a failure skips that pair with a note saying why."""
        skipped: dict[tuple[str, str], str] = {}
        for scenario in SCENARIOS:
            for system, server in self.systems():
                path = self.url(system, server, scenario).split(str(server.port), 1)[1]
                result = http_post(server.port, path, self.body(system, scenario), server.headers)
                ok = result.status == 200
                if ok and scenario.stream:
                    ok = result.headers.get("content-type", "").startswith("text/event-stream")
                if not ok:
                    reason = f"HTTP {result.status}, content-type {result.headers.get('content-type')}"
                    if system == "gateway" and scenario.stream:
                        reason = ("the gateway does not stream yet on this branch (`stream: true` lands with "
                                  f"issue-5-streaming); it answered {reason}")
                    skipped[(scenario.name, system)] = reason
                    self.note(f"{scenario.name} / {system} skipped: {reason}")
                if system == "gateway" and ok and "server-timing" not in result.headers:
                    self.note(f"{scenario.name}: the gateway sent no Server-Timing header")
        return skipped

    def load(self) -> None:
        a = self.args
        skipped = self.check()
        self.results["skipped"] = {f"{s}|{y}": r for (s, y), r in skipped.items()}
        scenarios = [s for s in SCENARIOS if not a.scenarios or s.name in a.scenarios]
        # Warm every system on every scenario once (JIT-free Python still fills caches and pools).
        for scenario in scenarios:
            for system, server in self.systems():
                if (scenario.name, system) not in skipped:
                    run_wrk(self.url(system, server, scenario), self.body(system, scenario), 16, 1, server.headers,
                            a.pin)
        for repeat in range(a.repeats):
            for scenario in scenarios:
                for conns in a.concurrency:
                    for system, server in self.systems():
                        if (scenario.name, system) in skipped:
                            continue
                        point = measure(server, self.url(system, server, scenario), self.body(system, scenario),
                                        conns, a.duration, a.pin)
                        point.update(scenario=scenario.name, system=system, conns=conns, repeat=repeat)
                        self.results["points"].append(point)
                        print(f"[{repeat + 1}/{a.repeats}] {scenario.name:22} c={conns:<3} {system:8} "
                              f"{point['rps']:8.0f} req/s  p50 {point['p50_ms']:8.3f} ms  "
                              f"cpu {point['cpu_ms_per_req']:.3f} ms/req  err {point['errors']}", flush=True)

    def streams(self) -> None:
        """Time to first event and the 1,000-chunk total at concurrency 1, per system."""
        a = self.args
        out: dict[str, Any] = {}
        for scenario in (s for s in SCENARIOS if s.stream):
            for system, server in self.systems():
                if (scenario.name, system) in {tuple(k.split("|")) for k in self.results["skipped"]}:
                    continue
                path = self.url(system, server, scenario).split(str(server.port), 1)[1]
                raw = sse_client.request_bytes("127.0.0.1", server.port, path, self.body(system, scenario),
                                               server.headers)
                samples = [asyncio.run(sse_client.stream_once("127.0.0.1", server.port, raw))
                           for _ in range(a.stream_samples)]
                out[f"{scenario.name}|{system}"] = {
                    "ttfe_ms": [s.first_event * 1000 for s in samples],
                    "total_ms": [s.total * 1000 for s in samples],
                    "first": samples[0].first_line.decode(errors="replace"),
                    "server_timing": samples[0].headers.get("server-timing"),
                }
                ttfe = sorted(out[f"{scenario.name}|{system}"]["ttfe_ms"])[len(samples) // 2]
                print(f"stream {scenario.name:22} {system:8} ttfe {ttfe:.3f} ms", flush=True)
        self.results["streams"] = out

    def slow_streams(self) -> None:
        """On a deployment whose every chunk comes SLOW_MS late: does response.created go out before the first
        token, and what does each process weigh with 1,000 streams open at once?"""
        a = self.args
        py = sys.executable
        body = payloads.encode({**payloads.responses_small(True, a.open_stream_chunks), "model": SLOW_DEPLOYMENT})
        gw = start("gateway_slow", [*_cpus(a.pin, "0"), py, "-m", "app", "serve", "--port", str(PORTS["gateway_slow"])],
                   PORTS["gateway_slow"], env=gateway_env(PORTS["stub"], SLOW_DEPLOYMENT))
        self.servers.append(gw)
        memory: dict[str, Any] = {}
        for system, server in [("gateway", gw), *([("litellm", self.litellm)] if self.litellm else [])]:
            # idle: after startup and a handful of requests, as a rollout worker's gateway sits between batches
            for _ in range(20):
                http_post(server.port, "/v1/responses", payloads.encode(payloads.responses_small()), server.headers)
            time.sleep(1)
            entry: dict[str, Any] = {"idle_mib": rss_mib(server.pid)}
            raw = sse_client.request_bytes("127.0.0.1", server.port, "/v1/responses", body, server.headers)
            first = asyncio.run(sse_client.stream_once("127.0.0.1", server.port, raw))
            if first.status != 200 or not first.headers.get("content-type", "").startswith("text/event-stream"):
                entry["streams"] = f"not measured: HTTP {first.status} ({first.headers.get('content-type')})"
                memory[system] = entry
                continue
            ttfe = [asyncio.run(sse_client.stream_once("127.0.0.1", server.port, raw)).first_event * 1000
                    for _ in range(5)]
            entry["slow_ttfe_ms"] = ttfe
            entry["first_event"] = first.first_line.decode(errors="replace")
            peak = 0.0

            async def hold(server: Server = server, raw: bytes = raw) -> list[sse_client.StreamResult]:
                nonlocal peak
                task = asyncio.ensure_future(sse_client.many_streams("127.0.0.1", server.port, raw, a.open_streams))
                while not task.done():
                    peak = max(peak, rss_mib(server.pid))
                    await asyncio.sleep(0.1)
                return await task

            done = asyncio.run(hold())
            entry.update(open_streams=a.open_streams, completed=sum(1 for d in done if d.status == 200),
                         peak_mib=peak, after_mib=rss_mib(server.pid))
            memory[system] = entry
            print(f"memory {system}: {entry}", flush=True)
        memory["slow_ms_per_chunk"] = SLOW_MS
        self.results["memory"] = memory
        gw.stop()

    def websocket_loop(self) -> None:
        """WebSocket mode vs HTTP: a 20-tool-call agent loop (bench/agent_loop.py), on an unpaced and a paced stub.

        Each gateway gets a fresh SQLite file of its own for the HTTP previous_response_id variant, not the
        default ``gateway-store.sqlite3`` in bench/out, which the load phase has filled by then.
        """
        a = self.args
        out: dict[str, Any] = {}
        for deployment in AGENT_DEPLOYMENTS:
            store_file = OUT / AGENT_STORE
            for leftover in OUT.glob(f"{AGENT_STORE}*"):
                leftover.unlink()
            env = {**gateway_env(PORTS["stub"], deployment), "GATEWAY_STORE_URL": f"sqlite:///{store_file}"}
            gw = start(f"gateway_{deployment}", [*_cpus(a.pin, "0"), sys.executable, "-m", "app", "serve", "--port",
                                                 str(PORTS["gateway_agent"])],
                       PORTS["gateway_agent"], env=env)
            self.servers.append(gw)
            repeats = 3 if a.quick or deployment.startswith("slow") else 7
            out[deployment] = agent_loop.compare(gw.port, repeats=repeats)
            print(f"websocket {deployment}: {agent_loop.describe(out[deployment])}", flush=True)
            gw.stop()
        out["slow_ms_per_chunk"] = SLOW_MS
        out["store"] = "sqlite (a fresh file)"
        self.results["agent_loop"] = out

    def scaling(self) -> None:
        """--workers 1 vs N at 64 connections on responses_small, nothing pinned (N workers need N cores)."""
        a = self.args
        py = sys.executable
        scenario = SCENARIOS[0]
        out: dict[str, Any] = {}
        for workers in sorted({1, a.workers}):
            server = start(f"gateway_w{workers}", [py, "-m", "app", "serve", "--port", str(PORTS["gateway_workers"]),
                                                   "--workers", str(workers)],
                           PORTS["gateway_workers"], env=gateway_env(PORTS["stub"]))
            try:
                time.sleep(2 if workers > 1 else 0.5)
                url = f"http://127.0.0.1:{server.port}{scenario.route}"
                run_wrk(url, scenario.gateway_body, 64, 1, {}, False)
                runs = [measure(server, url, scenario.gateway_body, 64, a.duration, False) for _ in range(a.repeats)]
                if any(r["errors"] for r in runs):
                    self.note(f"--workers {workers}: wrk counted errors {[r['errors'] for r in runs]}")
                out[str(workers)] = runs
                print(f"scaling workers={workers}: {[round(r['rps']) for r in runs]} req/s", flush=True)
            finally:
                server.stop()
        self.results["scaling"] = out

    python = sys.executable

    def stored(self) -> None:
        """store: true against store: false, and a 50-turn previous_response_id chain (bench/store_phase.py)."""
        self.results["store"] = store_phase.run(
            self, start=start, measure=measure, run_wrk=run_wrk, gateway_env=gateway_env, cpus=_cpus, out=OUT,
            stub_port=PORTS["stub"],
        )  # fmt: skip

    def background(self) -> None:
        """background: true against the same request inline, on a fresh SQLite store (bench/background_phase.py)."""
        for leftover in OUT.glob("background-bench.sqlite3*"):
            leftover.unlink()
        env = {**gateway_env(PORTS["stub"]), "GATEWAY_STORE_URL": f"sqlite:///{OUT / 'background-bench.sqlite3'}"}
        gw = start("gateway_background", [*_cpus(self.args.pin, "0"), sys.executable, "-m", "app", "serve", "--port",
                                          str(PORTS["gateway_background"])], PORTS["gateway_background"], env=env)
        try:
            samples = 15 if self.args.quick else background_phase.SAMPLES
            self.results["background"] = asyncio.run(background_phase.measure(gw.port, samples=samples))
            print(f"background: {background_phase.describe(self.results['background'])}", flush=True)
        finally:
            gw.stop()

    def stub_capacity(self) -> None:
        scenario = SCENARIOS[0]
        url = self.url("direct", self.stub, scenario)
        runs = [measure(self.stub, url, scenario.direct_body, 64, self.args.duration, False)
                for _ in range(self.args.repeats)]
        self.results["stub_capacity"] = runs
        print(f"stub alone, unpinned, 64 connections: {[round(r['rps']) for r in runs]} req/s", flush=True)

    def machine(self) -> dict[str, Any]:
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), platform.processor())
        versions = {}
        for name in ("litestar", "msgspec", "httpx", "aiohttp", "uvicorn", "uvloop", "httptools"):
            with contextlib.suppress(Exception):
                from importlib.metadata import version

                versions[name] = version(name)
        litellm_py = Path(self.args.litellm_venv) / "bin" / "python"
        if litellm_py.exists():
            versions["litellm"] = subprocess.run(
                [str(litellm_py), "-c", "from importlib.metadata import version; print(version('litellm'))"],
                capture_output=True, text=True).stdout.strip()
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        return {
            "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") *
                                                                     os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions,
            "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else "?",
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "pinned": self.args.pin,
            "duration_s": self.args.duration, "repeats": self.args.repeats,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat of 2 s per point: checks the harness")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measured point (default 4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=CONCURRENCY)
    parser.add_argument("--scenarios", nargs="*", help="only these scenarios")
    parser.add_argument("--stream-samples", type=int, default=30)
    parser.add_argument("--open-streams", type=int, default=1000)
    parser.add_argument("--open-stream-chunks", type=int, default=100, help="chunks per held-open stream")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--litellm-venv", default=str(BENCH / ".venv-bench"))
    parser.add_argument("--output", default=str(OUT / "results.json"))
    parser.add_argument("--scaling-only", action="store_true", help="only re-run the --workers phase")
    parser.add_argument("--memory-only", action="store_true",
                        help="only re-run the slow-deployment phase (TTFE, 1,000 open streams), gateway alone")
    parser.add_argument("--access-log", action="store_true", help="run the gateway with its per-request log line")
    parser.add_argument("--fleet-requests", type=int, default=150, help="requests per fleet point (bench/fleet.py)")
    parser.add_argument("--skip-fleet", action="store_true", help="leave out the fleet phase (needs Redis)")
    parser.add_argument("--store-only", action="store_true", help="only the stored-responses phase")
    parser.add_argument("--background-only", action="store_true", help="only the background-responses phase")
    args = parser.parse_args()
    global ACCESS_LOG
    ACCESS_LOG = "true" if args.access_log else "false"
    if args.quick:
        args.duration, args.repeats, args.stream_samples = 2.0, 1, 5
        args.fleet_requests = min(args.fleet_requests, 50)
    if shutil.which("wrk") is None:
        print("wrk is not installed: run bench/setup.sh (apt-get install wrk)", file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    bench = Bench(args)
    bench.results["machine"] = bench.machine()
    bench.results["machine"]["access_log"] = args.access_log
    if args.memory_only:  # the open-streams phase alone, printed and written to its own file
        with bench.running():
            bench.stub = start("stub", [*_cpus(args.pin, "1"), sys.executable, str(BENCH / "stub.py"), "--port",
                                        str(PORTS["stub"]), "--slow-ms", str(SLOW_MS)], PORTS["stub"])
            bench.servers.append(bench.stub)
            bench.litellm = None
            bench.slow_streams()
        (OUT / "memory.json").write_text(json.dumps(bench.results["memory"], indent=1))
        print(f"wrote {OUT / 'memory.json'}")
        return 0
    if args.scaling_only:  # re-measure one phase into an existing results.json
        bench.results = json.loads(Path(args.output).read_text())
        with bench.running():
            bench.stub = start("stub", [sys.executable, str(BENCH / "stub.py"), "--port", str(PORTS["stub"])],
                               PORTS["stub"])
            bench.servers.append(bench.stub)
            bench.scaling()
        Path(args.output).write_text(json.dumps(bench.results, indent=1))
        print(f"wrote {args.output}")
        return 0
    if args.store_only or args.background_only:
        PORTS["stub"] = 18110  # its own stub: another bench on the machine may hold the usual port
        with bench.running():
            bench.stub = start("stub", [*_cpus(args.pin, "1"), sys.executable, str(BENCH / "stub.py"), "--port",
                                        str(PORTS["stub"])], PORTS["stub"])  # fmt: skip
            bench.servers.append(bench.stub)
            bench.stored() if args.store_only else bench.background()
        Path(args.output).write_text(json.dumps(bench.results, indent=1))
        print(f"wrote {args.output}")
        return 0
    with bench.running():
        bench.start_all()
        bench.load()
        bench.stored()
        bench.background()
        bench.streams()
        bench.slow_streams()
        bench.websocket_loop()
        bench.stub_capacity()
        bench.results["gateway_rss_after_load_mib"] = rss_mib(bench.gateway.pid)
        bench.scaling()  # the stub must still be up
    # Issue 13: the 30 MiB hostile bodies at once, /healthz latency and RSS meanwhile (its own gateway).
    bench.results["inbound"] = inbound.measure()
    if args.skip_fleet:
        bench.note("Fleet phase skipped (--skip-fleet).")
    else:  # its own emulator and gateways; the machine's Redis
        fleet_args = argparse.Namespace(requests=args.fleet_requests, replicas=3, rpm=600, concurrency=30,
                                        redis_url="redis://127.0.0.1:6379/0")
        try:
            bench.results["fleet"] = fleet.run(fleet_args)
        except Exception as exc:  # a missing Redis must not lose the rest of the run
            bench.note(f"Fleet phase failed: {type(exc).__name__}: {exc}")
    bench.results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    Path(args.output).write_text(json.dumps(bench.results, indent=1))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
