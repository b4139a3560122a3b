"""The fleet's shared budgets in Redis (``redis_url``), and the fall back to local ones when Redis is away.

Every replica runs the same bucket (``budget.py``) as one atomic Lua script on Redis's clock (``TIME``), so
two processes never both spend the last request and their clocks never disagree. A pause (a 429's
retry-after) is a key with that expiry: every replica sees it. redis-py's asyncio client, with short
timeouts and no retries of its own: a coordinator that does not answer at once costs a request nothing
more than a fall back to this process's buckets.

When Redis fails, the gateway keeps serving on ``LocalBudget`` and says so: a warning in the log, the
``gateway_coordinator_up`` gauge at 0, and ``/readyz``'s ``coordinator`` detail; it tries Redis again every
``RECONNECT_SECONDS`` and says so again when it is back. Requests never fail because the coordinator did.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Final
from urllib.parse import urlsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.telemetry import fleet as metrics
from app.upstream.budget import Grant, LocalBudget, Quota

__all__ = ["RedisBudget"]

log = logging.getLogger("app.upstream.coordinator")

RECONNECT_SECONDS: Final = 2.0
TIMEOUT_SECONDS: Final = 0.5
_TTL_MS: Final = 120_000  # an idle deployment's bucket is refilled anyway: let Redis forget it

# KEYS: bucket hash, pause key. ARGV: op (take|correct), request rate, capacity, token rate, capacity, then
# take: the call's tokens; correct: Azure's remaining requests and tokens ("" when not sent).
# Returns {ok, wait seconds, level} as strings (Lua numbers would be truncated to integers).
_BUCKET: Final = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) + tonumber(now_t[2]) / 1000000
local rr, rc, tr, tc = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local r = tonumber(h[1]) or rc
local t = tonumber(h[2]) or tc
local ts = tonumber(h[3]) or now
local dt = math.max(0, now - ts)
if rr > 0 then r = math.min(rc, r + dt * rr) end
if tr > 0 then t = math.min(tc, t + dt * tr) end
local ok, wait = 1, 0
if ARGV[1] == 'take' then
  local paused = redis.call('PTTL', KEYS[2])
  if paused > 0 then
    ok = 0
    wait = paused / 1000
  else
    local cost = tonumber(ARGV[6])
    local need = math.min(cost, tc)
    if rr > 0 and r < 1 - 1e-6 then ok = 0; wait = (1 - r) / rr end
    if tr > 0 and t < need - 1e-6 then ok = 0; wait = math.max(wait, (need - t) / tr) end
    if ok == 1 then
      if rr > 0 then r = r - 1 end
      if tr > 0 then t = t - cost end
    end
  end
else
  local rem_r, rem_t = tonumber(ARGV[6]), tonumber(ARGV[7])
  if rem_r and rr > 0 then r = math.min(r, rem_r) end
  if rem_t and tr > 0 then t = math.min(t, rem_t) end
end
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(t), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[8]))
local level = 1
if rr > 0 then level = math.min(level, r / rc) end
if tr > 0 then level = math.min(level, t / tc) end
return {ok, tostring(wait), tostring(math.max(0, level))}
"""

# KEYS: pause key. ARGV: milliseconds. Only ever lengthens a pause.
_PAUSE: Final = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""

_ERRORS: Final = (redis.RedisError, OSError, TimeoutError)


def _where(url: str) -> str:
    """The Redis address without credentials, for logs and /readyz."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path


class RedisBudget:
    """Budgets in Redis under ``{prefix}:budget:{deployment}``; ``LocalBudget`` while Redis is unreachable."""

    def __init__(self, url: str, prefix: str, *, client: Any = None) -> None:
        self.where = _where(url)
        self._prefix = prefix
        self._redis = client or redis.Redis.from_url(
            url,
            socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        self._bucket = self._redis.register_script(_BUCKET)
        self._pause = self._redis.register_script(_PAUSE)
        self.local = LocalBudget()
        self.up = True
        self._down_since = 0.0
        self._retry_at = 0.0
        self._error = ""
        metrics.COORDINATOR_UP.set(1)

    def _keys(self, quota: Quota) -> list[str]:
        return [f"{self._prefix}:budget:{quota.key}", f"{self._prefix}:pause:{quota.key}"]

    def _usable(self) -> bool:
        return self.up or time.monotonic() >= self._retry_at

    def _failed(self, exc: BaseException) -> None:
        metrics.COORDINATOR_ERRORS.inc()
        self._retry_at = time.monotonic() + RECONNECT_SECONDS
        if self.up:
            self.up = False
            self._down_since = time.time()
            self._error = f"{type(exc).__name__}: {exc}"[:300]
            metrics.COORDINATOR_UP.set(0)
            log.warning(
                "Redis coordinator at %s failed (%s); serving on this process's own budgets until it is back",
                self.where,
                self._error,
            )

    def _worked(self) -> None:
        if not self.up:
            self.up = True
            metrics.COORDINATOR_UP.set(1)
            log.warning("Redis coordinator at %s is back; budgets are shared again", self.where)

    def _args(self, op: str, quota: Quota, *rest: str | float) -> list[str | float]:
        rate = [quota.request_rate, quota.request_capacity, quota.token_rate, quota.token_capacity]
        return [op, *rate, *rest, _TTL_MS]

    async def take(self, quota: Quota, tokens: int) -> Grant:
        if self._usable():
            try:
                ok, wait, level = await self._bucket(keys=self._keys(quota), args=self._args("take", quota, tokens, ""))
            except _ERRORS as exc:
                self._failed(exc)
            else:
                self._worked()
                return Grant(int(ok) == 1, float(wait), float(level))
        return self.local.take_now(quota, tokens)

    async def pause(self, quota: Quota, seconds: float) -> None:
        await self.local.pause(quota, seconds)  # also here: it holds if Redis goes away meanwhile
        if self._usable():
            try:
                await self._pause(keys=self._keys(quota)[1:], args=[max(1, round(seconds * 1000))])
            except _ERRORS as exc:
                self._failed(exc)
            else:
                self._worked()

    async def correct(self, quota: Quota, requests: float | None, tokens: float | None) -> None:
        await self.local.correct(quota, requests, tokens)
        if self._usable():
            extra = ["" if requests is None else requests, "" if tokens is None else tokens]
            try:
                await self._bucket(keys=self._keys(quota), args=self._args("correct", quota, *extra))
            except _ERRORS as exc:
                self._failed(exc)
            else:
                self._worked()

    def status(self) -> tuple[str, str]:
        if self.up:
            return "redis", f"budgets shared through Redis at {self.where}"
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._down_since))
        return "local_fallback", (
            f"Redis at {self.where} unreachable since {since} ({self._error}); serving on this process's own budgets"
        )

    async def aclose(self) -> None:
        with contextlib.suppress(*_ERRORS):
            await self._redis.aclose()
