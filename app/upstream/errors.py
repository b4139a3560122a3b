"""The upstream layer's own failures (no HTTP status to pass on); the service maps them to client errors."""

from __future__ import annotations


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
