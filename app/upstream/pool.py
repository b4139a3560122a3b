"""The pool of deployments one model is spread over: which one an attempt goes to, and what its answer says.

``choose`` picks for each attempt: among the deployments whose breaker lets a call through (all of them if
none does - a guess beats a refusal), in a random order weighted by ``weight`` times the share of budget
left, the first whose budget grants the call. When none can, it waits for the soonest one (within the
request's deadline and ``max_queue_wait``, else ``GatewayBusy``). After a failed attempt the next one avoids
the deployment that failed, so a retry is a failover whenever another deployment can take it.

``settle`` reads the answer: a 5xx, a timeout or a connection error counts against the breaker; a 429
pauses the deployment for Azure's retry-after (fleet-wide with Redis); every answer's
``x-ratelimit-remaining-*`` headers correct the budget.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping

import httpx
import msgspec

from app.settings import Settings
from app.settings.fleet import Deployment, pool_of
from app.telemetry import fleet as metrics
from app.upstream.auth import EntraToken
from app.upstream.breaker import STATE_VALUE, CircuitBreaker
from app.upstream.budget import Budget, Quota
from app.upstream.errors import GatewayBusy
from app.upstream.retry import retry_after_seconds
from app.upstream.urls import chat_completions_url, v1_chat_completions_url

__all__ = ["DeploymentPool", "Target"]

log = logging.getLogger("app.upstream.pool")


class Target:
    """One deployment as the client calls it: URL, credentials, breaker, budget key."""

    def __init__(self, deployment: Deployment, settings: Settings, token: EntraToken | None) -> None:
        self.deployment = deployment
        self.name = deployment.name
        self.host = deployment.host
        self.weight = deployment.weight
        self.v1 = settings.api_surface == "v1"
        if self.v1:
            self.url = v1_chat_completions_url(deployment.openai_base_url, deployment.default_query)
        else:
            self.url = chat_completions_url(
                deployment.openai_base_url, deployment.openai_model, deployment.default_query
            )
        base = {"content-type": "application/json", "accept": "application/json"}
        self.token = token if deployment.auth == "entra_id" else None
        if deployment.auth == "api_key" and deployment.openai_api_key is not None:
            base["api-key"] = deployment.openai_api_key.get_secret_value()
        self.headers = httpx.Headers(base)
        self.stream_headers = httpx.Headers({**base, "accept": "text/event-stream"})
        self.quota = Quota.of(deployment.quota_id, deployment.rpm, deployment.tpm)
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown)
        self.level = 1.0
        """Share of its budget left when last asked: routing leans towards fuller deployments."""
        self.last_outcome = ""
        """The outcome of its last attempt (the reason a failover from it gives)."""
        self.gauge = metrics.BREAKER_STATE.labels(self.name)
        self.gauge.set(0)
        self.gauge_value = 0

    def body_for(self, body: bytes, first_model: str) -> bytes:
        """On Azure's v1 surface the deployment is the body's ``model``: rewrite it for this deployment."""
        if not self.v1 or self.deployment.openai_model == first_model:
            return body
        decoded = msgspec.json.decode(body)
        decoded["model"] = self.deployment.openai_model
        return msgspec.json.encode(decoded)


class DeploymentPool:
    def __init__(self, settings: Settings, budget: Budget, token: EntraToken | None) -> None:
        self.targets = [Target(d, settings, token) for d in pool_of(settings)]
        self.budget = budget
        self.first_model = self.targets[0].deployment.openai_model
        self._max_wait = settings.max_queue_wait
        self._max_pause = settings.max_retry_wait
        """A 429's pause is capped like the wait between retries: max_retry_wait is the operator's limit on both."""
        self._random = random.Random()
        self._many = len(self.targets) > 1

    def __len__(self) -> int:
        return len(self.targets)

    def _order(self, avoid: Target | None) -> list[Target]:
        open_ = [t for t in self.targets if t.breaker.available()]
        candidates = open_ or list(self.targets)
        if avoid is not None and len(candidates) > 1:
            candidates = [t for t in candidates if t is not avoid] or candidates
        if len(candidates) == 1:
            return candidates
        # Weighted random order without replacement (Efraimidis-Spirakis keys).
        keyed = [(self._random.random() ** (1 / (t.weight * max(t.level, 0.05))), t) for t in candidates]
        return [t for _, t in sorted(keyed, key=lambda pair: pair[0], reverse=True)]

    def failover_ready(self, failed: Target | None) -> bool:
        """Could another deployment take the next attempt now (so no backoff is needed)?"""
        return failed is not None and any(t is not failed and t.breaker.available() for t in self.targets)

    async def choose(self, tokens: int, deadline: float, avoid: Target | None = None) -> Target:
        """The deployment the next attempt goes to, its budget spent; waits for budget if all are short."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        give_up = min(deadline, started + self._max_wait)
        waited = False
        while True:
            soonest = float("inf")
            # Every deployment asks its budget, quota or not: a 429's pause holds either way (fleet-wide with
            # Redis). One deployment has nothing to order.
            for target in self._order(avoid) if self._many else self.targets:
                grant = await self.budget.take(target.quota, tokens)
                target.level = grant.level
                grant_ok, wait = grant.ok, grant.wait
                if grant_ok:
                    if waited:
                        metrics.BUDGET_WAIT.observe(loop.time() - started)
                    target.breaker.dispatched()
                    self._breaker_metric(target)
                    if avoid is not None and target is not avoid:
                        self._failed_over(avoid, target)
                    return target
                soonest = min(soonest, wait)
            now = loop.time()
            if now + soonest > give_up:
                names = ", ".join(t.name for t in self.targets)
                raise GatewayBusy(
                    f"No Azure budget left on {names} within {give_up - started:.3g}s "
                    "(their rpm/tpm quota is spent); retry shortly.",
                    retry_after=max(1, round(soonest)) if soonest != float("inf") else 1,
                )
            # A little jitter, so the replicas that all waited for the same refill do not all ask at once.
            await asyncio.sleep(soonest + self._random.uniform(0, 0.01))
            waited = True

    async def settle(self, target: Target, status: int | None, headers: Mapping[str, str] | None) -> None:
        """Judge an attempt: ``status`` None means no HTTP answer (timeout, connection error)."""
        breaker = target.breaker
        if status is None or status >= 500:
            if breaker.failure():
                metrics.BREAKER_OPENED.labels(target.name).inc()
                log.warning(
                    "deployment %s failed %d times in a row: circuit breaker open for %gs",
                    target.name,
                    breaker.failures,
                    breaker.cooldown,
                )
        elif status == 429:
            breaker.released()
            wait = retry_after_seconds(headers or {})
            metrics.PAUSED.labels(target.name).inc()
            await self.budget.pause(target.quota, min(wait if wait is not None else 1.0, self._max_pause))
        else:
            if breaker.state != "closed":
                log.warning("deployment %s answered again: circuit breaker closed", target.name)
            breaker.success()
        self._breaker_metric(target)
        if headers is not None and target.quota.limited:
            requests = _number(headers.get("x-ratelimit-remaining-requests"))
            tokens = _number(headers.get("x-ratelimit-remaining-tokens"))
            # Only when Azure sees less than the bucket holds (the bucket is usually right: no extra round trip).
            quota, level = target.quota, target.level
            fewer_requests = requests is not None and requests < quota.request_capacity * level
            fewer_tokens = tokens is not None and tokens < quota.token_capacity * level
            if fewer_requests or fewer_tokens:
                await self.budget.correct(quota, requests, tokens)

    def _failed_over(self, source: Target, target: Target) -> None:
        reason = source.last_outcome or "unknown"
        metrics.FAILOVERS.labels(source.name, reason).inc()
        log.info("deployment %s got %s; failing over to %s", source.name, reason, target.name)

    def _breaker_metric(self, target: Target) -> None:
        value = STATE_VALUE[target.breaker.state]
        if value != target.gauge_value:
            target.gauge.set(value)
            target.gauge_value = value

    def describe(self) -> list[dict[str, object]]:
        """Per deployment: breaker state and budget level, for /readyz."""
        return [
            {"deployment": t.name, "breaker": t.breaker.state, "budget_left": round(t.level, 3)} for t in self.targets
        ]


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None

