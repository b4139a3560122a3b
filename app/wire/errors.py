"""OpenAI-style errors: one exception type, one envelope, one mapping from every failure to a status.

Every error a client sees is `{"error": {"message", "type", "param", "code"}}` with a meaningful status.
Code anywhere in the gateway raises `GatewayError` (or lets msgspec raise `ValidationError` while decoding
a request). Nothing here knows HTTP frameworks: `app.api.errors` turns these into Litestar responses, and a
WebSocket route would send the same envelope as an `error` event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from app.models.generated import Error, ErrorResponse

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

    def body(self) -> bytes:
        """The JSON error object, with any extra members (e.g. Azure's ``innererror``), as bytes."""
        payload: Any = self.envelope()
        if self.extra:
            payload = {"error": {**msgspec.to_builtins(payload.error), **self.extra}}
        return _ENCODER.encode(payload)


def error_object(body: bytes) -> dict[str, Any] | None:
    """The ``error`` member of an OpenAI-style envelope in ``body`` (Azure sends the same shape), else None.

    Raises ``msgspec.DecodeError`` when ``body`` is not JSON, for callers that report that differently.
    """
    payload = msgspec.json.decode(body)
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else None


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    """A 400 about the client's request."""
    return GatewayError(400, message, param=param, code=code)


REQUEST_TOO_LARGE = "request_too_large"
"""The code of every 413, the gateway's own (``max_body_bytes``) and Azure's alike."""


def too_large(message: str, param: str | None = None) -> GatewayError:
    """A 413: the request is larger than the gateway, or Azure, takes."""
    return GatewayError(413, message, param=param, code=REQUEST_TOO_LARGE)


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
    if _RANGE.match(what):
        # The right type, out of the spec's bounds (`temperature: 5`, `messages: []`, `max_output_tokens: -5`).
        expected = _TYPE_WORD.sub(lambda found: _TYPE_WORDS[found.group(1)], what)
        return invalid_request(
            f"Invalid value for '{path or 'body'}': {expected[0].lower()}{expected[1:]}.",
            param=path or None,
            code="invalid_value",
        )
    if what.startswith("Expected"):
        return invalid_request(
            f"Invalid type for '{path or 'body'}': {what[0].lower()}{what[1:]}.",
            param=path or None,
            code="invalid_type",
        )
    return invalid_request(f"Invalid value for '{path or 'body'}': {what}.", param=path or None, code="invalid_value")


# msgspec's constraint messages: "Expected `float` <= 2.0", "Expected `array` of length >= 1", "Expected `str`
# matching regex ...", "Expected `int` that is a multiple of 2". A wrong type reads "Expected `int`, got `str`".
_RANGE = re.compile(r"^Expected `[^`]+` (?:[<>]=?|of length|matching|that is)")
_TYPE_WORD = re.compile(r"`(int|float|str|array|object)`")
_TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a string", "array": "an array", "object": "an object"}


