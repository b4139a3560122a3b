"""A/B: this checkout's gateway against another commit's, alternating on one stub, for a regression check.

    git worktree add /tmp/ab-base cf1c875            # the commit to compare against
    python bench/ab.py --base /tmp/ab-base           # responses_small at 1 and 64 connections, 5 rounds

Both gateways run from the same interpreter and venv (only the `app` package differs: each process starts
in its own tree with PYTHONPATH pointing there), pinned to CPU 0; wrk and the stub share CPU 1. Rounds
alternate A, B, B, A... so drift on a busy machine hurts both alike; the report gives each side's median
req/s, p50 and CPU time per request (the figure a busy machine disturbs least), and "added p50": the
gateway's p50 minus the stub's own (the direct call) in the same round.
Writes bench/out/ab.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="a checkout (worktree) of the commit to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--scenarios", nargs="+", default=["responses_small", "responses_stream"])
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args()
    run.OUT.mkdir(exist_ok=True)
    base = Path(args.base).resolve()
    scenarios = [s for s in run.SCENARIOS if s.name in args.scenarios]
    py = sys.executable
    servers: list[run.Server] = []
    results: dict[str, list[dict[str, float]]] = {}
    try:
        stub_port = run.PORTS["stub"]
        stub = run.start("stub", [*run._cpus(args.pin, "1"), py, str(run.BENCH / "stub.py"), "--port", str(stub_port)],
                         stub_port)
        servers.append(stub)
        sides = {}
        for name, tree, port in (("A", ROOT, run.PORTS["gateway"]), ("B", base, run.PORTS["gateway_slow"])):
            env = {**run.gateway_env(stub_port), "PYTHONPATH": str(tree)}
            server = run.start(f"gateway-{name}", [*run._cpus(args.pin, "0"), py, "-m", "app", "serve", "--port",
                                                   str(port)], port, env=env, cwd=tree)
            servers.append(server)
            sides[name] = server
        order = ["A", "B"]
        for round_ in range(args.rounds):
            for scenario in scenarios:
                for conns in args.concurrency:
                    direct = run.measure(stub, f"http://127.0.0.1:{stub_port}/openai/deployments/{run.payloads.MODEL}"
                                         f"/chat/completions?api-version={run.API_VERSION}", scenario.direct_body,
                                         conns, args.duration, args.pin)
                    for name in order:
                        server = sides[name]
                        point = run.measure(server, f"http://127.0.0.1:{server.port}{scenario.route}",
                                            scenario.gateway_body, conns, args.duration, args.pin)
                        point["added_p50_ms"] = point["p50_ms"] - direct["p50_ms"]
                        results.setdefault(f"{scenario.name}|c{conns}|{name}", []).append(point)
                        print(f"round {round_} {scenario.name} c={conns} {name}: {point['rps']:.0f} req/s, "
                              f"p50 {point['p50_ms']:.2f} ms (+{point['added_p50_ms']:.2f}), "
                              f"cpu {point['cpu_ms_per_req']:.3f} ms/req, errors {point['errors']}",
                              flush=True)
            order.reverse()
    finally:
        for server in reversed(servers):
            server.stop()
    summary = {}
    for key, points in sorted(results.items()):
        keys = ("rps", "p50_ms", "added_p50_ms", "cpu_ms_per_req")
        summary[key] = {k: statistics.median(p[k] for p in points) for k in keys}
        summary[key]["errors"] = sum(p["errors"] for p in points)
    print(f"\nA = {ROOT}, B = {base}; medians of {args.rounds} rounds")
    for key, row in summary.items():
        print(f"{key:32} {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  added p50 {row['added_p50_ms']:6.2f} ms"
              f"  cpu {row['cpu_ms_per_req']:.3f} ms/req  errors {row['errors']}")
    (run.OUT / "ab.json").write_text(json.dumps({"base": str(base), "summary": summary, "points": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
