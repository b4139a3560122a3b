"""bench/fleet.py's report: the table and the targets from a run's figures, as they come back from JSON."""

from __future__ import annotations

import json

from bench import fleet


def point(name: str, redis: bool, seconds: float, throttled: int, calls: int, ok: int) -> dict[str, object]:
    return {
        "name": name, "replicas": 3, "requests": 150, "redis": redis, "deployments": ["fleet-a"], "outage": None,
        "quota_rps": 10.0, "seconds": seconds, "statuses": {200: ok, 429: 150 - ok}, "served_by": {},
        "pace_seconds": 15.0, "calls": calls, "throttled": throttled, "throttled_per_1000": 1000 * throttled / calls,
        "goodput_share": ok / seconds / 10, "per_deployment": {"fleet-a": {"received": calls}},
    }  # fmt: skip


def test_report_rows_and_targets_survive_a_json_round_trip() -> None:
    points = [point("shared", True, 16.0, 1, 151, 150), point("local", False, 14.8, 111, 257, 146)]
    result = {"rpm": 600, "points": points}
    lines, targets = fleet.report_lines(json.loads(json.dumps(result)))  # status keys are strings after JSON
    table = "\n".join(lines)
    assert "| shared | 3 | yes | fleet-a | 150 | 16.0 (15.0) | 94% | 7 |" in table
    assert "| local | 3 | no |" in table and "| 432 |" in table
    # Targets only for the Redis points: the per-process one is the comparison.
    assert [t[0] for t in targets] == ["fleet shared: Azure 429s", "fleet shared: time"]
    assert [t[3] for t in targets] == ["met", "met"]


def test_a_slow_or_throttled_run_misses_its_targets() -> None:
    _, targets = fleet.report_lines({"rpm": 600, "points": [point("shared", True, 30.0, 20, 170, 150)]})
    assert [t[3] for t in targets] == ["missed", "missed"]
