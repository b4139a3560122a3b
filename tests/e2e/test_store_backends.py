"""The store's backends under real gateways: SQLite across a restart, Postgres shared by two gateways, off.

Each gateway here is its own app with its own store connection (nothing shared in memory), so what one sees
of the other's responses came through the database.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest
from conftest import API_VERSION, AZURE_KEY, DEPLOYMENT, Emulator, gateway_settings
from support.servers import free_port, running
from support.stores import admin, fresh_postgres_database
from test_cli import clean_env, post_until_up, stop

from app.api.factory import create_app


@contextmanager
def gateway(emulator: Emulator, store_url: str) -> Iterator[openai.OpenAI]:
    with (
        running(create_app(gateway_settings(emulator.url, store_url=store_url))) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0) as sdk,
    ):
        yield sdk


def test_sqlite_keeps_responses_and_conversations_across_a_restart(tmp_path: Path, clean_emulator: Emulator) -> None:
    url = f"sqlite:///{tmp_path}/data/store.sqlite3"  # the folder does not exist yet: created on first use
    with gateway(clean_emulator, url) as first:
        stored = first.responses.create(model="m", input="remember me")
        conversation = first.conversations.create(items=[{"role": "user", "content": "kept"}])
    assert (tmp_path / "data" / "store.sqlite3").is_file()
    with gateway(clean_emulator, url) as second:
        assert second.responses.retrieve(stored.id).output_text == stored.output_text
        follow = second.responses.create(model="m", input="again", previous_response_id=stored.id)
        assert follow.previous_response_id == stored.id
        assert [m["role"] for m in clean_emulator.last_body()["messages"]] == ["user", "assistant", "user"]
        assert [i.content[0].text for i in second.conversations.items.list(conversation.id)] == ["kept"]


def test_two_gateways_on_one_postgres_behave_as_one(postgres_url: str, clean_emulator: Emulator) -> None:
    with gateway(clean_emulator, postgres_url) as one, gateway(clean_emulator, postgres_url) as two:
        first = one.responses.create(model="m", input="on one")
        second = two.responses.create(model="m", input="on two", previous_response_id=first.id)
        assert [m["role"] for m in clean_emulator.last_body()["messages"]] == ["user", "assistant", "user"]
        with one.responses.stream(model="m", input="streamed on one", previous_response_id=second.id) as stream:
            streamed = stream.get_final_response()
        assert two.responses.retrieve(streamed.id).output_text == streamed.output_text
        assert [i.content[0].text for i in two.responses.input_items.list(streamed.id)] == ["streamed on one"]
        conversation = two.conversations.create()
        one.responses.create(model="m", input="in the conversation", conversation=conversation.id)
        assert len(two.conversations.items.list(conversation.id).data) == 2
        two.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            one.responses.retrieve(first.id)
        with pytest.raises(openai.BadRequestError) as broken:
            one.responses.create(model="m", input="x", previous_response_id=streamed.id)
        assert broken.value.code == "previous_response_not_found"


def test_store_off_says_how_to_turn_it_on(clean_emulator: Emulator) -> None:
    with running(create_app(gateway_settings(clean_emulator.url, store_url="off"))) as url:
        plain = httpx.post(f"{url}/v1/responses", json={"model": "m", "input": "hi"})
        assert plain.status_code == 200 and plain.json()["store"] is False  # nothing kept, nothing claimed
        for method, path, body in (
            ("POST", "/v1/responses", {"model": "m", "input": "hi", "previous_response_id": "resp_1"}),
            ("POST", "/v1/responses", {"model": "m", "input": "hi", "conversation": "conv_1"}),
            ("GET", "/v1/responses/resp_1", None),
            ("DELETE", "/v1/responses/resp_1", None),
            ("GET", "/v1/responses/resp_1/input_items", None),
            ("POST", "/v1/conversations", {}),
            ("GET", "/v1/conversations/conv_1/items", None),
        ):
            reply = httpx.request(method, f"{url}{path}", json=body)
            assert reply.status_code == 400, (path, reply.text)
            error = reply.json()["error"]
            assert error["code"] == "store_disabled"
            assert "GATEWAY_STORE_URL" in error["message"] and "sqlite:///PATH" in error["message"]


def _serve(emulator: Emulator, store_url: str, port: int, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    env = clean_env(
        GATEWAY_OPENAI_BASE_URL=emulator.url,
        GATEWAY_OPENAI_API_KEY=AZURE_KEY,
        GATEWAY_OPENAI_MODEL=DEPLOYMENT,
        GATEWAY_API_VERSION=API_VERSION,
        GATEWAY_STORE_URL=store_url,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), *extra],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_gateway_processes_on_one_postgres(postgres_url: str, tmp_path: Path, clean_emulator: Emulator) -> None:
    """Real `python -m app serve` processes: storing on one, chaining, retrieving and deleting on the other."""
    ports = free_port(), free_port()
    procs = [_serve(clean_emulator, postgres_url, port, tmp_path) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}/v1" for port in ports]
        up = [post_until_up(proc, f"{base}/responses", json={"model": "m", "input": "up?"}) for proc, base in
              zip(procs, bases, strict=True)]  # fmt: skip
        assert [reply.status_code for reply in up] == [200, 200]
        one, two = (openai.OpenAI(base_url=base, api_key="k", max_retries=0) for base in bases)
        first = one.responses.create(model="m", input="stored on one")
        second = two.responses.create(model="m", input="chained on two", previous_response_id=first.id)
        assert [m["role"] for m in clean_emulator.last_body()["messages"]] == ["user", "assistant", "user"]
        assert one.responses.retrieve(second.id).previous_response_id == first.id
        two.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            one.responses.retrieve(first.id)
    finally:
        for proc in procs:
            code, stderr = stop(proc)
            assert code == 0, stderr


def test_workers_refuse_the_memory_store(tmp_path: Path, clean_emulator: Emulator) -> None:
    proc = _serve(clean_emulator, "memory", free_port(), tmp_path, "--workers", "2")
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "store_url = memory" in stderr and "--workers 2" in stderr and "GATEWAY_STORE_URL" in stderr


def test_a_store_that_fails_is_a_503_and_a_failed_stream(clean_emulator: Emulator) -> None:
    """The store's database vanishes under a running gateway (dropped with its connections)."""
    with fresh_postgres_database("gw_store_gone") as url, gateway(clean_emulator, url) as sdk:
        assert sdk.responses.create(model="m", input="while it lasts").status == "completed"
        asyncio.run(admin(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        with pytest.raises(openai.InternalServerError) as info:
            sdk.responses.create(model="m", input="now")
        assert info.value.status_code == 503 and info.value.code == "store_unavailable"
        events = list(sdk.responses.create(model="m", input="streamed", stream=True))
        assert events[-1].type == "response.failed"
        assert events[-1].response.error is not None and "store" in events[-1].response.error.message
        # Without storing, the gateway still answers.
        assert sdk.responses.create(model="m", input="unstored", store=False).status == "completed"


def test_workers_share_one_sqlite_file(tmp_path: Path, clean_emulator: Emulator) -> None:
    """`serve --workers 2` on the default SQLite store: both processes migrate one file and see each other's
    responses, so a chain works whichever worker each turn lands on."""
    port = free_port()
    proc = _serve(clean_emulator, f"sqlite:///{tmp_path}/shared.sqlite3", port, tmp_path, "--workers", "2")
    try:
        base = f"http://127.0.0.1:{port}/v1"
        assert post_until_up(proc, f"{base}/responses", json={"model": "m", "input": "up?"}).status_code == 200
        sdk = openai.OpenAI(base_url=base, api_key="k", max_retries=0)
        previous = None
        for turn in range(12):  # new connections each time: the kernel spreads them over the workers
            with openai.OpenAI(base_url=base, api_key="k", max_retries=0) as fresh:
                reply = fresh.responses.create(model="m", input=f"turn {turn}", previous_response_id=previous)
            previous = reply.id
        assert len(clean_emulator.last_body()["messages"]) == 23
        assert sdk.responses.retrieve(previous).previous_response_id is not None
    finally:
        code, stderr = stop(proc)
        assert code == 0, stderr
