"""uvicorn's server, plus a readiness-first shutdown: on SIGTERM, /readyz says 503 before the port closes.

A load balancer or Kubernetes only stops routing to an instance after its readiness probe fails (and the
endpoint change has spread). If the gateway closed its port the moment SIGTERM arrived, requests routed in
that window would be refused. So on SIGTERM it first only marks itself draining - ``/readyz`` answers 503,
everything else is served as usual - and ``shutdown_delay`` seconds later does what uvicorn does: stop
accepting, let in-flight requests and streams finish (up to the drain timeout), run the shutdown hooks.

Ctrl-C (SIGINT), a second SIGTERM, or ``shutdown_delay = 0`` skip the wait.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

import uvicorn

from app.api.health import Health

__all__ = ["DrainingServer"]


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, health: Health | None, delay: float) -> None:
        super().__init__(config)
        self.health = health
        self.delay = delay
        self._close_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.health is not None:
            self.health.start_draining()
        if sig == signal.SIGTERM and self.delay > 0 and self._close_at is None and not self.should_exit:
            # Remembered like uvicorn does, so the signal is re-raised once the server has stopped.
            self._captured_signals.append(sig)
            self._close_at = time.monotonic() + self.delay
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._close_at is not None and time.monotonic() >= self._close_at:
            self.should_exit = True
        return await super().on_tick(counter)
