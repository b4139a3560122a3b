"""``auth = "entra_id"``: a Bearer token for the Cognitive Services scope, refreshed before it expires.

A fake credential issues tokens that live ``LIFETIME`` seconds and registers each with the emulator, which
accepts a token only until it expires (an expired one gets Azure's 401). Traffic through the real gateway for
several lifetimes then proves that tokens are refreshed and that no request ever carried an expired one.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import Any

import httpx
import pytest
from conftest import Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.settings.load import ENTRA_SCOPE, Settings, SettingsError, load_settings
from app.upstream.auth import EntraToken, TokenUnavailable

LIFETIME = 1.5


class FakeAccessToken:
    def __init__(self, token: str, expires_on: float) -> None:
        self.token = token
        self.expires_on = expires_on


class FakeCredential:
    """azure-identity's async credential shape; every token it issues is registered with the emulator."""

    def __init__(
        self, emulator: Emulator | None = None, lifetime: float = LIFETIME, clock: Any = time.time
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []
        self.issued: list[str] = []
        self.fail = False
        self.closed = False
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def get_token(self, *scopes: str, **_: Any) -> FakeAccessToken:
        if self.fail:
            raise RuntimeError("AADSTS700016: application not found")
        with self._lock:
            token = f"fake-entra-token-{next(self._counter)}"
            self.scopes.append(scopes)
            self.issued.append(token)
        expires_on = self.clock() + self.lifetime
        if self.emulator is not None:
            self.emulator.state.accept_token(token, expires_on)
        return FakeAccessToken(token, expires_on)

    async def close(self) -> None:
        self.closed = True


def entra_settings(url: str, **overrides: Any) -> Settings:
    return gateway_settings(url, auth="entra_id", openai_api_key=None, **overrides)


def test_tokens_are_refreshed_with_no_failed_request(emulator: Emulator, clean_emulator: Emulator) -> None:
    credential = FakeCredential(emulator)
    app = create_app(entra_settings(emulator.url), credential=credential)
    statuses: list[int] = []
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        deadline = time.monotonic() + 3 * LIFETIME + 0.5
        while time.monotonic() < deadline:
            statuses.append(http.post("/v1/chat/completions", json=body).status_code)
            statuses.append(http.post("/v1/responses", json={"model": "m", "input": "hi"}).status_code)
            time.sleep(0.05)
    assert set(statuses) == {200}, statuses
    received = clean_emulator.requests()
    assert len(received) == len(statuses) and all(r["status"] == 200 for r in received)
    # Several lifetimes of traffic: several tokens, each asked for with Azure OpenAI's scope only.
    assert len(credential.issued) >= 3, credential.issued
    assert set(credential.scopes) == {(ENTRA_SCOPE,)}
    # No api-key header went out; the emulator never records the Authorization header itself.
    assert all("api-key" not in r["headers"] and "authorization" not in r["headers"] for r in received)
    assert credential.closed  # the app's shutdown closed the credential


def test_an_expired_token_is_rejected_by_the_emulator(emulator: Emulator, clean_emulator: Emulator) -> None:
    """The check above is only meaningful if the emulator really refuses an expired token."""
    emulator.state.accept_token("old-token", time.time() - 1)
    reply = httpx.post(
        f"{emulator.url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
        headers={"authorization": "Bearer old-token"},
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    assert reply.status_code == 401


def test_streams_carry_a_token(emulator: Emulator, clean_emulator: Emulator) -> None:
    credential = FakeCredential(emulator, lifetime=60)
    with running(create_app(entra_settings(emulator.url), credential=credential)) as url, httpx.stream(
        "POST", f"{url}/v1/responses", json={"model": "m", "input": "hi", "stream": True}, timeout=10
    ) as reply:
        text = reply.read().decode()
    assert reply.status_code == 200 and "response.completed" in text
    assert credential.issued == ["fake-entra-token-1"]


def test_a_failing_credential_is_a_clear_502(emulator: Emulator, clean_emulator: Emulator) -> None:
    credential = FakeCredential(emulator)
    credential.fail = True
    with running(create_app(entra_settings(emulator.url), credential=credential)) as url:
        reply = httpx.post(f"{url}/v1/responses", json={"model": "m", "input": "hi"}, timeout=10)
    assert reply.status_code == 502
    message = reply.json()["error"]["message"]
    assert "Entra ID token" in message and ENTRA_SCOPE in message and "AADSTS700016" in message
    assert clean_emulator.requests() == []  # nothing was sent without a token


def test_refresh_before_expiry_and_never_an_expired_token() -> None:
    now = [1000.0]
    credential = FakeCredential(lifetime=3600, clock=lambda: now[0])

    async def scenario() -> None:
        cache = EntraToken(credential, ENTRA_SCOPE, clock=lambda: now[0])
        first = await cache.get()
        now[0] += 3600 - 301  # five minutes and a second before expiry: still the same token
        assert await cache.get() == first
        now[0] += 2  # inside the five-minute margin: refreshed
        second = await cache.get()
        assert second != first
        now[0] += 100  # well inside the new token's life: reused
        assert await cache.get() == second
        # A failing refresh keeps a still-valid token, but never an expired one.
        credential.fail = True
        now[0] += 3600 - 100 - 200
        assert await cache.get() == second
        now[0] += 200
        with pytest.raises(TokenUnavailable, match="AADSTS700016"):
            await cache.get()
        credential.fail = False
        assert await cache.get() not in (first, second)

    asyncio.run(scenario())


def test_short_lived_tokens_refresh_at_half_life() -> None:
    now = [0.0]
    credential = FakeCredential(lifetime=10, clock=lambda: now[0])

    async def scenario() -> None:
        cache = EntraToken(credential, ENTRA_SCOPE, clock=lambda: now[0])
        first = await cache.get()
        now[0] = 4.9
        assert await cache.get() == first
        now[0] = 5.0
        assert await cache.get() != first

    asyncio.run(scenario())


def test_entra_settings(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"openai_base_url": "https://r.openai.azure.com", "openai_model": "d", "api_version": "2024-10-21"}
    settings = load_settings({**base, "auth": "entra_id"}, root=tmp_path)
    assert settings.openai_api_key is None and settings.entra_scope == ENTRA_SCOPE
    with pytest.raises(SettingsError, match="tenant_id is not set but client_secret is"):
        load_settings({**base, "auth": "entra_id", "client_secret": "s3cret-value", "client_id": "c"}, root=tmp_path)
    with pytest.raises(SettingsError, match="openai_api_key is not set"):
        load_settings(base, root=tmp_path)
    monkeypatch.setenv("GATEWAY_CLIENT_SECRET", "s3cret-value")
    with pytest.raises(SettingsError) as info:
        load_settings({**base, "auth": "entra_id", "client_id": "c"}, root=tmp_path)
    assert "s3cret-value" not in str(info.value)


def test_azure_identity_credentials_are_built_from_settings(tmp_path: Any) -> None:
    pytest.importorskip("azure.identity")
    from azure.identity.aio import ClientSecretCredential, DefaultAzureCredential

    from app.upstream.auth import make_credential

    base = {"openai_base_url": "https://r.openai.azure.com", "openai_model": "d", "api_version": "2024-10-21",
            "auth": "entra_id"}
    secret = load_settings({**base, "tenant_id": "t", "client_id": "c", "client_secret": "s"}, root=tmp_path)
    assert isinstance(make_credential(secret), ClientSecretCredential)
    assert isinstance(make_credential(load_settings(base, root=tmp_path)), DefaultAzureCredential)
