"""Retrying the pre-body phase of an Azure call: what is retried, how long to wait, when to give up.

One attempt is "send the request and get the status line and headers" (for a plain call, also the body).
It is retried only while nothing has gone to the client - which is always true here, because the caller
sends nothing until ``attempt`` returns. Retried: HTTP 429/500/502/503/504, a connect error, a read
timeout, a connection dropped or reset before the whole reply arrived. Never retried: any other status
(400, 401, 404 ... are answers, not hiccups), and never past the request's deadline.

The wait between attempts is Azure's own hint when it sends one - ``retry-after-ms``, then
``x-ms-retry-after-ms``, then ``Retry-After`` in seconds or as an HTTP date, the order Azure's SDKs use -
capped by ``max_retry_wait``; otherwise exponential backoff with full jitter, capped the same way.
Tenacity runs the loop; this module only supplies the decisions, so a streaming call can reuse it as
``attempt(open_stream_and_read_headers, ...)``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
import tenacity
from tenacity.stop import stop_base

from app.telemetry import observe

__all__ = [
    "RETRY_STATUSES",
    "DeadlineExceeded",
    "RetryPolicy",
    "attempt",
    "retry_after_seconds",
]

log = logging.getLogger("app.upstream.retry")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Connect errors/timeouts, read timeouts, resets (ReadError) and a server closing before or during the
# reply (RemoteProtocolError). All happen before the gateway has sent anything to its client.
RETRY_EXCEPTIONS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

# Backoff without a hint: full jitter over 0.5 s, 1 s, 2 s ... up to 8 s (then capped by max_retry_wait).
_BACKOFF = tenacity.wait_random_exponential(multiplier=0.5, max=8.0)


class DeadlineExceeded(Exception):
    """The request's total deadline (``request_timeout``) passed during an attempt."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    max_wait: float


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Azure's requested wait in seconds, or None when it gave none (or gave nonsense)."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value is not None:
            try:
                millis = float(value)
            except ValueError:
                continue
            if math.isfinite(millis) and millis >= 0:
                return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _should_retry(state: tenacity.RetryCallState) -> bool:
    outcome = state.outcome
    if outcome is None:
        return False
    if outcome.failed:
        return isinstance(outcome.exception(), RETRY_EXCEPTIONS)
    response = outcome.result()
    return isinstance(response, httpx.Response) and response.status_code in RETRY_STATUSES


def _reason(state: tenacity.RetryCallState) -> str:
    """The retries metric's label for the attempt being retried (the attempts metric's outcome names)."""
    outcome = state.outcome
    if outcome is None:
        return "connection_error"
    if outcome.failed:
        return "timeout" if isinstance(outcome.exception(), httpx.TimeoutException) else "connection_error"
    return observe.outcome_of(outcome.result().status_code)


def _describe(state: tenacity.RetryCallState) -> str:
    outcome = state.outcome
    if outcome is None:
        return "nothing"
    if outcome.failed:
        return type(outcome.exception()).__name__
    return f"HTTP {outcome.result().status_code}"


async def attempt(
    fn: Callable[[], Awaitable[httpx.Response]],
    policy: RetryPolicy,
    *,
    deadline: float,
    failover: Callable[[], bool] | None = None,
) -> httpx.Response:
    """Call ``fn`` until it yields a non-retryable answer, retries run out, or ``deadline`` (loop time) nears.

    Returns the last response, whatever its status (a 429 after the last retry is returned, not raised).
    Raises the last transport error when every attempt failed that way, and ``DeadlineExceeded`` when the
    deadline cut an attempt short. A response discarded for a retry is closed first (it may be a stream).
    ``failover`` says whether the next attempt can go to another deployment at once: then there is no wait
    (the hint was about the deployment that sent it).
    """
    loop = asyncio.get_running_loop()

    def wait(state: tenacity.RetryCallState) -> float:
        if failover is not None and failover():
            return 0.0
        hint = None
        if state.outcome is not None and not state.outcome.failed:
            hint = retry_after_seconds(state.outcome.result().headers)
        chosen = hint if hint is not None else _BACKOFF(state)
        return max(0.0, min(chosen, policy.max_wait))

    def past_deadline(state: tenacity.RetryCallState) -> bool:
        # Sleeping into the deadline only to fail there wastes a slot: give the client the answer now.
        return loop.time() + (state.upcoming_sleep or 0.0) >= deadline

    async def before_sleep(state: tenacity.RetryCallState) -> None:
        observe.note_retry(_reason(state))
        if state.outcome is not None and not state.outcome.failed:
            await state.outcome.result().aclose()
        log.info(
            "Azure call attempt %d got %s; retrying in %.2fs",
            state.attempt_number,
            _describe(state),
            state.upcoming_sleep,
        )

    async def one() -> httpx.Response:
        try:
            async with asyncio.timeout_at(deadline):
                return await fn()
        except TimeoutError:
            raise DeadlineExceeded from None

    # Fast path: the first attempt runs outside tenacity and most calls end there. Tenacity's per-call
    # machinery (retry state, futures, statistics) cost about a fifth of the gateway's CPU per request.
    # A retryable first outcome is replayed as tenacity's first attempt, so waits, stops, logging and
    # attempt numbers are exactly what tenacity alone would have done.
    first: httpx.Response | BaseException
    try:
        first = await one()
    except RETRY_EXCEPTIONS as exc:
        first = exc
    else:
        if first.status_code not in RETRY_STATUSES:
            return first
    replayed = False

    async def replay_first_then_call() -> httpx.Response:
        nonlocal replayed
        if not replayed:
            replayed = True
            if isinstance(first, BaseException):
                raise first
            return first
        return await one()

    retrying = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(policy.max_retries + 1) | _Stop(past_deadline),
        wait=wait,
        retry=_should_retry,
        before_sleep=before_sleep,
        # Out of retries: hand back the last response, or raise the last exception, unwrapped.
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    return await retrying(replay_first_then_call)  # type: ignore[no-any-return]


class _Stop(stop_base):
    def __init__(self, predicate: Callable[[tenacity.RetryCallState], bool]) -> None:
        self._predicate = predicate

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self._predicate(retry_state)
