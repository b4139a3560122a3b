"""Litestar's exception handlers: every error a client sees, in OpenAI's envelope (`app.wire.errors`).

Nothing else reaches the client: an unexpected exception becomes a 500 without internals, its trace logged.
"""

from __future__ import annotations

import logging

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from app.telemetry import observe
from app.wire.errors import GatewayError, from_validation_error, invalid_request, too_large

log = logging.getLogger("app.api.errors")


def to_response(error: GatewayError) -> Response[bytes]:
    # The request's one log line says what went wrong (a warning for a 5xx): no second line for it.
    observe.note_error(error.code or error.type, error.message)
    return Response(
        content=error.body(), status_code=error.status, media_type="application/json", headers=error.headers
    )


def handle_gateway_error(_: Request, exc: GatewayError) -> Response[bytes]:
    return to_response(exc)


def handle_validation_error(_: Request, exc: msgspec.ValidationError) -> Response[bytes]:
    return to_response(from_validation_error(exc))


def handle_http_exception(request: Request, exc: HTTPException) -> Response[bytes]:
    """Litestar's own errors (no such route, wrong method, body too large, bad JSON) in OpenAI's envelope."""
    status = exc.status_code
    if status == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    elif status == 413:
        return to_response(too_large("The request body is too large."))
    elif status == 400 and request.headers.get("content-length", "0") == "0" and request.method == "POST":
        # Litestar's "Validation failed for POST /v1/..." for a missing body says nothing useful.
        error = invalid_request("The request body is empty: send a JSON object.", code="invalid_json")
        return to_response(error)
    else:
        message = exc.detail or "Invalid request."
    error = GatewayError(status, message, headers=exc.headers or None)
    return to_response(error)


def handle_recursion_error(_: Request, exc: RecursionError) -> Response[bytes]:
    """A body nested deeper than the decoder (or translator) can recurse: the client's input, not our bug."""
    error = invalid_request("The request body is nested too deeply.", code="invalid_json")
    return to_response(error)


def handle_unexpected(request: Request, exc: Exception) -> Response[bytes]:
    """Last resort: log the trace for operators, tell the client only that it was our fault."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return to_response(GatewayError(500, "The gateway failed to process the request.", code="internal_error"))


EXCEPTION_HANDLERS = {
    GatewayError: handle_gateway_error,
    msgspec.ValidationError: handle_validation_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion_error,
    Exception: handle_unexpected,
}
