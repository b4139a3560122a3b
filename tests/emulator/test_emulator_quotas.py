"""The emulator's quotas and outages, as Azure behaves: per-deployment rpm/tpm over a short window, Azure's
429 body and retry headers, the remaining-quota headers on every answer, one deployment failing alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.servers import running

from app.emulator import EmulatorConfig, create_emulator_app
from app.emulator.quotas import DeploymentQuota, QuotaMeter

KEY = "emulator-key"
VERSION = "2024-10-21"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    # A 60 s window: nothing refills during a test, so every count below is exact.
    config = EmulatorConfig(
        deployments=("limited", "tokens", "free"),
        quotas={"limited": DeploymentQuota(rpm=3), "tokens": DeploymentQuota(tpm=100)},
        quota_window=60.0,
    )
    with running(create_emulator_app(config)) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(base: str) -> None:
    for name, quota in (("limited", {"rpm": 3, "tpm": None}), ("tokens", {"rpm": None, "tpm": 100})):
        httpx.put(f"{base}/_emulator/deployments/{name}", json={**quota, "outage": None}).raise_for_status()


def chat(base: str, deployment: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{base}/openai/deployments/{deployment}/chat/completions?api-version={VERSION}",
        headers={"api-key": KEY},
        json={"messages": [{"role": "user", "content": "hi"}], **body},
    )


def test_requests_per_minute_then_azures_429(base: str) -> None:
    # Only this test calls "limited": its 60 s window starts empty.
    answers = [chat(base, "limited") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers[:3]] == ["2", "1", "0"]
    remaining = [a.headers.get("x-ratelimit-remaining-requests") for a in answers]
    throttled = answers[-1]
    assert throttled.status_code == 429
    assert remaining[-1] == "0"
    error = throttled.json()["error"]
    assert error["code"] == "429" and "exceeded call rate limit" in error["message"]
    assert f"API version {VERSION}" in error["message"] and "Please retry after" in error["message"]
    millis = int(throttled.headers["retry-after-ms"])
    assert 0 < millis <= 60_000 and throttled.headers["x-ms-retry-after-ms"] == str(millis)
    assert int(throttled.headers["retry-after"]) == -(-millis // 1000)
    assert "apim-request-id" in throttled.headers


def test_tokens_per_minute_counts_the_prompt_and_the_output_cap(base: str) -> None:
    small = chat(base, "tokens", max_tokens=10)
    assert small.status_code == 200
    left = int(small.headers["x-ratelimit-remaining-tokens"])
    assert 0 < left < 100 - 10
    big = chat(base, "tokens", max_tokens=left + 1)
    assert big.status_code == 429 and "exceeded token rate limit" in big.json()["error"]["message"]


def test_no_quota_no_headers_and_stats_count(base: str) -> None:
    answer = chat(base, "free")
    assert answer.status_code == 200 and "x-ratelimit-remaining-requests" not in answer.headers
    stats = httpx.get(f"{base}/_emulator/deployments").json()
    assert stats["free"]["accepted"] >= 1 and stats["limited"]["rpm"] == 3


def test_an_outage_fails_one_deployment_until_it_is_lifted(base: str) -> None:
    set_ = httpx.put(f"{base}/_emulator/deployments/free", json={"outage": {"fault": "server_error", "status": 503}})
    assert set_.status_code == 200 and set_.json()["outage"]["status"] == 503
    down = chat(base, "free")
    assert down.status_code == 503 and down.json()["error"]["code"] == "ServiceUnavailable"
    assert chat(base, "tokens").status_code == 200  # the others answer
    httpx.put(f"{base}/_emulator/deployments/free", json={"outage": None}).raise_for_status()
    assert chat(base, "free").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [({"rpm": 0}, "rpm: expected an integer >= 1"), ({"outage": {"fault": "nope"}}, "outage:"), ({"x": 1}, "unknown")],
)
def test_bad_updates_are_400(base: str, body: dict[str, Any], message: str) -> None:
    answer = httpx.put(f"{base}/_emulator/deployments/free", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_the_window_slides() -> None:
    meter = QuotaMeter({"d": DeploymentQuota(rpm=60)}, window=1.0)  # one request per 1 s window
    assert meter.admit("d", 1).ok
    verdict = meter.admit("d", 1)
    assert not verdict.ok and 0 < verdict.retry_after_ms <= 1000 and verdict.limit == "call"
