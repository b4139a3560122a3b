"""Azure's failures → what the client sees, in OpenAI's envelope.

The client must learn exactly what went wrong without being blamed for the gateway's problems: a 401
from Azure means the gateway's own credentials are wrong (502, not 401); a missing deployment is a
gateway misconfiguration (502 naming it); a 400 is the client's request, passed on with Azure's message
and `param`; throttling stays a 429 with Azure's hints.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from app.telemetry import observe
from app.upstream import GatewayBusy, UpstreamResponse, UpstreamStream, UpstreamUnavailable
from app.upstream.retry import retry_after_seconds
from app.wire.errors import GatewayError, error_object, too_large

# Azure's words for an api-version it does not serve (its API gateway answers this before any model runs).
_API_VERSION_REFUSED = re.compile(r"api[ -]?version (is )?not supported|unsupported api[ -]?version", re.IGNORECASE)

# Azure's headers worth passing on with a 429 so clients can pace themselves.
_RATE_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")


def _azure_error(body: bytes) -> dict[str, Any]:
    try:
        return error_object(body) or {}
    except msgspec.DecodeError:
        return {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def from_upstream_status(
    reply: UpstreamResponse | UpstreamStream,
    *,
    deployment: str,
    endpoint: str,
    auth: str = "api_key",
    api_version: str | None = None,
) -> GatewayError:
    """The GatewayError for a non-2xx reply from Azure."""
    error = _azure_error(reply.body)
    message = _text(error.get("message")) or f"Azure OpenAI answered HTTP {reply.status}."
    code = _text(error.get("code"))
    status = reply.status
    if status == 401 or status == 403:
        fix = (
            "Check that the gateway's Entra ID identity has the 'Cognitive Services OpenAI User' role on"
            if auth == "entra_id"
            else "Check the gateway's openai_api_key (GATEWAY_OPENAI_API_KEY) for"
        )
        return GatewayError(
            502,
            f"Azure OpenAI rejected the gateway's credentials (HTTP {status}). {fix} {endpoint}.",
            code="upstream_auth_failed",
        )
    if status == 404:
        if code == "DeploymentNotFound":
            text = (
                f"Azure OpenAI has no deployment '{deployment}' at {endpoint}. Set openai_model "
                "(GATEWAY_OPENAI_MODEL) to a deployment name from the Azure portal, not a model name."
            )
        else:
            text = (
                f"Azure OpenAI answered 404 at {endpoint}: {message} "
                "Check openai_base_url and the api-version."
            )
        return GatewayError(502, text, code="upstream_not_found")
    if status == 429:
        headers = {name: reply.headers[name] for name in _RATE_HEADERS if name in reply.headers}
        headers.update({k: v for k, v in reply.headers.items() if k.lower().startswith("x-ratelimit-")})
        # Always a Retry-After in whole seconds (what most clients read), rounded up so they do not come
        # back early; Azure's own value wins when it sent one in seconds.
        wait = retry_after_seconds(reply.headers)
        if "retry-after" not in headers or wait is None:
            headers["retry-after"] = str(max(1, math.ceil(wait or 1)))
        return GatewayError(429, message, code=code or "rate_limit_exceeded", headers=headers)
    if status == 400 and _API_VERSION_REFUSED.search(message):
        # Azure refuses the api-version the gateway is configured with: no client request can fix that.
        return GatewayError(
            502,
            f"Azure OpenAI at {endpoint} does not support api-version {api_version!r} ({message}). Set "
            'default_query."api-version" (GATEWAY_API_VERSION) to a version the resource supports, e.g. '
            "2024-10-21.",
            code="upstream_api_version_unsupported",
        )
    if 400 <= status < 500:
        param = _text(error.get("param"))
        inner = error.get("innererror") or error.get("inner_error")
        policy = isinstance(inner, dict) and inner.get("code") == "ResponsibleAIPolicyViolation"
        if code == "content_filter" or policy:
            return GatewayError(400, message, param=param, code="content_filter", extra=_filter_details(inner))
        if status == 413:
            return too_large(message, param=param)  # the gateway's own 413 code, not Azure's "413"
        return GatewayError(400, message, param=param, code=code)
    tries = f" (after {n} attempts)" if (n := observe.attempts()) > 1 else ""
    return GatewayError(502, f"Azure OpenAI failed with HTTP {status}{tries}: {message}", code="upstream_error")


def _filter_details(inner: Any) -> dict[str, Any]:
    """Azure's content-filter verdicts, passed on in the live service's shape.

    The live service sends ``innererror.content_filter_result``; the published spec says
    ``inner_error.content_filter_results``. Either is read; the client always gets
    ``{"innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {...}}}``, which is
    what Azure-aware clients (and the openai SDK's ``error.body``) already look for.
    """
    if not isinstance(inner, dict):
        return {}
    results = inner.get("content_filter_result")
    if results is None:
        results = inner.get("content_filter_results")
    if not isinstance(results, dict):
        return {}  # nothing to pass on: keep the plain four-member envelope
    code = _text(inner.get("code")) or "ResponsibleAIPolicyViolation"
    return {"innererror": {"code": code, "content_filter_result": results}}


def from_busy(exc: GatewayBusy) -> GatewayError:
    return GatewayError(503, str(exc), code="gateway_busy", headers={"retry-after": str(exc.retry_after)})


def from_unavailable(exc: UpstreamUnavailable) -> GatewayError:
    if exc.timeout:
        return GatewayError(504, f"{exc}.", code="upstream_timeout")
    return GatewayError(502, f"{exc}.", code="upstream_unavailable")


def malformed_reply(what: str) -> GatewayError:
    message = f"Azure OpenAI sent a reply the gateway could not read: {what}."
    return GatewayError(502, message, code="upstream_error")


def mid_stream_failure(exc: UpstreamUnavailable | None) -> GatewayError:
    """What ends a stream that broke after it started: a drop, a time limit (504's code), or an early end."""
    if exc is None:
        return GatewayError(502, "Azure OpenAI closed the stream before it finished.", code="upstream_error")
    if exc.timeout:
        return GatewayError(504, f"{exc}.", code="upstream_timeout")
    return GatewayError(502, f"{exc}.", code="upstream_error")


def malformed_chunk() -> GatewayError:
    return GatewayError(502, "Azure OpenAI sent a stream event the gateway could not read.", code="upstream_error")
