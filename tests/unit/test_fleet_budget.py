"""Budgets and breakers: the bucket's arithmetic on a fake clock, the Redis script against real Redis (two
"replicas" sharing one budget and one pause), and the fall back to local budgets when Redis is gone."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from support.redis_service import delete_prefix, new_prefix, require_redis

from app.upstream.breaker import CircuitBreaker
from app.upstream.budget import LocalBudget, Quota
from app.upstream.coordinator import RedisBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_quota_holds_a_short_burst_not_a_minute() -> None:
    quota = Quota.of("d", 600, 60_000)
    assert quota.request_rate == 9 and quota.request_capacity == 1  # 90% of 10/s; 0.1 s of it, at least one
    assert quota.token_rate == 900 and quota.token_capacity == 90
    assert not Quota.of("d", None, None).limited


def test_local_bucket_spends_refills_and_says_how_long_to_wait() -> None:
    clock = Clock()
    budget = LocalBudget(clock)
    quota = Quota.of("d", 600, None)  # 10 requests/s, handed out at 9/s, a burst of one
    assert budget.take_now(quota, 5).ok
    denied = budget.take_now(quota, 5)
    assert not denied.ok and denied.wait == pytest.approx(1 / 9)
    clock.now += 0.05
    assert budget.take_now(quota, 5).wait == pytest.approx(1 / 9 - 0.05)
    clock.now += 1 / 9 - 0.05
    assert budget.take_now(quota, 5).ok


def test_tokens_per_minute_limit_and_a_call_bigger_than_the_bucket() -> None:
    clock = Clock()
    budget = LocalBudget(clock)
    quota = Quota.of("d", None, 6000)  # 100 tokens/s handed out at 90/s, bucket of 9
    assert budget.take_now(quota, 500).ok  # bigger than the bucket: goes when it is full, leaves a debt
    denied = budget.take_now(quota, 5)
    assert not denied.ok and denied.wait == pytest.approx((5 + 491) / 90)


def test_pause_and_correction() -> None:
    async def run() -> None:
        clock = Clock()
        budget = LocalBudget(clock)
        quota = Quota.of("d", 60_000, None)  # 1000/s, bucket of 100
        await budget.pause(quota, 2.0)
        assert budget.take_now(quota, 1).wait == pytest.approx(2.0)
        clock.now += 2.0
        assert budget.take_now(quota, 1).ok
        await budget.correct(quota, 0, None)  # Azure says nothing is left
        assert not budget.take_now(quota, 1).ok

    asyncio.run(run())


def test_breaker_opens_probes_once_and_closes_on_recovery() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock)
    assert not breaker.failure() and not breaker.failure()
    assert breaker.state == "closed" and breaker.available()
    assert breaker.failure()  # the third in a row opens it
    assert breaker.state == "open" and not breaker.available()
    clock.now += 10
    assert breaker.state == "half_open" and breaker.available()
    breaker.dispatched()  # the probe
    assert not breaker.available()  # nobody else while it is out
    assert breaker.failure()  # the probe failed: open again, for another cooldown
    assert breaker.state == "open"
    clock.now += 10
    breaker.dispatched()
    breaker.success()
    assert breaker.state == "closed" and breaker.available() and breaker.opened == 2


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(2, 1.0)
    breaker.failure()
    breaker.success()
    assert not breaker.failure()
    assert breaker.state == "closed"


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    url = require_redis()
    prefix = new_prefix()
    yield url, prefix
    delete_prefix(url, prefix)


def test_two_replicas_share_one_redis_budget_and_pause(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix

    async def run() -> None:
        one, two = RedisBudget(url, prefix), RedisBudget(url, prefix)
        quota = Quota.of("host/deployment", 60, None)  # one request per second, a burst of one
        try:
            first = await one.take(quota, 10)
            second = await two.take(quota, 10)  # the other replica: the one request is spent
            assert first.ok and not second.ok and 0 < second.wait <= 1 / 0.9
            assert one.status()[0] == "redis"
            await two.pause(quota, 5.0)
            paused = await one.take(quota, 10)
            assert not paused.ok and 4.0 < paused.wait <= 5.0  # the pause is the fleet's
        finally:
            await one.aclose()
            await two.aclose()

    asyncio.run(run())


def test_redis_correction_is_shared(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix

    async def run() -> None:
        one = RedisBudget(url, prefix)
        quota = Quota.of("host/deployment", 60_000, 6_000_000)  # buckets of 90 requests, 9,000 tokens
        try:
            assert (await one.take(quota, 1)).ok
            await one.correct(quota, 3, None)  # Azure: 3 requests left (tokens: no word)
        finally:
            await one.aclose()

    asyncio.run(run())
    import redis

    client = redis.Redis.from_url(url)
    try:
        # What every replica reads next: the requests bucket came down to Azure's count, the tokens one did not.
        stored = client.hgetall(f"{prefix}:budget:host/deployment")
        assert float(stored[b"r"]) == 3 and float(stored[b"t"]) > 8900
    finally:
        client.close()


def test_unreachable_redis_falls_back_to_local_budgets_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here

    async def run() -> None:
        budget = RedisBudget(f"redis://127.0.0.1:{port}/0", new_prefix())
        quota = Quota.of("host/deployment", 60, None)
        try:
            assert (await budget.take(quota, 1)).ok  # served from the local bucket
            assert not (await budget.take(quota, 1)).ok  # which still enforces the budget
            mode, detail = budget.status()
            assert mode == "local_fallback" and f"127.0.0.1:{port}" in detail and "own budgets" in detail
        finally:
            await budget.aclose()

    with caplog.at_level("WARNING", logger="app.upstream.coordinator"):
        asyncio.run(run())
    assert sum("serving on this process's own budgets" in r.getMessage() for r in caplog.records) == 1


def test_a_probe_that_never_got_an_answer_lets_the_next_one_go() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 5.0, clock)
    breaker.failure()
    clock.now += 5
    breaker.dispatched()
    assert not breaker.available()
    breaker.released()  # the client went away before Azure answered: nothing learnt
    assert breaker.available() and breaker.state == "half_open"


def test_a_pause_holds_for_a_deployment_without_a_quota() -> None:
    """Azure's 429 pauses a deployment even when no rpm/tpm is configured (nothing else is limited)."""

    async def run() -> None:
        clock = Clock()
        budget = LocalBudget(clock)
        free = Quota.of("d", None, None)
        assert budget.take_now(free, 10**6).ok  # no quota: any size goes
        await budget.pause(free, 1.5)
        paused = budget.take_now(free, 1)
        assert not paused.ok and paused.wait == pytest.approx(1.5)
        clock.now += 1.5
        assert budget.take_now(free, 1).ok

    asyncio.run(run())
