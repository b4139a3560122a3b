"""Per-deployment budgets: Azure's requests and tokens per minute, spent before a call goes out.

A deployment's quota is two token buckets (requests, tokens) refilled at ``rpm/60`` and ``tpm/60`` per
second. Azure enforces its quota over short windows (1 to 10 seconds), not per minute, so a bucket holds
only a short burst (``BURST_SECONDS`` of the rate, at least one request): a fleet that drew a minute's
quota at once would meet a wall of 429s. A call takes one request and its estimated tokens; when a bucket
is short the caller learns how long until it would not be (and may try another deployment meanwhile).
Azure's own view corrects the estimate: ``x-ratelimit-remaining-requests`` / ``-tokens`` lower a bucket
that holds more than Azure says is left, and a 429's retry-after pauses the deployment.

``Budget`` is what the pool needs; ``LocalBudget`` keeps the buckets in this process, ``RedisBudget``
(app/upstream/coordinator.py) in Redis for every replica, with the local one as its fallback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

__all__ = ["BURST_SECONDS", "Budget", "Grant", "LocalBudget", "Quota"]

BURST_SECONDS: Final = 0.1
"""How much of the rate a full bucket holds: Azure counts in windows of about a second, so a burst of even a
second's quota on top of the steady rate is throttled. At least one request (or one call's tokens) always."""


EPSILON: Final = 1e-6
HEADROOM: Final = 0.9
"""The share of the quota the buckets hand out. Calls granted evenly still reach Azure unevenly (a busy event
loop sends two at once), and Azure counts per second: pacing at the full rate drew a 429 in every ~20 calls
on a loaded machine, at 90% next to none, for a tenth of the quota."""


@dataclass(frozen=True, slots=True)
class Quota:
    """One deployment's budget in bucket terms (0 rate: that dimension is not limited)."""

    key: str
    request_rate: float
    request_capacity: float
    token_rate: float
    token_capacity: float

    @classmethod
    def of(cls, key: str, rpm: int | None, tpm: int | None) -> Quota:
        r = (rpm or 0) / 60 * HEADROOM
        t = (tpm or 0) / 60 * HEADROOM
        return cls(key, r, max(1.0, r * BURST_SECONDS) if r else 0.0, t, max(1.0, t * BURST_SECONDS) if t else 0.0)

    @property
    def limited(self) -> bool:
        return bool(self.request_rate or self.token_rate)


class Grant(NamedTuple):
    ok: bool
    wait: float
    """Seconds until a take could succeed (0 when ``ok``); a pause counts."""
    level: float
    """What is left, as a share of a full bucket (the lower of the two): routing prefers fuller deployments."""


class Budget(Protocol):
    async def take(self, quota: Quota, tokens: int) -> Grant: ...

    async def pause(self, quota: Quota, seconds: float) -> None:
        """No calls to this deployment for ``seconds`` (Azure's retry-after), fleet-wide where shared."""
        ...

    async def correct(self, quota: Quota, requests: float | None, tokens: float | None) -> None:
        """Azure says this much is left: a bucket holding more comes down to it."""
        ...

    def status(self) -> tuple[str, str]:
        """(mode, detail) for /readyz: mode "local", "redis" or "local_fallback"."""
        ...

    async def aclose(self) -> None: ...


class _Bucket:
    __slots__ = ("paused_until", "requests", "stamp", "tokens")

    def __init__(self, quota: Quota, now: float) -> None:
        self.requests = quota.request_capacity
        self.tokens = quota.token_capacity
        self.stamp = now
        self.paused_until = 0.0

    def refill(self, quota: Quota, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.stamp = now
        if quota.request_rate:
            self.requests = min(quota.request_capacity, self.requests + elapsed * quota.request_rate)
        if quota.token_rate:
            self.tokens = min(quota.token_capacity, self.tokens + elapsed * quota.token_rate)

    def level(self, quota: Quota) -> float:
        shares = [1.0]
        if quota.request_rate:
            shares.append(self.requests / quota.request_capacity)
        if quota.token_rate:
            shares.append(self.tokens / quota.token_capacity)
        return max(0.0, min(shares))


class LocalBudget:
    """The buckets of this process (the algorithm RedisBudget's script runs, on the loop's clock)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, quota: Quota) -> tuple[_Bucket, float]:
        now = self._clock()
        bucket = self._buckets.get(quota.key)
        if bucket is None:
            bucket = self._buckets[quota.key] = _Bucket(quota, now)
        bucket.refill(quota, now)
        return bucket, now

    async def take(self, quota: Quota, tokens: int) -> Grant:
        return self.take_now(quota, tokens)

    def take_now(self, quota: Quota, tokens: int) -> Grant:
        bucket, now = self._bucket(quota)
        if bucket.paused_until > now:
            return Grant(False, bucket.paused_until - now, bucket.level(quota))
        wait = 0.0
        # A call bigger than the bucket may go once the bucket is full (and leaves it in debt).
        need = min(float(tokens), quota.token_capacity)
        # EPSILON: a refill that lands exactly on the whole request must not fail by a rounding error.
        if quota.request_rate and bucket.requests < 1 - EPSILON:
            wait = (1 - bucket.requests) / quota.request_rate
        if quota.token_rate and bucket.tokens < need - EPSILON:
            wait = max(wait, (need - bucket.tokens) / quota.token_rate)
        if wait > 0:
            return Grant(False, wait, bucket.level(quota))
        if quota.request_rate:
            bucket.requests -= 1
        if quota.token_rate:
            bucket.tokens -= tokens
        return Grant(True, 0.0, bucket.level(quota))

    async def pause(self, quota: Quota, seconds: float) -> None:
        bucket, now = self._bucket(quota)
        bucket.paused_until = max(bucket.paused_until, now + seconds)

    async def correct(self, quota: Quota, requests: float | None, tokens: float | None) -> None:
        bucket, _ = self._bucket(quota)
        if requests is not None and quota.request_rate:
            bucket.requests = min(bucket.requests, requests)
        if tokens is not None and quota.token_rate:
            bucket.tokens = min(bucket.tokens, tokens)

    def status(self) -> tuple[str, str]:
        return "local", "budgets are this process's own (no redis_url)"

    async def aclose(self) -> None:
        """Nothing to close."""
