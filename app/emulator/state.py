"""What one emulator instance remembers: the requests it received and the queue of scripted actions.

Shared between the ASGI app (running in uvicorn's thread in tests) and the test itself (main thread), so
every access takes a lock; the objects handed out are copies/encoded snapshots, never live references.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from app.emulator.actions import Action
from app.emulator.quotas import DeploymentQuota, QuotaMeter

if TYPE_CHECKING:
    from app.emulator.faults import FaultMix

__all__ = ["EmulatorState", "RecordedRequest"]


class RecordedRequest(msgspec.Struct, kw_only=True):
    """One request to the chat-completions route, as the client sent it.

    ``headers`` never contains ``api-key`` or ``authorization``: recordings end up in test output and the
    admin endpoint, and must not leak credentials. ``body`` is the parsed JSON, or the raw text when it did
    not parse. ``status`` is the HTTP status the emulator answered with (None while in flight).
    """

    method: str
    path: str
    deployment: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int | None = None
    # Answer chunks sent so far (streaming), and whether the client went away before the answer was complete.
    chunks_sent: int = 0
    cancelled: bool = False


class EmulatorState:
    """Recorded requests plus the FIFO of scripted actions the next requests consume."""

    def __init__(
        self, max_recorded: int = 10_000, quotas: dict[str, DeploymentQuota] | None = None, window: float = 1.0
    ) -> None:
        self._lock = threading.Lock()
        self.quotas = QuotaMeter(quotas or {}, window)
        """Per-deployment quotas, outages and counts (app.emulator.quotas)."""
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._script: deque[Action] = deque()
        # Random fault injection (POST /_emulator/faults with "rate"); consulted when the script is empty.
        self.fault_mix: FaultMix | None = None
        self._gates: dict[str, asyncio.Event] = {}
        self._tokens: dict[str, float] = {}

    # Requests ---------------------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot list, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_as_builtins(self) -> list[dict[str, Any]]:
        with self._lock:
            return [msgspec.to_builtins(r) for r in self._requests]

    # Script -----------------------------------------------------------------------------------------

    def enqueue(self, actions: Iterable[Action]) -> int:
        """Append actions to the script; returns how many are now pending."""
        with self._lock:
            self._script.extend(actions)
            return len(self._script)

    def next_action(self) -> Action | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
            mix = self.fault_mix
        return mix.pick() if mix is not None else None

    def push_front(self, action: Action) -> None:
        """Put back an action that could not be used (the request failed validation first)."""
        with self._lock:
            self._script.appendleft(action)

    @property
    def pending(self) -> list[Action]:
        with self._lock:
            return list(self._script)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def clear(self) -> None:
        """Forget every recorded request, every pending scripted action and every gate."""
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self._gates.clear()
            self.fault_mix = None
        self.quotas.reset()

    # Entra ID tokens --------------------------------------------------------------------------------

    def accept_token(self, token: str, expires_on: float) -> None:
        """Accept ``Authorization: Bearer <token>`` until ``expires_on`` (epoch seconds), like Entra would."""
        with self._lock:
            self._tokens[token] = expires_on

    def token_expires_on(self, token: str) -> float | None:
        """When an accepted token expires, or None for a token this emulator never issued."""
        with self._lock:
            return self._tokens.get(token)

    # Gates ------------------------------------------------------------------------------------------

    def gate(self, name: str) -> asyncio.Event:
        """The gate a scripted stream waits on (created closed on first use). Use on the emulator's loop."""
        with self._lock:
            return self._gates.setdefault(name, asyncio.Event())

    def open_gate(self, name: str) -> None:
        """Let streams waiting on ``name`` go on (and later ones not wait). Use on the emulator's loop."""
        self.gate(name).set()
