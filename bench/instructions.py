"""Instructions per request, counted by callgrind: an A/B that a busy machine cannot disturb.

    git worktree add /tmp/ab-base cf1c875
    python bench/instructions.py --base /tmp/ab-base        # this checkout (A) against that commit (B)

Wall-clock req/s on a shared 2-core machine moves by tens of percent from one minute to the next; the
number of instructions the gateway executes for one request does not. Each gateway runs under
`valgrind --tool=callgrind` with instrumentation off, takes warm-up requests, then counts exactly the
instructions of N sequential requests (instrumentation switched on and off with callgrind_control around
them). The stub is the fast one from bench/stub.py. Prints instructions per request for each scenario and
side, and the ratio; writes bench/out/instructions.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def _wait_for_dump(out_file: Path, before: set[Path]) -> re.Match[str]:
    """The valgrind process writes the dump after callgrind_control returns; its last line is `totals:`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for dump in set(run.OUT.glob(f"{out_file.name}.*")) - before:
            match = re.search(r"^totals:\s*(\d+)", dump.read_text(), re.M)
            if match is not None:
                return match
        time.sleep(0.2)
    raise RuntimeError(f"callgrind wrote no complete dump beside {out_file} within 60 s")


def count(
    tree: Path, port: int, stub_port: int, scenarios: list[run.Scenario], n: int, warmup: int
) -> dict[str, float]:
    out_file = run.OUT / f"callgrind-{port}.out"
    env = {**run.gateway_env(stub_port), "PYTHONPATH": str(tree)}
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
           sys.executable, "-m", "app", "serve", "--port", str(port)]
    server = run.start(f"callgrind-{port}", cmd, port, env=env, cwd=tree, timeout=600)
    result: dict[str, float] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for scenario in scenarios:
                for _ in range(warmup):
                    client.post(scenario.route, content=scenario.gateway_body,
                                headers={"content-type": "application/json"}).raise_for_status()
                subprocess.run(["callgrind_control", "--zero", str(server.pid)], check=True, capture_output=True)
                subprocess.run(["callgrind_control", "-i", "on", str(server.pid)], check=True, capture_output=True)
                for _ in range(n):
                    client.post(scenario.route, content=scenario.gateway_body,
                                headers={"content-type": "application/json"}).raise_for_status()
                # A dump writes the counts since --zero to <out>.<k>: its `summary:` line is the total Ir.
                before = set(run.OUT.glob(f"{out_file.name}.*"))
                subprocess.run(["callgrind_control", "--dump", str(server.pid)], check=True, capture_output=True)
                subprocess.run(["callgrind_control", "-i", "off", str(server.pid)], check=True, capture_output=True)
                match = _wait_for_dump(out_file, before)
                result[scenario.name] = int(match.group(1)) / n
                print(f"{tree}: {scenario.name}: {result[scenario.name]:,.0f} instructions/request", flush=True)
    finally:
        server.stop()
        for path in run.OUT.glob(f"{out_file.name}*"):
            path.unlink()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a checkout (worktree) of the commit to compare against")
    parser.add_argument("--store-ab", action="store_true",
                        help="instead: this checkout with store true against store false (SQLite store)")
    parser.add_argument("-n", type=int, default=200, help="counted requests per scenario")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--scenarios", nargs="+", default=["responses_small", "responses_large", "responses_stream"])
    args = parser.parse_args()
    run.OUT.mkdir(exist_ok=True)
    if args.store_ab:
        return store_ab(args.n, args.warmup)
    if not args.base:
        parser.error("--base is required (or --store-ab)")
    scenarios = [s for s in run.SCENARIOS if s.name in args.scenarios]
    stub_port = run.PORTS["stub"]
    stub = run.start("stub", [sys.executable, str(run.BENCH / "stub.py"), "--port", str(stub_port)], stub_port)
    try:
        time.sleep(0.5)
        sides = {"A": count(ROOT, run.PORTS["gateway"], stub_port, scenarios, args.n, args.warmup),
                 "B": count(Path(args.base).resolve(), run.PORTS["gateway_slow"], stub_port, scenarios, args.n,
                            args.warmup)}
    finally:
        stub.stop()
    print(f"\nA = {ROOT}, B = {Path(args.base).resolve()}; instructions per request, {args.n} requests each")
    for scenario in scenarios:
        a, b = sides["A"][scenario.name], sides["B"][scenario.name]
        print(f"{scenario.name:24} A {a:14,.0f}  B {b:14,.0f}  A/B {a / b:.3f}")
    (run.OUT / "instructions.json").write_text(json.dumps({"base": args.base, "n": args.n, **sides}, indent=1))
    return 0


def store_ab(n: int, warmup: int) -> int:
    """What storing costs in instructions: responses_small with store false and true, on one gateway that
    keeps a fresh SQLite file (its own ports, so another bench on the machine is not disturbed)."""
    stub_port, port = 18120, 18220
    body = run.payloads.responses_small()
    scenarios = [
        run.Scenario(f"store_{flag}".lower(), "/v1/responses", {**body, "store": flag}) for flag in (False, True)
    ]
    store = run.OUT / "store-ab.sqlite3"
    for leftover in run.OUT.glob("store-ab.sqlite3*"):
        leftover.unlink()
    stub = run.start("stub-ab", [sys.executable, str(run.BENCH / "stub.py"), "--port", str(stub_port)], stub_port)
    original = run.gateway_env
    run.gateway_env = lambda stub, *a: {**original(stub, *a), "GATEWAY_STORE_URL": os.environ.get("STORE_AB_URL", f"sqlite:///{store}")}  # type: ignore[misc]
    try:
        counts = count(ROOT, port, stub_port, scenarios, n, warmup)
    finally:
        run.gateway_env = original  # type: ignore[misc]
        stub.stop()
    off, on = counts["store_false"], counts["store_true"]
    print(f"store false {off:,.0f}  store true {on:,.0f} instructions/request  true/false {on / off:.3f}")
    (run.OUT / "instructions-store.json").write_text(json.dumps({"n": n, **counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
