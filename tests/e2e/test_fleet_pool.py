"""A pool of deployments: weighted routing, failover on 5xx / timeouts before the first byte, the circuit
breaker that keeps a failing deployment to a few attempts and lets traffic back when it recovers.

Gateways under real uvicorn on loopback in front of one emulator with two deployments; the emulator says
how many requests each deployment received, served and failed.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import API_VERSION, AZURE_KEY
from support.fleet import drive
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, create_emulator_app
from app.settings.fleet import Deployment
from app.settings.load import Secret, Settings

COOLDOWN = 0.5
FAILURES = 3


@pytest.fixture
def two_deployments() -> Iterator[str]:
    with running(create_emulator_app(EmulatorConfig(deployments=("east", "west")))) as url:
        yield url


def pool_settings(emulator: str, **overrides: Any) -> Settings:
    deployments = tuple(
        Deployment(
            name=name,
            openai_base_url=emulator,
            openai_api_key=Secret(AZURE_KEY),
            openai_model=name,
            default_query={"api-version": API_VERSION},
        )
        for name in ("east", "west")
    )
    values: dict[str, Any] = {
        "openai_base_url": emulator,
        "openai_api_key": Secret(AZURE_KEY),
        "openai_model": "east",
        "default_query": {"api-version": API_VERSION},
        "deployments": deployments,
        "breaker_failures": FAILURES,
        "breaker_cooldown": COOLDOWN,
        "access_log": False,
        **overrides,
    }
    return Settings(**values)


def stats(emulator: str) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = httpx.get(f"{emulator}/_emulator/deployments").json()
    return data


def outage(emulator: str, name: str, fault: dict[str, Any] | None) -> None:
    httpx.put(f"{emulator}/_emulator/deployments/{name}", json={"outage": fault}).raise_for_status()


def test_equal_weights_share_the_load(two_deployments: str) -> None:
    with running(create_app(pool_settings(two_deployments))) as gateway:
        result = drive([gateway], 200, concurrency=8)
    assert result.statuses == {200: 200}
    share = result.deployments["east"] / 200
    assert 0.3 <= share <= 0.7, result.deployments
    counts = stats(two_deployments)
    assert counts["east"]["accepted"] == result.deployments["east"]  # the header names where it went


def test_weights_tilt_the_load(two_deployments: str) -> None:
    settings = pool_settings(two_deployments)
    east, west = settings.deployments
    settings = pool_settings(two_deployments, deployments=(east, Deployment(**{**_fields(west), "weight": 4.0})))
    with running(create_app(settings)) as gateway:
        result = drive([gateway], 200, concurrency=8)
    assert result.statuses == {200: 200}
    assert result.deployments["west"] > 1.5 * result.deployments["east"], result.deployments


def _fields(deployment: Deployment) -> dict[str, Any]:
    return {name: getattr(deployment, name) for name in deployment.__struct_fields__}


@pytest.mark.parametrize("stream", [False, True])
def test_one_failing_deployment_gets_a_few_attempts_then_traffic_returns(two_deployments: str, stream: bool) -> None:
    """west answers 503 to everything: every request is answered (by east, before any byte went to the
    client, streams included), west sees only the breaker's few attempts and probes; once it recovers the
    half-open probe succeeds and the load is shared again."""
    outage(two_deployments, "west", {"fault": "server_error", "status": 503})
    concurrency = 4
    with running(create_app(pool_settings(two_deployments))) as gateway:
        started = time.monotonic()
        during = drive([gateway], 80, concurrency=concurrency, stream=stream)
        elapsed = time.monotonic() - started
        failed = stats(two_deployments)["west"]["failed"]
        assert during.statuses == {200: 80}, during.statuses
        assert during.deployments == {"east": 80}
        # Before the breaker opens at most `concurrency` calls race to it; then one probe per cooldown.
        assert failed <= FAILURES + concurrency + math.ceil(elapsed / COOLDOWN) + 1, (failed, elapsed)
        ready = httpx.get(f"{gateway}/readyz").json()
        assert {d["deployment"]: d["breaker"] for d in ready["deployments"]}["west"] in ("open", "half_open")

        outage(two_deployments, "west", None)
        time.sleep(COOLDOWN + 0.1)
        after = drive([gateway], 100, concurrency=concurrency, stream=stream)
    assert after.statuses == {200: 100}
    assert after.deployments["west"] >= 25, after.deployments


def test_timeouts_fail_over_too(two_deployments: str) -> None:
    outage(two_deployments, "west", {"fault": "delay", "seconds": 5})
    with running(create_app(pool_settings(two_deployments, read_timeout=0.5))) as gateway:
        result = drive([gateway], 12, concurrency=2)
        metrics = httpx.get(f"{gateway}/metrics").text
    assert result.statuses == {200: 12} and result.deployments == {"east": 12}
    assert 'gateway_upstream_attempts_total{deployment="west",outcome="timeout"}' in metrics
    assert 'gateway_deployment_failovers_total{deployment="west",reason="timeout"}' in metrics


def test_a_failover_is_in_the_log_line_the_header_and_the_metrics(two_deployments: str) -> None:
    """west first (its weight dwarfs east's) and failing: the request's one log line lists both attempts'
    deployments, the header names the one that answered, the attempts metric counts each by deployment."""
    from test_reliability import Capture

    settings = pool_settings(two_deployments, breaker_failures=100)
    east, west = settings.deployments
    heavy = Deployment(**{**_fields(west), "weight": 1e6})
    light = Deployment(**{**_fields(east), "weight": 1e-6})
    outage(two_deployments, "west", {"fault": "server_error", "status": 500})
    with running(create_app(pool_settings(two_deployments, deployments=(light, heavy), access_log=True))) as gateway:
        with Capture("app.access") as logs:
            reply = httpx.post(
                f"{gateway}/v1/chat/completions",
                json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
                headers={"x-request-id": "failover-1"},
            )
            deadline = time.monotonic() + 10

            def line() -> dict[str, Any] | None:
                events = [r.msg for r in logs.records if isinstance(r.msg, dict)]
                found = [e for e in events if e.get("request_id") == "failover-1"]
                return found[0] if found else None

            while line() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        metrics = httpx.get(f"{gateway}/metrics").text
    assert reply.status_code == 200 and reply.headers["x-gateway-deployment"] == "east"
    logged = line()
    assert logged is not None
    assert logged["deployments"] == ["west", "east"] and logged["deployment"] == "east"
    assert logged["upstream_attempts"] == 2
    assert 'gateway_upstream_attempts_total{deployment="west",outcome="server_error"}' in metrics
    assert 'gateway_upstream_attempts_total{deployment="east",outcome="success"}' in metrics


def test_a_spent_budget_waits_then_answers_503_with_retry_after(two_deployments: str) -> None:
    """One deployment at 6 rpm (a request per 10 s): the second request cannot get budget within
    max_queue_wait, so it is a 503 with Retry-After - never sent to Azure to collect a 429."""
    settings = pool_settings(two_deployments)
    east, _ = settings.deployments
    slow = Deployment(**{**_fields(east), "rpm": 6})
    with running(create_app(pool_settings(two_deployments, deployments=(slow,), max_queue_wait=0.3))) as gateway:
        body = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}
        first = httpx.post(f"{gateway}/v1/chat/completions", json=body)
        second = httpx.post(f"{gateway}/v1/chat/completions", json=body)
    assert first.status_code == 200
    assert second.status_code == 503 and int(second.headers["retry-after"]) >= 1
    error = second.json()["error"]
    assert error["code"] == "gateway_busy" and "No Azure budget left on east" in error["message"]
    assert stats(two_deployments)["east"]["received"] == 1


def test_routing_leans_on_the_deployment_with_budget_left(two_deployments: str) -> None:
    """east has 60 rpm (one request a second, as the emulator enforces too), west no limit: a burst goes
    to west except what east's budget grants, and east is never pushed into Azure's 429s."""
    httpx.put(f"{two_deployments}/_emulator/deployments/east", json={"rpm": 60}).raise_for_status()
    settings = pool_settings(two_deployments)
    east, west = settings.deployments
    limited = Deployment(**{**_fields(east), "rpm": 60})
    with running(create_app(pool_settings(two_deployments, deployments=(limited, west)))) as gateway:
        started = time.monotonic()
        result = drive([gateway], 60, concurrency=6)
        elapsed = time.monotonic() - started
    counts = stats(two_deployments)
    assert result.statuses == {200: 60}
    assert counts["east"]["accepted"] <= 2 + elapsed, (counts["east"], elapsed)
    assert counts["east"]["throttled"] <= 2, counts["east"]
    assert result.deployments["west"] >= 60 - 2 - elapsed


def test_check_tries_every_deployment_of_the_pool(two_deployments: str) -> None:
    """`python -m app check` on a pool calls each deployment alone: a failing one cannot hide behind failover."""
    import io

    from app.cli.check import run_check

    outage(two_deployments, "west", {"fault": "server_error", "status": 503})
    out = io.StringIO()
    assert run_check(pool_settings(two_deployments, max_retries=0), out) == 1
    text = out.getvalue()
    assert "deployment 1 of 2: east" in text and "deployment 2 of 2: west" in text
    east, west = text.split("deployment 2 of 2: west")
    assert "upstream:    OK" in east and "FAILED" in west and "HTTP 503" in west


def test_v1_surface_names_each_deployment_in_the_body(two_deployments: str) -> None:
    """On Azure's v1 surface the deployment is the body's model: each attempt carries its own deployment's."""
    settings = pool_settings(two_deployments, api_surface="v1")
    with running(create_app(settings)) as gateway:
        result = drive([gateway], 40, concurrency=4)
    assert result.statuses == {200: 40}
    counts = stats(two_deployments)
    assert counts["east"]["accepted"] == result.deployments["east"] > 0
    assert counts["west"]["accepted"] == result.deployments["west"] > 0


@pytest.mark.parametrize("stream", [False, True])
def test_a_stored_response_records_its_deployment(two_deployments: str, tmp_path: Any, stream: bool) -> None:
    """The row of a stored response names the deployment that answered, as its header did."""
    import sqlite3

    path = tmp_path / "store.sqlite3"
    outage(two_deployments, "west", {"fault": "server_error", "status": 503})  # so a failover happens too
    with running(create_app(pool_settings(two_deployments, store_url=f"sqlite:///{path}"))) as gateway:
        ids = []
        for _ in range(4):
            reply = httpx.post(f"{gateway}/v1/responses", json={"model": "x", "input": "hi", "stream": stream})
            assert reply.status_code == 200 and reply.headers["x-gateway-deployment"] == "east"
            if stream:
                created = next(line for line in reply.text.splitlines() if line.startswith("data: "))
                ids.append(json.loads(created.removeprefix("data: "))["response"]["id"])
            else:
                ids.append(reply.json()["id"])
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT id, deployment FROM gw_responses").fetchall())
    assert [rows[i] for i in ids] == ["east"] * 4
