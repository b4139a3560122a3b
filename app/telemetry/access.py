"""The access log: one structured ``request`` line per unit of work, from its :class:`~observe.Record`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

import structlog

if TYPE_CHECKING:
    from app.telemetry.observe import Record

__all__ = ["CLIENT_DISCONNECTED", "QUIET_PATHS", "access_log", "write_line"]

CLIENT_DISCONNECTED: Final = "client_disconnected"
"""The ``error_code`` of a request whose client hung up before the response was complete."""
# Probes and scrapes: counted by Litestar's plugin, but not worth a log line each at info level.
QUIET_PATHS: Final = frozenset({"/healthz", "/readyz", "/metrics"})

access_log = structlog.get_logger("app.access")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def write_line(record: Record) -> None:
    """The one ``request`` line of a finished unit of work (warning for a 5xx, debug for a quiet probe)."""
    total = time.perf_counter() - record.started
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "method": record.method,
        "route": record.route if record.route != "other" else record.path[:200],
        "status": record.status,
        "duration_ms": _ms(total),
        "upstream_ms": _ms(record.upstream),
        "gateway_ms": _ms(None if record.headers_after is None else max(record.headers_after - record.upstream, 0)),
        "upstream_attempts": record.attempts,
        "apim_request_id": record.apim_request_ids[-1] if record.apim_request_ids else None,
    }
    if len(record.apim_request_ids) > 1:
        fields["apim_request_ids"] = record.apim_request_ids
    if record.slot_wait:
        fields["slot_wait_ms"] = _ms(record.slot_wait)
    if record.stream:
        fields["stream"] = True
    if record.deployment:
        fields["deployment"] = record.deployment
    if len(set(record.attempted)) > 1:
        fields["deployments"] = record.attempted  # a failover: where each attempt went
    if record.tokens:
        fields.update({f"{kind}_tokens": value for kind, value in record.tokens.items()})
    if record.error_code == CLIENT_DISCONNECTED and record.headers_after is None:
        fields["status"] = 499  # nginx's "client closed request": nothing was sent (a stream keeps its 200)
    if record.omitted:
        fields["omitted"] = record.omitted
    if record.error_code:
        fields["error_code"] = record.error_code
    if record.error_message:
        fields["error"] = record.error_message[:1000]  # bounded: it may quote Azure's reply
    if record.path in QUIET_PATHS and (record.status or 500) < 400:
        access_log.debug("request", **fields)
    elif record.status is not None and record.status >= 500:
        access_log.warning("request", **fields)
    else:
        access_log.info("request", **fields)
