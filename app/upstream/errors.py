"""The upstream layer's own failures (no HTTP status to pass on); the service maps them to client errors."""

from __future__ import annotations

import httpx


class UpstreamError(Exception):
    """Base class for failures talking to Azure. Messages never contain the API key."""


class UpstreamUnavailable(UpstreamError):
    """Azure could not be reached or did not answer in time (no HTTP status to pass on).

    ``timeout`` lets the caller choose 504 over 502.
    """

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class GatewayBusy(UpstreamError):
    """No upstream slot: the wait queue is full, or the wait for a slot took too long (503 + Retry-After)."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def unavailable_from(exc: Exception, host: str, when: str = "") -> UpstreamUnavailable:
    """The ``UpstreamUnavailable`` for httpx's ``exc``; ``when`` (e.g. "mid-stream") says at which point the
    failure happened, if not while connecting."""
    if isinstance(exc, httpx.TimeoutException):
        phase = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        where = f" {when}" if when else ""
        return UpstreamUnavailable(f"Azure OpenAI at {host} timed out{where} ({phase} timeout)", timeout=True)
    if when:
        what = f"dropped the connection {when}"
    elif isinstance(exc, httpx.ConnectError):
        what = "is unreachable"
    else:
        # Connected, then reset or closed before a status line: "unreachable" would send the operator
        # looking at DNS and firewalls.
        what = "closed the connection before answering"
    # str(exc) of a transport error names the socket problem, never request headers. Its own closing period
    # goes: the message continues (attempt count) and the envelope adds the final one.
    detail = str(exc).strip().rstrip(".")
    return UpstreamUnavailable(f"Azure OpenAI at {host} {what}: {type(exc).__name__}: {detail}")
