"""What the gateway tells operators: Prometheus metrics and one structured log line per request.

One ``Record`` per unit of work lives in a ContextVar while it runs (``unit_of_work``: an HTTP request,
opened by :class:`Observed`, a pure ASGI wrapper around the app, so 404s and errors are seen too; a
background run or a WebSocket turn opens its own). The code that talks to Azure adds to it - time
spent on Azure, attempts, Azure's ``apim-request-id``, token usage - without every layer passing it along.
When the response headers leave, the latency split is observed and sent to the client as a standard
``Server-Timing: upstream;dur=12.345, gateway;dur=0.210`` header (milliseconds; ``upstream`` = waiting on
Azure, slot wait and retries included; ``gateway`` = everything else: decoding, translating, encoding,
framework; for a stream, up to its first byte); when the response ends, one ``request`` log line is written.
The record is a shared mutable object, not a copy, so time recorded inside a task spawned by the request (a
streaming pump, say) still counts.

Metrics (all prefixed ``gateway_``; Litestar's Prometheus plugin adds requests by route and status and the
total latency). Every label has a small, fixed set of values: route templates, status codes, outcome names,
the configured deployment - never a request id, a user or a raw path.

==========================================  =========  ==========================================
name                                        type       labels
==========================================  =========  ==========================================
gateway_requests_total                      counter    method, path (route template), status_code
gateway_request_duration_seconds            histogram  method, path, status_code (the total)
gateway_upstream_duration_seconds           histogram  route
gateway_overhead_duration_seconds           histogram  route (the gateway's own share)
gateway_upstream_attempts_total             counter    outcome, deployment (more: telemetry/fleet.py)
gateway_upstream_retries_total              counter    reason
gateway_upstream_in_flight                  gauge
gateway_upstream_waiting                    gauge      (requests queued for a concurrency slot)
gateway_upstream_slot_wait_seconds          histogram
gateway_tokens_total                        counter    deployment, kind (input/output/cached/reasoning)
gateway_open_streams                        gauge      route
==========================================  =========  ==========================================
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

from prometheus_client import Counter, Gauge, Histogram

from app.models import generated as m
from app.telemetry.access import CLIENT_DISCONNECTED
from app.telemetry.access import write_line as _log

__all__ = [
    "CLIENT_DISCONNECTED",
    "Observed",
    "Record",
    "attempts",
    "count_usage",
    "current",
    "note_attempt",
    "note_omitted",
    "note_retry",
    "open_stream",
    "unit_of_work",
    "upstream_time",
]

# LLM calls take from a few hundred milliseconds to many minutes.
LATENCY_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, float("inf"))
# The gateway's own work is measured in microseconds to milliseconds.
OVERHEAD_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, float("inf"),
)  # fmt: skip

# The only values the `route` label takes; anything else is "other".
ROUTES: Final = frozenset({"/v1/responses", "/v1/chat/completions"})

UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_duration_seconds",
    "Time a request spent waiting on Azure OpenAI (slot wait, attempts and backoff; streams: to the first byte).",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
OVERHEAD_SECONDS = Histogram(
    "gateway_overhead_duration_seconds",
    "The gateway's own share of a request's latency: total minus upstream (as in Server-Timing).",
    ["route"],
    buckets=OVERHEAD_BUCKETS,
)
ATTEMPTS = Counter(
    "gateway_upstream_attempts",
    "Calls to Azure OpenAI, retries and failovers included, by outcome and deployment.",
    ["outcome", "deployment"],
)
RETRIES = Counter("gateway_upstream_retries", "Calls to Azure OpenAI that were retried, by the reason.", ["reason"])
IN_FLIGHT = Gauge(
    "gateway_upstream_in_flight", "Azure OpenAI calls holding a concurrency slot now.", multiprocess_mode="livesum"
)
WAITING = Gauge(
    "gateway_upstream_waiting", "Requests waiting for a free concurrency slot now.", multiprocess_mode="livesum"
)
SLOT_WAIT = Histogram(
    "gateway_upstream_slot_wait_seconds",
    "Time requests waited for one of the num_concurrent_requests slots.",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf")),
)
TOKENS = Counter("gateway_tokens", "Tokens Azure OpenAI reported, by deployment and kind.", ["deployment", "kind"])
OPEN_STREAMS = Gauge(
    "gateway_open_streams", "Streamed responses being sent now.", ["route"], multiprocess_mode="livesum"
)


@dataclass(slots=True)
class Record:
    """What one request did; filled in as it goes, written out once at the end."""

    method: str
    path: str
    route: str
    started: float
    request_id: str
    status: int | None = None
    upstream: float = 0.0
    slot_wait: float = 0.0
    attempts: int = 0
    apim_request_ids: list[str] = field(default_factory=list)
    deployment: str | None = None
    """The deployment the last attempt went to (the ``x-gateway-deployment`` header)."""
    attempted: list[str] = field(default_factory=list)
    """The deployment of each attempt, in order."""
    tokens: dict[str, int] = field(default_factory=dict)
    stream: bool = False
    error_code: str | None = None
    error_message: str | None = None
    headers_after: float | None = None
    # What the gateway left out of the client's request (e.g. "tools[9] web_search"): header and log line.
    omitted: list[str] = field(default_factory=list)


_CURRENT: ContextVar[Record | None] = ContextVar("gateway_record", default=None)


def current() -> Record | None:
    """The record of the request being served (None outside one, e.g. in ``python -m app check``)."""
    return _CURRENT.get()


def route_of(path: str) -> str:
    return path if path in ROUTES else "other"


def add_upstream(seconds: float) -> None:
    """Count ``seconds`` as time the current request spent on Azure."""
    if (record := _CURRENT.get()) is not None:
        record.upstream += seconds


class upstream_time:  # lower-case: used like a function, `with upstream_time(): ...`
    """``with upstream_time(): await azure_call()`` counts the block as time spent on Azure.

    A class, not ``@contextmanager``: it runs on every request, and a generator-based one costs several
    times more.
    """

    __slots__ = ("_start",)

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        add_upstream(time.perf_counter() - self._start)


@contextmanager
def slot_wait() -> Iterator[None]:
    """Around waiting for a concurrency slot: the waiting gauge, the wait histogram."""
    start = time.perf_counter()
    WAITING.inc()
    try:
        yield
    finally:
        WAITING.dec()
        waited = time.perf_counter() - start
        SLOT_WAIT.observe(waited)
        if (record := _CURRENT.get()) is not None:
            record.slot_wait += waited


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    if status == 429:
        return "throttled"
    return "server_error" if status >= 500 else "client_error"


def note_attempt(outcome: str, apim_request_id: str | None = None, deployment: str = "unknown") -> None:
    """One call to Azure finished: ``outcome`` is ``outcome_of(status)``, ``timeout`` or ``connection_error``;
    ``deployment`` is the pool's name for where it went."""
    ATTEMPTS.labels(outcome, deployment).inc()
    if (record := _CURRENT.get()) is not None:
        record.attempts += 1
        record.attempted.append(deployment)
        if apim_request_id:
            record.apim_request_ids.append(apim_request_id)


def attempts() -> int:
    """Calls to Azure so far for the current request (for error messages: "after 3 attempts")."""
    return record.attempts if (record := _CURRENT.get()) is not None else 0


def note_retry(reason: str) -> None:
    """A failed attempt is about to be retried; ``reason`` is its outcome."""
    RETRIES.labels(reason).inc()


def note_deployment(deployment: str) -> None:
    if (record := _CURRENT.get()) is not None:
        record.deployment = deployment


def note_omitted(what: list[str]) -> None:
    """Parts of the client's request the gateway did not send (``x-gateway-omitted`` and the log line)."""
    if what and (record := _CURRENT.get()) is not None:
        record.omitted.extend(what)


def note_error(code: str | None, message: str) -> None:
    if (record := _CURRENT.get()) is not None:
        record.error_code = code
        record.error_message = message


def count_usage(usage: Any, deployment: str | None = None) -> None:
    """Azure's token usage for one answer: the counters and the request's log line.

    ``deployment`` defaults to the one the current request was sent to (``note_deployment``).
    """
    if not isinstance(usage, m.CompletionUsage):
        return
    record = _CURRENT.get()
    if deployment is None:
        deployment = record.deployment if record is not None and record.deployment else "unknown"
    prompt = usage.prompt_tokens_details
    completion = usage.completion_tokens_details
    cached = prompt.cached_tokens if isinstance(prompt, m.PromptTokensDetails) else None
    reasoning = completion.reasoning_tokens if isinstance(completion, m.CompletionTokensDetails) else None
    counts = {
        "input": usage.prompt_tokens,
        "output": usage.completion_tokens,
        "cached": cached if isinstance(cached, int) else 0,
        "reasoning": reasoning if isinstance(reasoning, int) else 0,
    }
    for kind, value in counts.items():
        if value:
            TOKENS.labels(deployment, kind).inc(value)
    if record is not None:
        record.deployment = deployment
        for kind, value in counts.items():
            record.tokens[kind] = record.tokens.get(kind, 0) + value


@contextmanager
def open_stream() -> Iterator[None]:
    """Around sending a streamed response: the open-streams gauge."""
    record = _CURRENT.get()
    route = record.route if record is not None else "other"
    if record is not None:
        record.stream = True
    gauge = OPEN_STREAMS.labels(route)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


class unit_of_work:  # lower-case: used like a function, `with unit_of_work(...) as record: ...`
    """One unit of work - an HTTP request now; a background run or a WebSocket turn later - and its record.

    Inside the block, ``current()`` is the record that the Azure call, usage counting and errors add to; when
    the block ends, one ``request`` log line is written for it (``log=False`` asks for none unless it failed
    with a 5xx or never got a status). Not tied to an ASGI scope, so any transport can open one.
    A class, not ``@contextmanager``: it runs on every request, and a generator-based one costs more.
    """

    __slots__ = ("_log_all", "_token", "record")

    def __init__(self, route: str, *, method: str = "", request_id: str | None = None, log: bool = True) -> None:
        self.record = Record(
            method=method,
            path=route,
            route=route_of(route),
            started=time.perf_counter(),
            request_id=request_id or new_request_id(),
        )
        self._log_all = log

    def __enter__(self) -> Record:
        self._token = _CURRENT.set(self.record)
        return self.record

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)
        record = self.record
        if self._log_all or record.status is None or record.status >= 500:
            _log(record)


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


REQUEST_ID_HEADER: Final = b"x-request-id"
OMITTED_HEADER: Final = b"x-gateway-omitted"
# Which deployment of the pool answered (the last attempt's): what an operator greps the log for.
DEPLOYMENT_HEADER: Final = b"x-gateway-deployment"
# A client's id is echoed into headers and logs: accept only a plain token, so nothing can be injected.
_VALID_ID: Final = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_of(scope: dict[str, Any]) -> str:
    """The client's ``x-request-id`` when it is a sane token, else a new one."""
    for name, value in scope.get("headers") or ():
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1").strip()
            if _VALID_ID.match(text):
                return text
            break
    return new_request_id()


class Observed:
    """Pure ASGI around the whole app: the per-request record, the ``x-request-id`` and ``Server-Timing``
    headers, the latency split, the access log line.

    Around Litestar's ASGI handler rather than as Litestar middleware, because middleware only wraps matched
    routes: a 404 or 405 from the router must carry the headers too.
    """

    __slots__ = ("app", "log_all")

    def __init__(self, app: Any, *, log_all: bool = True) -> None:
        self.app = app
        self.log_all = log_all
        """``access_log``: a line for every request; otherwise only for those that failed with a 5xx."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unit = unit_of_work(
            scope.get("path", ""), method=scope.get("method", ""), request_id=request_id_of(scope), log=self.log_all
        )
        record = unit.record
        id_header = (REQUEST_ID_HEADER, record.request_id.encode())

        async def observed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                record.headers_after = time.perf_counter() - record.started
                own = max(record.headers_after - record.upstream, 0.0)
                if record.route != "other":
                    UPSTREAM_SECONDS.labels(record.route).observe(record.upstream)
                    OVERHEAD_SECONDS.labels(record.route).observe(own)
                timing = f"upstream;dur={record.upstream * 1000:.3f}, gateway;dur={own * 1000:.3f}"
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != REQUEST_ID_HEADER]
                headers += [id_header, (b"server-timing", timing.encode())]
                if record.deployment:
                    headers.append((DEPLOYMENT_HEADER, record.deployment.encode()))
                if record.omitted:
                    # Client-chosen names are plain tokens, but the header must stay one safe line.
                    value = ", ".join(record.omitted).encode("ascii", "replace")[:4000]
                    headers.append((OMITTED_HEADER, value.replace(b"\r", b" ").replace(b"\n", b" ")))
                message["headers"] = headers
            await send(message)

        with unit:
            await self.app(scope, receive, observed_send)
