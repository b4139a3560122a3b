"""Checks that need more than one value's type: the endpoint's shape, the api-version's form, Entra ID's trio,
and whether a host may be served without client keys.

Each check returns the problems it found (lines for ``SettingsError``) rather than raising, so that a user
with several mistakes learns all of them from one run.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from app.settings.fields import API_VERSION, invalid, where
from app.settings.model import API_VERSION_KEY, Settings, SettingsError

__all__ = ["check_exposure", "check_values"]

# The forms Azure uses for api-version: a date, optionally "-preview", or one of the floating aliases (the v1
# surface's own "v1", and "preview"/"latest" there). Anything else ("banana", "2024-10", "v2") is a typo that
# Azure would answer with "API version not supported" on every request, so it is refused at startup. A
# well-formed but unknown date still starts: Azure adds versions faster than this list could follow, and
# Azure's refusal is then reported as the gateway's misconfiguration (app.service.azure_errors).
_API_VERSION_FORM: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(-preview)?$")
_API_VERSION_ALIASES: Final = ("v1", "preview", "latest")

# A deployment's own URL, as the portal shows it: .../openai/deployments/NAME[/chat/completions][?api-version=]
_DEPLOYMENT_URL: Final = re.compile(r"^(?P<root>.*?)/openai/deployments/(?P<name>[^/]+)(?:/.*)?$", re.IGNORECASE)


def check_api_version(value: str | None) -> list[str]:
    if value is None or _API_VERSION_FORM.match(value) or value in _API_VERSION_ALIASES:
        return []
    reason = (
        "a version Azure knows: a date such as 2024-10-21 or 2025-04-01-preview, or "
        + ", ".join(_API_VERSION_ALIASES)
    )
    return [invalid(API_VERSION, value, reason)]


def check_base_url(url: str) -> list[str]:
    """The endpoint must be the resource's root (a path is allowed, e.g. behind a proxy), not a full call URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [invalid("openai_base_url", url)]
    deployment = _DEPLOYMENT_URL.match(parts.path)
    if deployment:
        # The most common paste: the deployment's target URI from the portal. Say exactly what to set instead.
        root = f"{parts.scheme}://{parts.netloc}{deployment.group('root')}"
        fix = [f'openai_base_url = "{root}"', f'openai_model = "{deployment.group("name")}"']
        versions = parse_qs(parts.query).get(API_VERSION_KEY)
        if versions:
            fix.append(f'default_query."api-version" = "{versions[0]}"')
        return [
            f"openai_base_url is a deployment's full URL ({url}), not the resource endpoint: the gateway adds "
            f"/openai/deployments/<openai_model>/chat/completions and the api-version itself. Set "
            f"{', '.join(fix)} instead ({where('openai_base_url')})"
        ]
    if parts.query or parts.fragment:
        return [invalid("openai_base_url", url, "an http(s) URL without ?query or #fragment")]
    return []


def check_values(values: Mapping[str, Any]) -> list[str]:
    """Problems in already type-checked values (only those that passed their own check are present)."""
    problems: list[str] = []
    if isinstance(url := values.get("openai_base_url"), str):
        problems += check_base_url(url)
    model = values.get("openai_model")
    if isinstance(model, str) and model.strip(".") == "":
        # "." and ".." survive percent-encoding and would be resolved away as path segments (the SDK
        # refuses them too), silently calling a different URL.
        problems.append(invalid("openai_model", model, "a deployment name, not a dot-segment"))
    query = values.get("default_query")
    if isinstance(query, Mapping):
        problems += check_api_version(query.get(API_VERSION_KEY))
    for name in ("rpm", "tpm"):
        if isinstance(value := values.get(name), int) and value < 1:
            problems.append(invalid(name, value))
    redis_url = values.get("redis_url")
    if redis_url is not None:
        parts = urlsplit(redis_url.get_secret_value())
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            problems.append(invalid("redis_url", None))
    if values.get("auth") == "entra_id" and values.get("client_secret") is not None:
        # A client secret only makes sense with the tenant and the app registration it belongs to.
        for name in ("tenant_id", "client_id"):
            if not values.get(name):
                problems.append(f"{name} is not set but client_secret is: {where(name)}")
    return problems


def check_exposure(settings: Settings) -> None:
    """Refuse to serve a non-loopback interface without inbound keys, unless explicitly allowed.

    Anyone who can reach the port spends the Azure key's quota; on loopback that is only this machine.
    """
    if settings.gateway_api_keys or settings.allow_unauthenticated or _is_loopback(settings.host):
        return
    raise SettingsError(
        f"refusing to listen on {settings.host} without client authentication: anyone who can reach the port "
        "could use the gateway's Azure key. Set gateway_api_keys in .secrets.toml or GATEWAY_GATEWAY_API_KEYS "
        "(for example key-one,key-two), or set allow_unauthenticated = true (GATEWAY_ALLOW_UNAUTHENTICATED=true) "
        "if something in front of the gateway already authenticates clients"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
