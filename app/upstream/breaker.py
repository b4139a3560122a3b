"""A circuit breaker per deployment: stop sending to one that keeps failing, probe it, let traffic back.

Closed (normal) until ``failures`` calls in a row fail - a 5xx, a timeout or a connection error; a 429 is
Azure saying "not now", handled by the budget's pause, and any other answer means the deployment works.
Open: no calls for ``cooldown`` seconds. Then half-open: exactly one call (the probe) may go; its success
closes the breaker, its failure opens it for another cooldown. Per process, on purpose: each replica finds
out about a broken region on its own within ``failures`` calls, and nothing about health has to survive a
coordinator outage.

Hand-written rather than a library: the well-known ones (pybreaker, aiobreaker) wrap a function call and
decide from its exception, while here the verdict comes from an HTTP status after the retry loop chose the
deployment, and the pool must ask "may I send here now?" without calling anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Literal

__all__ = ["CircuitBreaker"]

State = Literal["closed", "open", "half_open"]
STATE_VALUE: Final = {"closed": 0, "half_open": 1, "open": 2}


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] | None = None) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock or time.monotonic
        self._failed = 0
        self._opened_at: float | None = None
        self._probing = False
        self.opened = 0
        """How many times it opened (tests and the log)."""

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def available(self) -> bool:
        """May a call go now? Closed: yes; open: no; half-open: only while no probe is out."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probing)

    def dispatched(self) -> None:
        """A call is going out; in half-open it is the probe, and no other goes until it is judged."""
        if self._opened_at is not None:
            self._probing = True

    def success(self) -> None:
        self._failed = 0
        self._opened_at = None
        self._probing = False

    def failure(self) -> bool:
        """Count a failed call; returns True when this failure opened (or re-opened) the breaker."""
        self._failed += 1
        if self._probing or (self._opened_at is None and self._failed >= self.failures):
            self._opened_at = self._clock()
            self._probing = False
            self.opened += 1
            return True
        return False

    def released(self) -> None:
        """A dispatched call was never judged (cancelled, or the answer says nothing about health)."""
        self._probing = False
