"""WebSocket mode and compaction on the durable stores: two gateways sharing SQLite or Postgres.

A response made over one gateway's WebSocket (the openai SDK's ``responses.connect()``) continues on the other
gateway's WebSocket and over its HTTP, and a compaction item sealed by one opens on the other (the same
``compaction_key``): what the second gateway knows came through the database, nothing is shared in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.settings.load import Secret


@contextmanager
def gateway(emulator: Emulator, store_url: str) -> Iterator[openai.OpenAI]:
    settings = gateway_settings(emulator.url, store_url=store_url, compaction_key=Secret("shared-key"))
    with running(create_app(settings)) as url, openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0) as sdk:
        yield sdk


def _turn(connection: Any, **body: Any) -> Any:
    connection.response.create(**body)
    for event in connection:
        if event.type in ("response.completed", "response.failed", "error"):
            assert event.type == "response.completed", event
            return event.response
    raise AssertionError("the connection closed before the turn ended")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite3"
    return str(request.getfixturevalue("postgres_url"))


def test_websocket_chains_and_compaction_span_gateways(store_url: str, clean_emulator: Emulator) -> None:
    with gateway(clean_emulator, store_url) as one, gateway(clean_emulator, store_url) as two:
        with one.responses.connect() as connection:
            first = _turn(connection, model="m", input="The code word is granite.")
        with two.responses.connect() as connection:
            second = _turn(connection, model="m", previous_response_id=first.id, input="What is it?")
        assert [m["role"] for m in clean_emulator.last_body()["messages"]] == ["user", "assistant", "user"]
        assert two.responses.retrieve(second.id).previous_response_id == first.id
        assert one.responses.retrieve(second.id).id == second.id

        compacted = one.responses.compact(model="m", previous_response_id=second.id, input="Compact, please.")
        window = [item.model_dump(mode="json", exclude_none=True, warnings=False) for item in compacted.output]
        answer = two.responses.create(model="m", input=[*window, {"role": "user", "content": "Go on."}])
    assert answer.status == "completed"
    sent = clean_emulator.last_body()["messages"]
    assert any("Summary of the earlier conversation" in str(m.get("content")) for m in sent)
