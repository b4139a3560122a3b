"""Bench phase for issue 13: the 30 MiB worst-case bodies sent all at once while a client polls ``/healthz``.

    python bench/inbound.py [--copies N] [--rounds R]

Reports the gateway process's RSS (start, peak = VmHWM, after) and the ``/healthz`` latency percentiles during
the attack - the figures tests/e2e/test_robustness.py does not assert on (timing belongs here, not in tests).
bench/run.py runs it as its last phase into results.json ("inbound").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.hostile import GatewayProcess, HealthPoller, percentile, post_all, worst_cases  # noqa: E402


def measure(copies: int = 2, rounds: int = 3) -> dict[str, Any]:
    cases = worst_cases()
    with tempfile.TemporaryDirectory() as cwd:
        gateway = GatewayProcess(Path(cwd))
        try:
            start = gateway.memory()["VmRSS"]
            idle = HealthPoller(gateway.url)
            idle.start()
            time.sleep(2)
            idle.stop()
            poller = HealthPoller(gateway.url)
            poller.start()
            statuses: dict[str, list[Any]] = {}
            started = time.perf_counter()
            for _ in range(rounds):
                for name, replies in post_all(gateway.url, cases, copies=copies).items():
                    statuses.setdefault(name, []).extend(replies)
            elapsed = time.perf_counter() - started
            poller.stop()
            time.sleep(0.5)
            memory = gateway.memory()
        finally:
            gateway.stop()
    lat = poller.latencies
    return {
        "bodies": f"{len(cases)} kinds x {copies} copies at once, {rounds} rounds, 30 MiB each",
        "seconds": round(elapsed, 2),
        "statuses": {name: sorted({f"{s} {c}" for s, c in replies}) for name, replies in statuses.items()},
        "rss_mib": {"start": round(start), "peak": round(memory["VmHWM"]), "after": round(memory["VmRSS"])},
        "healthz_idle_ms": {"p50": round(percentile(idle.latencies, 50) * 1000, 1),
                            "p99": round(percentile(idle.latencies, 99) * 1000, 1)},
        "healthz_ms": {
            "polls": len(lat),
            "p50": round(percentile(lat, 50) * 1000, 1),
            "p99": round(percentile(lat, 99) * 1000, 1),
            "max": round(max(lat) * 1000, 1) if lat else None,
            "failures": len(poller.failures),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.copies, args.rounds), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
