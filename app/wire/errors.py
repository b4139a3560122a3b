"""OpenAI-style errors: one exception type, one envelope, one mapping from every failure to a status.

Every error a client sees is `{"error": {"message", "type", "param", "code"}}` with a meaningful status.
Code anywhere in the gateway raises `GatewayError` (or lets msgspec raise `ValidationError` while decoding
a request); the handlers registered by the app factory turn those, and Litestar's own HTTP errors, into
the envelope. Nothing else reaches the client: an unexpected exception becomes a 500 without internals.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from app.models.generated import Error, ErrorResponse

log = logging.getLogger("app.wire.errors")

_ENCODER = msgspec.json.Encoder()

# OpenAI's `type` for each status class, as the official API reports them.
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_type_for(status: int) -> str:
    if status in _TYPE_BY_STATUS:
        return _TYPE_BY_STATUS[status]
    return "server_error" if status >= 500 else "invalid_request_error"


class GatewayError(Exception):
    """An error to report to the client in OpenAI's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type or error_type_for(status)
        self.headers = dict(headers or {})
        # More members of the error object, e.g. Azure's content-filter results (`innererror`).
        self.extra = dict(extra or {})

    def envelope(self) -> ErrorResponse:
        return ErrorResponse(error=Error(message=self.message, type=self.type, param=self.param, code=self.code))

    def to_response(self) -> Response[bytes]:
        from app.telemetry import observe  # late: observe imports the generated models, as this module does

        # The request's one log line says what went wrong (a warning for a 5xx): no second line for it.
        observe.note_error(self.code or self.type, self.message)
        payload: Any = self.envelope()
        if self.extra:
            payload = {"error": {**msgspec.to_builtins(payload.error), **self.extra}}
        return Response(
            content=_ENCODER.encode(payload),
            status_code=self.status,
            media_type="application/json",
            headers=self.headers,
        )


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    """A 400 about the client's request."""
    return GatewayError(400, message, param=param, code=code)


# msgspec's ValidationError messages end in " - at `$.a.b[0]`" when the problem is below the root.
_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def from_validation_error(exc: msgspec.ValidationError) -> GatewayError:
    """Turn msgspec's message into OpenAI's wording, with `param` as the JSON path of the bad value.

    msgspec reports the path as `$.input[0].content`; OpenAI's `param` is the same path without `$.`.
    """
    match = _AT.match(str(exc))
    what = match.group("what") if match else str(exc)
    path = (match.group("path") or "").lstrip(".") if match else ""
    if unknown := _UNKNOWN.match(what):
        param = _join(path, unknown.group("name"))
        return invalid_request(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")
    if missing := _MISSING.match(what):
        param = _join(path, missing.group("name"))
        return invalid_request(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if what.startswith("Expected"):
        return invalid_request(
            f"Invalid type for '{path or 'body'}': {what[0].lower()}{what[1:]}.",
            param=path or None,
            code="invalid_type",
        )
    return invalid_request(f"Invalid value for '{path or 'body'}': {what}.", param=path or None, code="invalid_value")


def handle_gateway_error(_: Request, exc: GatewayError) -> Response[bytes]:
    return exc.to_response()


def handle_validation_error(_: Request, exc: msgspec.ValidationError) -> Response[bytes]:
    return from_validation_error(exc).to_response()


def handle_http_exception(request: Request, exc: HTTPException) -> Response[bytes]:
    """Litestar's own errors (no such route, wrong method, body too large, bad JSON) in OpenAI's envelope."""
    status = exc.status_code
    if status == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
    elif status == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    elif status == 413:
        message = "The request body is too large."
    elif status == 400 and request.headers.get("content-length", "0") == "0" and request.method == "POST":
        # Litestar's "Validation failed for POST /v1/..." for a missing body says nothing useful.
        error = invalid_request("The request body is empty: send a JSON object.", code="invalid_json")
        return error.to_response()
    else:
        message = exc.detail or "Invalid request."
    error = GatewayError(status, message, headers=exc.headers or None)
    return error.to_response()


def handle_recursion_error(_: Request, exc: RecursionError) -> Response[bytes]:
    """A body nested deeper than the decoder (or translator) can recurse: the client's input, not our bug."""
    error = invalid_request("The request body is nested too deeply.", code="invalid_json")
    return error.to_response()


def handle_unexpected(request: Request, exc: Exception) -> Response[bytes]:
    """Last resort: log the trace for operators, tell the client only that it was our fault."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return GatewayError(500, "The gateway failed to process the request.", code="internal_error").to_response()


EXCEPTION_HANDLERS = {
    GatewayError: handle_gateway_error,
    msgspec.ValidationError: handle_validation_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion_error,
    Exception: handle_unexpected,
}
