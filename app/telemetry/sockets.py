"""WebSocket mode, measured like HTTP: one unit of work (record, log line, latency split) per turn.

An HTTP request's record is opened by ``observe.Observed``; a WebSocket connection carries many responses,
so each ``response.create`` turn opens its own (``turn``), with the route ``/v1/responses`` and the method
``WS``: its log line, its Azure time, token usage and error are the turn's, exactly as for a POST. The
latency split counts up to the turn's first event (as ``Server-Timing`` does up to a stream's first byte).

==========================================  =========  ==========================================
name                                        type       labels
==========================================  =========  ==========================================
gateway_websocket_connections               gauge      (open WebSocket connections)
gateway_websocket_turns_total               counter    status_code (200 = the response was streamed)
==========================================  =========  ==========================================
plus, per turn, ``gateway_upstream_duration_seconds`` and ``gateway_overhead_duration_seconds`` on the
route ``/v1/responses`` and ``gateway_open_streams`` while it streams, as for HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge

from app.telemetry import observe

CONNECTIONS = Gauge(
    "gateway_websocket_connections", "WebSocket connections open now.", multiprocess_mode="livesum"
)
TURNS = Counter("gateway_websocket_turns", "Responses requested over WebSocket, by status.", ["status_code"])

METHOD = "WS"


@contextmanager
def connection() -> Iterator[None]:
    CONNECTIONS.inc()
    try:
        yield
    finally:
        CONNECTIONS.dec()


@contextmanager
def turn(route: str, *, log: bool = True) -> Iterator[observe.Record]:
    """One ``response.create`` turn: its record is ``observe.current()`` inside the block."""
    with observe.unit_of_work(route, method=METHOD, log=log) as record, observe.open_stream():
        try:
            yield record
        finally:
            if record.status is None:
                record.status = 200 if record.headers_after is not None else 499  # 499: the client left
            if record.route != "other":
                first = record.headers_after if record.headers_after is not None else 0.0
                observe.UPSTREAM_SECONDS.labels(record.route).observe(record.upstream)
                observe.OVERHEAD_SECONDS.labels(record.route).observe(max(first - record.upstream, 0.0))
            TURNS.labels(str(record.status)).inc()


def first_event(record: observe.Record) -> None:
    """The turn's first event is going out: the end of the latency split."""
    if record.headers_after is None:
        record.headers_after = time.perf_counter() - record.started
