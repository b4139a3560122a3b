"""Inbound authentication: the keys clients must present on ``/v1/*``.

Without it, anyone who can reach the port spends the gateway's Azure quota. Keys come from
``gateway_api_keys``; a client sends one as ``Authorization: Bearer <key>`` (what the openai SDK sends) or
``api-key: <key>`` (what Azure clients send). Every configured key is compared in constant time, all of
them every time, so timing reveals neither a key nor which one matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from app.settings import Settings
from app.wire.errors import GatewayError

__all__ = ["api_key_guard", "key_check", "tenant_of", "tenant_provider"]

PROTECTED_PREFIX = "/v1/"


def _presented(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("api-key")
    return key.strip() if key and key.strip() else None


def key_check(settings: Settings) -> Callable[[Mapping[str, str]], None] | None:
    """A check of a request's headers against ``settings.gateway_api_keys`` (raises the 401), or None when no
    keys are configured. Run by the inbound guard before a body is read, and by the Litestar guard for every
    other ``/v1/*`` request."""
    keys = [key.get_secret_value().encode() for key in settings.gateway_api_keys]
    if not keys:
        return None

    def check(headers: Mapping[str, str]) -> None:
        presented = _presented(headers)
        if presented is None:
            raise GatewayError(
                401,
                "You didn't provide an API key. Send the gateway key as 'Authorization: Bearer <key>' "
                "(or an 'api-key' header).",
                code="missing_api_key",
                headers={"www-authenticate": "Bearer"},
            )
        candidate = presented.encode("utf-8", "surrogateescape")
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            # Never echo the presented key: it may be a real key for something else.
            raise GatewayError(
                401,
                "Incorrect API key provided for this gateway.",
                code="invalid_api_key",
                headers={"www-authenticate": "Bearer"},
            )

    return check


def api_key_guard(settings: Settings) -> Guard | None:
    """A Litestar guard for ``settings.gateway_api_keys``, or None when no keys are configured."""
    check = key_check(settings)
    if check is None:
        return None

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope["path"].startswith(PROTECTED_PREFIX):
            check(connection.headers)

    return guard


def tenant_of(settings: Settings) -> Callable[[Mapping[str, str]], str]:
    """Whose stored responses and conversations a request (or a WebSocket connection) sees, from its headers.

    With inbound keys configured, a SHA-256 of the key the guard accepted (the store never holds a key);
    without them everyone is the one tenant ``""``.
    """
    if not settings.gateway_api_keys:
        return lambda _headers: ""

    def tenant(headers: Mapping[str, str]) -> str:
        presented = _presented(headers) or ""
        return hashlib.sha256(presented.encode("utf-8", "surrogateescape")).hexdigest()

    return tenant


def tenant_provider(settings: Settings) -> Callable[..., str]:
    """The ``tenant`` dependency of the HTTP routes (``tenant_of`` the request's headers)."""
    of = tenant_of(settings)

    def tenant(request: Request[Any, Any, Any]) -> str:
        return of(request.headers)

    return tenant
