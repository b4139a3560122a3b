"""Shared end-to-end fixtures: one Azure emulator and one gateway in front of it, served for the session.

Both run under real uvicorn servers on loopback (`servers.running`), so every test talks HTTP exactly as a
client would: the `openai` SDK → gateway → emulator. Starting servers is the slow part, so they live for
the whole session; `clean_emulator` wipes the emulator's recordings and script between tests so tests
stay independent. Modules that need a fresh emulator for themselves (test_emulator.py) build their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from litestar import Litestar
from support.servers import running
from support.stores import fresh_postgres_database

from app.api.factory import create_app
from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app, emulator_state
from app.settings.load import Secret, Settings

# Gateways at several api-versions for the translation and conformance suites (the `stack` fixture). Named
# here so pytest loads, and assert-rewrites, the plugin before any test module imports it.
pytest_plugins = ["support.translation_harness"]

# Gateways started as subprocesses (`python -m app serve`) inherit this: no SQLite file in the work tree.
os.environ.setdefault("GATEWAY_STORE_URL", "memory")

AZURE_KEY = "emulator-key"
DEPLOYMENT = "gpt-4o-mini"
API_VERSION = "2024-10-21"
CHAT_PATH = f"/openai/deployments/{DEPLOYMENT}/chat/completions"


def gateway_settings(base_url: str, **overrides: Any) -> Settings:
    """Settings for a gateway in front of the emulator at `base_url` (overrides replace fields)."""
    values: dict[str, Any] = {
        "openai_base_url": base_url,
        "openai_api_key": Secret(AZURE_KEY),
        "openai_model": DEPLOYMENT,
        "default_query": {"api-version": API_VERSION},
        # These tests check how one Azure reply is mapped; retries are tested in test_reliability.py.
        "max_retries": 0,
        # Stored responses live in the gateway's process unless a test gives a store of its own.
        "store_url": "memory",
        **overrides,
    }
    return Settings(**values)


class Emulator:
    """The running emulator: its URL, its in-process state, and helpers to script it and read what it got."""

    def __init__(self, app: Litestar, url: str) -> None:
        self.app = app
        self.url = url

    @property
    def state(self) -> EmulatorState:
        return emulator_state(self.app)

    def clear(self) -> None:
        self.state.clear()

    def script(self, *replies: dict[str, Any]) -> None:
        """Queue scripted actions through the admin hook (the same path a manual demo would use)."""
        reply = httpx.post(f"{self.url}/_emulator/script", json={"replies": list(replies)})
        assert reply.status_code == 200, reply.text

    def requests(self) -> list[dict[str, Any]]:
        """Every chat request received since the last clear, oldest first, as plain JSON data."""
        return self.state.requests_as_builtins()

    def last_request(self) -> dict[str, Any]:
        """The last chat request received: method, path, deployment, query, headers, body, status."""
        received = self.requests()
        assert received, "the emulator received no request"
        return received[-1]

    def last_body(self) -> dict[str, Any]:
        """The JSON body of the last Chat Completions request the emulator received."""
        body = self.last_request()["body"]
        assert isinstance(body, dict), body
        return body


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    app = create_emulator_app(EmulatorConfig(api_key=AZURE_KEY, deployments=(DEPLOYMENT,)))
    with running(app) as url:
        yield Emulator(app, url)


@pytest.fixture(scope="session")
def gateway_app(emulator: Emulator) -> Litestar:
    return create_app(gateway_settings(emulator.url))


@pytest.fixture(scope="session")
def gateway_url(gateway_app: Litestar) -> Iterator[str]:
    with running(gateway_app) as url:
        yield url


@pytest.fixture(scope="session")
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0, timeout=30) as sdk:
        yield sdk


@pytest.fixture(scope="session")
def http(gateway_url: str) -> Iterator[httpx.Client]:
    """A raw HTTP client on the gateway, for what the SDK would hide (status, envelope, headers)."""
    with httpx.Client(base_url=gateway_url, timeout=30) as raw:
        yield raw


@pytest.fixture
def clean_emulator(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator with no recorded requests and no pending script, before and after the test."""
    emulator.clear()
    yield emulator
    emulator.clear()


@pytest.fixture
def last_chat_request(clean_emulator: Emulator) -> Any:
    """A function returning the body of the Chat request the emulator last received."""
    return clean_emulator.last_body


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A Postgres database of this test session's own (skips, or fails in CI, without Postgres)."""
    with fresh_postgres_database() as url:
        yield url
