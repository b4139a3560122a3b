"""The fleet with real gateway processes: they share a deployment's quota through Redis, survive Redis going
away, and fail over across a pool of deployments (the in-process details are in test_fleet_pool.py).

The emulator enforces the quota the way Azure does (per second) and counts what it accepted and throttled,
so "the fleet stays within the budget" is measured where Azure would measure it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_VERSION, AZURE_KEY
from support.fleet import drive, fleet
from support.redis_service import delete_prefix, new_prefix, require_redis
from support.servers import running

from app.emulator import EmulatorConfig, create_emulator_app
from app.emulator.quotas import DeploymentQuota

DEPLOYMENT = "fleet-gpt"
RPM = 600  # 10 requests per second
REQUESTS = 150


@pytest.fixture
def quota_emulator() -> Iterator[str]:
    config = EmulatorConfig(deployments=(DEPLOYMENT,), quotas={DEPLOYMENT: DeploymentQuota(rpm=RPM)})
    with running(create_emulator_app(config)) as url:
        yield url


def env_for(emulator: str, **extra: str) -> dict[str, str]:
    return {
        "GATEWAY_OPENAI_BASE_URL": emulator,
        "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": DEPLOYMENT,
        "GATEWAY_API_VERSION": API_VERSION,
        "GATEWAY_RPM": str(RPM),
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        **extra,
    }


def stats(emulator: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{emulator}/_emulator/deployments").json()[DEPLOYMENT]
    return data


def reset(emulator: str) -> None:
    httpx.put(f"{emulator}/_emulator/deployments/{DEPLOYMENT}", json={"rpm": RPM}).raise_for_status()


def test_three_processes_share_one_budget_through_redis(tmp_path: Path, quota_emulator: str) -> None:
    """3 processes, one deployment at 10 requests/s: 150 requests all answered, Azure's 429s at most 5% of the
    calls, the whole run within 1.5x the quota's pace - and, for comparison in the same run, the same fleet
    without Redis (each process spends the whole quota on its own) draws far more 429s."""
    url = require_redis()
    prefix = new_prefix()
    pace = REQUESTS / (RPM / 60)
    try:
        with fleet(tmp_path, 3, env_for(quota_emulator, GATEWAY_REDIS_URL=url, GATEWAY_REDIS_PREFIX=prefix)) as gws:
            before = stats(quota_emulator)
            shared = drive([g.url for g in gws], REQUESTS)
            after = stats(quota_emulator)
            ready = httpx.get(f"{gws[0].url}/readyz").json()
        assert ready["coordinator"]["mode"] == "redis", ready
    finally:
        delete_prefix(url, prefix)
    calls = after["received"] - before["received"]
    throttled = after["throttled"] - before["throttled"]
    assert shared.statuses == {200: REQUESTS}, shared.statuses
    assert throttled <= 0.05 * calls, (throttled, calls)
    assert shared.seconds <= 1.5 * pace, (shared.seconds, pace)

    with fleet(tmp_path, 3, env_for(quota_emulator)) as gws:
        before = stats(quota_emulator)
        alone = drive([g.url for g in gws], REQUESTS)
        after = stats(quota_emulator)
    alone_throttled = after["throttled"] - before["throttled"]
    print(
        f"\nfleet figures: redis {shared.seconds:.1f}s, {throttled}/{calls} calls throttled; "
        f"local {alone.seconds:.1f}s, {alone_throttled}/{after['received'] - before['received']} throttled; "
        f"statuses {dict(alone.statuses)}"
    )
    assert alone_throttled > max(3 * throttled, 10), (alone_throttled, throttled)


def test_redis_stopped_mid_run_requests_keep_succeeding_and_readyz_says_so(
    tmp_path: Path, quota_emulator: str
) -> None:
    """The coordinator is a Redis of this test's own; killed mid-run, the gateway serves on local budgets and
    says so in /readyz and /metrics - no request fails because of it."""
    from prometheus_client.parser import text_string_to_metric_families
    from support.redis_service import own_redis

    with own_redis() as (url, redis_proc), fleet(tmp_path, 1, env_for(quota_emulator, GATEWAY_REDIS_URL=url)) as gws:
        base = gws[0].url
        first = drive([base], 20, concurrency=4)
        assert first.statuses == {200: 20}
        assert httpx.get(f"{base}/readyz").json()["coordinator"]["mode"] == "redis"
        redis_proc.kill()
        redis_proc.wait(timeout=10)
        second = drive([base], 20, concurrency=4)
        assert second.statuses == {200: 20}, second.statuses
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200
        coordinator = ready.json()["coordinator"]
        assert coordinator["mode"] == "local_fallback" and "unreachable" in coordinator["detail"], coordinator
        metrics = {
            sample.name: sample.value
            for family in text_string_to_metric_families(httpx.get(f"{base}/metrics").text)
            for sample in family.samples
        }
        assert metrics["gateway_coordinator_up"] == 0
        assert metrics["gateway_coordinator_errors_total"] >= 1
    log = gws[0].log
    assert "serving on this process's own budgets" in log and "Traceback" not in log


def test_two_processes_on_a_pool_fail_over_and_take_the_deployment_back(tmp_path: Path) -> None:
    """Two gateway processes sharing a pool of two deployments through Redis: equal weights share the load
    30-70%; with one deployment answering 503 every request is answered and the failing one sees only each
    process's few breaker attempts and probes; after it recovers traffic returns to it."""
    import json
    import math
    import time

    url = require_redis()
    prefix = new_prefix()
    cooldown, failures, concurrency = 1.0, 3, 4
    config = EmulatorConfig(deployments=("east", "west"))
    with running(create_emulator_app(config)) as emulator:
        pool = [{"openai_base_url": emulator, "openai_model": n, "openai_api_key": AZURE_KEY} for n in ("east", "west")]
        env = {
            "GATEWAY_DEPLOYMENTS": json.dumps(pool),
            "GATEWAY_API_VERSION": API_VERSION,
            "GATEWAY_REDIS_URL": url,
            "GATEWAY_REDIS_PREFIX": prefix,
            "GATEWAY_BREAKER_FAILURES": str(failures),
            "GATEWAY_BREAKER_COOLDOWN": str(cooldown),
            "GATEWAY_ACCESS_LOG": "false",
            "GATEWAY_LOG_LEVEL": "warning",
        }
        try:
            with fleet(tmp_path, 2, env) as gws:
                urls = [g.url for g in gws]
                shared = drive(urls, 100, concurrency=concurrency)
                assert shared.statuses == {200: 100}
                assert 30 <= shared.deployments["east"] <= 70, shared.deployments

                set_outage(emulator, "west", {"fault": "server_error", "status": 503})
                started = time.monotonic()
                during = drive(urls, 80, concurrency=concurrency)
                elapsed = time.monotonic() - started
                failed = deployment_stats(emulator)["west"]["failed"]
                assert during.statuses == {200: 80} and during.deployments == {"east": 80}
                per_process = failures + concurrency + math.ceil(elapsed / cooldown) + 1
                assert failed <= 2 * per_process, (failed, elapsed)

                set_outage(emulator, "west", None)
                time.sleep(cooldown + 0.2)
                after = drive(urls, 100, concurrency=concurrency)
                assert after.statuses == {200: 100}
                assert after.deployments["west"] >= 25, after.deployments
        finally:
            delete_prefix(url, prefix)


def set_outage(emulator: str, name: str, fault: dict[str, Any] | None) -> None:
    httpx.put(f"{emulator}/_emulator/deployments/{name}", json={"outage": fault}).raise_for_status()


def deployment_stats(emulator: str) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = httpx.get(f"{emulator}/_emulator/deployments").json()
    return data
