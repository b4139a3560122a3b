"""Fixtures that run a test module's gateway on each durable store: an SQLite file and Postgres.

A module that imports them (``from support.store_backends import client, gateway_url, http``) runs every
test once per backend, with the same ``client``/``http``/``gateway_url`` names as the session-wide gateway of
conftest (whose store is ``memory``). Postgres is this session's own database (``postgres_url``: skipped
with a reason without Postgres, a failure when GATEWAY_TEST_REQUIRE_SERVICES=1, as .ci/run sets).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from conftest import Emulator, gateway_settings

from app.api.factory import create_app
from support.servers import running

__all__ = ["client", "gateway_url", "http"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def gateway_url(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        store_url = f"sqlite:///{tmp_path_factory.mktemp('store')}/store.sqlite3"
    else:
        store_url = request.getfixturevalue("postgres_url")
    with running(create_app(gateway_settings(emulator.url, store_url=store_url))) as url:
        yield url


@pytest.fixture(scope="module")
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="test", max_retries=0, timeout=30) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def http(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=30) as raw:
        yield raw
