"""Liveness and readiness: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` answers 200 whenever the process serves HTTP at all: a liveness probe that fails only when the
process is wedged, so an orchestrator restarts it for nothing else (Azure being down is not a reason to
restart the gateway).

``/readyz`` answers 200 only when this instance should get traffic: the settings were valid (otherwise there
is no app), the app's startup has run and the Azure connection pool is open, and the gateway is not
draining. On SIGTERM the CLI marks it draining first (``shutdown_delay`` seconds before the port closes), so
a load balancer takes the instance out of rotation while in-flight and late requests are still served. With
``readiness_probe_upstream = true`` it also asks Azure (see ``AzureChatClient.probe``: a request Azure
rejects before any model runs, so it costs no tokens) and caches the verdict ``readiness_probe_ttl``
seconds, so a busy prober cannot turn into load on Azure. With ``redis_url`` it names the coordinator's
state (``coordinator.mode``: ``redis``, or ``local_fallback`` while Redis is away - still ready, since
requests are served on local budgets), and with a pool each deployment's breaker.

Neither needs the inbound API key: probes come from the platform, not from clients.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from app.settings import Settings
from app.upstream import AzureChatClient

__all__ = ["Health", "HealthController"]


class Health:
    """The readiness state of one app; ``app.state["health"]``."""

    def __init__(self, settings: Settings, client: AzureChatClient) -> None:
        self.settings = settings
        self.client = client
        self.pool_up = False
        self.draining = False
        self._probe_lock = asyncio.Lock()
        self._probe_at = float("-inf")
        self._probe_result: tuple[bool, str] = (False, "not probed yet")

    def started(self) -> None:
        self.pool_up = True

    def stopping(self) -> None:
        self.draining = True
        self.pool_up = False

    def start_draining(self) -> None:
        """SIGTERM arrived: stop advertising readiness, keep serving until the server closes the port."""
        self.draining = True

    async def upstream(self) -> tuple[bool, str]:
        """Azure's verdict, at most one real probe per ``readiness_probe_ttl`` seconds."""
        ttl = self.settings.readiness_probe_ttl
        if time.monotonic() - self._probe_at < ttl:
            return self._probe_result
        async with self._probe_lock:
            if time.monotonic() - self._probe_at < ttl:
                return self._probe_result
            self._probe_result = await self.client.probe()
            self._probe_at = time.monotonic()
            return self._probe_result

    def fleet(self) -> dict[str, Any]:
        """With Redis: whether the budgets are shared right now (a fallback to local ones is still ready, since
        requests are served; it says so). With a pool: each deployment's breaker and budget."""
        detail: dict[str, Any] = {}
        if self.settings.redis_url is not None:
            mode, why = self.client.budget.status()
            detail["coordinator"] = {"mode": mode, "detail": why}
        if len(self.client.pool) > 1:
            detail["deployments"] = self.client.pool.describe()
        return detail

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        if self.draining:
            return False, {"status": "draining"}
        if not self.pool_up:
            return False, {"status": "starting"}
        if not self.settings.readiness_probe_upstream:
            return True, {"status": "ready", **self.fleet()}
        ok, detail = await self.upstream()
        return ok, {"status": "ready" if ok else "upstream_unavailable", "upstream": detail, **self.fleet()}


def _no_store(body: dict[str, Any], status: int) -> Response[dict[str, Any]]:
    return Response(body, status_code=status, headers={"cache-control": "no-store"})


class HealthController(Controller):
    include_in_schema = False

    @get("/healthz", sync_to_thread=False)
    def healthz(self) -> Response[dict[str, Any]]:
        return _no_store({"status": "ok"}, 200)

    @get("/readyz")
    async def readyz(self, health: NamedDependency[Health]) -> Response[dict[str, Any]]:
        ok, body = await health.readiness()
        return _no_store(body, 200 if ok else 503)
