"""Per-deployment quotas and outages, the way Azure enforces and reports them.

A deployment may have a requests-per-minute and a tokens-per-minute quota. Like Azure, the emulator does
not wait for the minute to end: it evaluates the rate over a short window (``quota_window`` seconds, 1 by
default; Azure uses 1 or 10) and throttles a request that would exceed ``rpm * window / 60`` requests or
``tpm * window / 60`` tokens in the last window. A request's tokens are estimated as Azure estimates them
before any model runs: the prompt's characters / 4 plus its ``max_tokens`` / ``max_completion_tokens``.

Every answer from a deployment with a quota carries ``x-ratelimit-remaining-requests`` and
``x-ratelimit-remaining-tokens`` (what is left in the current window); a throttled one is Azure's 429 with
``retry-after-ms``, ``x-ms-retry-after-ms`` and ``Retry-After`` (whole seconds, rounded up) and the
message naming the call or token rate limit.

An outage makes one deployment fail every request with a fault (a 5xx, a delay longer than the gateway's
timeout, a reset: see :mod:`app.emulator.faults`) until it is lifted - one region down while the others
answer. ``PUT /_emulator/deployments/{name}`` sets both at run time; ``GET /_emulator/deployments`` reports
what each deployment received, served and throttled.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec

__all__ = ["DeploymentQuota", "QuotaMeter", "Verdict", "estimate_tokens"]


class DeploymentQuota(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    rpm: int | None = None
    tpm: int | None = None


def estimate_tokens(raw: bytes, body: Any) -> int:
    """Azure's pre-call estimate: prompt characters / 4 plus the requested output cap."""
    cap = 0
    if isinstance(body, dict):
        for key in ("max_completion_tokens", "max_tokens"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                cap = value
                break
    return len(raw) // 4 + cap


@dataclass(slots=True)
class Verdict:
    ok: bool
    headers: dict[str, str]
    retry_after_ms: int = 0
    limit: str = ""  # "call" or "token": which rate limit a throttled request exceeded


@dataclass(slots=True)
class _Meter:
    quota: DeploymentQuota
    outage: Any = None
    window: deque[tuple[float, int]] = field(default_factory=deque)
    received: int = 0
    accepted: int = 0
    throttled: int = 0
    failed: int = 0
    accepted_at: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


class QuotaMeter:
    """Quotas, outages and counts per deployment; thread-safe (the test thread reads what uvicorn's wrote)."""

    def __init__(self, quotas: dict[str, DeploymentQuota], window: float = 1.0) -> None:
        self._configured = dict(quotas)
        self.window = window
        self._lock = threading.Lock()
        self._meters: dict[str, _Meter] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the configured quotas, no outage, all counts zero."""
        with self._lock:
            self._meters = {name: _Meter(quota) for name, quota in self._configured.items()}

    def _meter(self, deployment: str) -> _Meter:
        meter = self._meters.get(deployment)
        if meter is None:
            meter = self._meters[deployment] = _Meter(DeploymentQuota())
        return meter

    def update(self, deployment: str, changes: dict[str, Any], outage: Any = ...) -> None:
        with self._lock:
            meter = self._meter(deployment)
            meter.quota = msgspec.structs.replace(meter.quota, **changes)
            if outage is not ...:
                meter.outage = outage

    def outage(self, deployment: str) -> Any:
        """The fault every request to ``deployment`` gets now, or None (and counts the request either way)."""
        with self._lock:
            meter = self._meter(deployment)
            meter.received += 1
            if meter.outage is not None:
                meter.failed += 1
            return meter.outage

    def admit(self, deployment: str, tokens: int) -> Verdict:
        """Count the request against the deployment's quota, or throttle it."""
        now = time.monotonic()
        with self._lock:
            meter = self._meter(deployment)
            quota = meter.quota
            if quota.rpm is None and quota.tpm is None:
                meter.accepted += 1
                meter.accepted_at.append(now)
                return Verdict(True, {})
            entries = meter.window
            while entries and entries[0][0] <= now - self.window:
                entries.popleft()
            max_requests = max(1, math.floor(quota.rpm * self.window / 60)) if quota.rpm else None
            max_tokens = max(1, math.floor(quota.tpm * self.window / 60)) if quota.tpm else None
            used_tokens = sum(cost for _, cost in entries)
            wait, limit = 0.0, ""
            if max_requests is not None and len(entries) + 1 > max_requests:
                wait, limit = entries[0][0] + self.window - now, "call"
            if max_tokens is not None and used_tokens + min(tokens, max_tokens) > max_tokens:
                freed, need, token_wait = 0, used_tokens + min(tokens, max_tokens) - max_tokens, self.window
                for stamp, cost in entries:
                    freed += cost
                    if freed >= need:
                        token_wait = stamp + self.window - now
                        break
                if token_wait > wait:
                    wait, limit = token_wait, "token"
            if not limit:
                entries.append((now, tokens))
                meter.accepted += 1
                meter.accepted_at.append(now)
            else:
                meter.throttled += 1
            headers = {}
            if max_requests is not None:
                headers["x-ratelimit-remaining-requests"] = str(max(0, max_requests - len(entries)))
            if max_tokens is not None:
                headers["x-ratelimit-remaining-tokens"] = str(max(0, max_tokens - sum(c for _, c in entries)))
            if not limit:
                return Verdict(True, headers)
            millis = max(1, math.ceil(wait * 1000))
            headers.update(
                {
                    "retry-after-ms": str(millis),
                    "x-ms-retry-after-ms": str(millis),
                    "retry-after": str(max(1, math.ceil(millis / 1000))),
                }
            )
            return Verdict(False, headers, millis, limit)

    def stats(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                name: {
                    "rpm": m.quota.rpm,
                    "tpm": m.quota.tpm,
                    "outage": msgspec.to_builtins(m.outage) if m.outage is not None else None,
                    "received": m.received,
                    "accepted": m.accepted,
                    "throttled": m.throttled,
                    "failed": m.failed,
                    "accepted_at": list(m.accepted_at),
                }
                for name, m in self._meters.items()
            }


def throttled_body(verdict: Verdict, api_version: str) -> dict[str, Any]:
    """Azure's 429 body for a quota (its ``code`` is the string "429")."""
    seconds = max(1, math.ceil(verdict.retry_after_ms / 1000))
    what = "call rate limit" if verdict.limit == "call" else "token rate limit"
    message = (
        f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {api_version} have "
        f"exceeded {what} of your current OpenAI S0 pricing tier. Please retry after {seconds} "
        f"second{'s' if seconds != 1 else ''}. Please go here: https://aka.ms/oai/quotaincrease if you would like "
        "to further increase the default rate limit."
    )
    return {"error": {"code": "429", "message": message}}
