"""How the gateway proves itself to Azure: the resource's ``api-key``, or an Entra ID bearer token.

``auth = "api_key"`` sends ``api-key: <openai_api_key>`` (a fixed header on the pooled client, no per-call
cost). ``auth = "entra_id"`` sends ``Authorization: Bearer <token>`` for the Cognitive Services scope, with a
token from azure-identity: a ``ClientSecretCredential`` when tenant_id/client_id/client_secret are set,
``DefaultAzureCredential`` otherwise (managed identity, workload identity, ``AZURE_*`` variables, az login).

Why the gateway keeps its own token cache instead of trusting the credential's: the rule that matters here
is "never send an expired token", and it must hold for any credential (tests use a fake one that issues
tokens living seconds). A token is replaced once it has used up half its life or is within five minutes of
expiry, whichever comes first, so a request in flight never carries a token that expires on the way. One
refresh at a time (a lock); if a refresh fails while the old token is still comfortably valid, the old one
is used and the failure logged; an expired token is never used - the request fails with a 502 that says
why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from app.settings import Settings, SettingsError
from app.telemetry.logs import register_secret

__all__ = ["EntraToken", "TokenCredential", "TokenUnavailable", "make_credential"]

log = logging.getLogger("app.upstream.auth")

# azure-core's BearerTokenCredentialPolicy refreshes five minutes before expiry; so do we (or at half-life).
REFRESH_MARGIN = 300.0
# A token closer than this to expiry is treated as expired: it could lapse between our check and Azure's.
EXPIRY_SKEW = 1.0


class TokenCredential(Protocol):
    """What azure-identity's async credentials provide: ``await get_token(scope)`` -> AccessToken."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class TokenUnavailable(Exception):
    """No valid Entra ID token could be had (the credential failed and the cached token is too old)."""


class EntraToken:
    """A cached bearer token for one scope, refreshed before it expires."""

    def __init__(
        self, credential: TokenCredential, scope: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.credential = credential
        self.scope = scope
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0
        """How many tokens were obtained (for tests and the check command)."""

    async def get(self) -> str:
        """A token valid for at least ``EXPIRY_SKEW`` more seconds; refreshed first when due."""
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        async with self._lock:
            now = self._clock()
            if self._token is not None and now < self._refresh_at:
                return self._token  # another request refreshed it while we waited
            try:
                access = await self.credential.get_token(self.scope)
            except Exception as exc:
                if self._token is not None and now < self._expires_on - EXPIRY_SKEW:
                    log.warning(
                        "entra_token_refresh_failed", extra={"error": f"{type(exc).__name__}: {exc}", "stale": True}
                    )
                    return self._token
                raise TokenUnavailable(
                    f"could not get an Entra ID token for {self.scope}: {type(exc).__name__}: {_first_line(exc)}"
                ) from None
            token, expires_on = str(access.token), float(access.expires_on)
            now = self._clock()
            if expires_on - EXPIRY_SKEW <= now:
                raise TokenUnavailable(f"the Entra ID credential returned an expired token for {self.scope}")
            register_secret(token, short_lived=True)  # never in a log line, whatever logs it
            self._token, self._expires_on = token, expires_on
            lifetime = expires_on - now
            self._refresh_at = expires_on - min(REFRESH_MARGIN, lifetime / 2)
            self.refreshes += 1
            log.debug("entra_token_refreshed", extra={"expires_in": round(lifetime, 3)})
            return token

    async def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.get()}"}

    async def aclose(self) -> None:
        close = getattr(self.credential, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


def make_credential(settings: Settings) -> TokenCredential:
    """The azure-identity credential for ``auth = "entra_id"`` (azure-identity is the optional extra ``entra``)."""
    try:
        from azure.identity.aio import ClientSecretCredential, DefaultAzureCredential
    except ImportError:
        raise SettingsError(
            'auth = "entra_id" needs the azure-identity package: pip install "azure-openai-gateway[entra]" '
            '(or set auth = "api_key" and openai_api_key)'
        ) from None
    if settings.client_secret is not None:
        assert settings.tenant_id and settings.client_id  # load_settings checked this
        return ClientSecretCredential(  # type: ignore[no-any-return]
            settings.tenant_id, settings.client_id, settings.client_secret.get_secret_value()
        )
    if settings.client_id:
        # A user-assigned managed identity (or workload identity) picked by its client id.
        return DefaultAzureCredential(managed_identity_client_id=settings.client_id)  # type: ignore[no-any-return]
    return DefaultAzureCredential()  # type: ignore[no-any-return]
