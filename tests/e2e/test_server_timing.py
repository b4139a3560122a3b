"""Every response says what the gateway itself cost: `Server-Timing: upstream;dur=…, gateway;dur=…` (ms)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from support.servers import running

from app.api.factory import create_app
from app.settings.load import Secret, Settings

DELAY = 0.05  # seconds the fake Azure waits: the upstream figure must include it, the gateway figure must not

CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}

TIMING = re.compile(r"^upstream;dur=(?P<upstream>\d+(?:\.\d+)?), gateway;dur=(?P<gateway>\d+(?:\.\d+)?)$")


async def slow_azure(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await asyncio.sleep(DELAY)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(CHAT_REPLY).encode()})


def parse(header: str | None) -> tuple[float, float]:
    assert header is not None, "no Server-Timing header"
    match = TIMING.match(header)
    assert match, header
    return float(match["upstream"]), float(match["gateway"])


@pytest.fixture(scope="module")
def gateway_url() -> Any:
    with running(slow_azure) as azure:
        settings = Settings(
            openai_base_url=azure,
            openai_api_key=Secret("k"),
            openai_model="gpt-4o-mini",
            default_query={"api-version": "2024-10-21"},
            store_url="memory",  # no store file in the work tree
        )
        with running(create_app(settings)) as url:
            yield url


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/responses", {"model": "m", "input": "hi"}),
        ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    ],
)
def test_success_reports_upstream_and_gateway_time(gateway_url: str, path: str, body: dict[str, Any]) -> None:
    response = httpx.post(gateway_url + path, json=body)
    assert response.status_code == 200, response.text
    upstream, gateway = parse(response.headers.get("server-timing"))
    assert upstream >= DELAY * 1000
    assert gateway >= 0.0


def test_errors_and_unknown_routes_carry_it_too(gateway_url: str) -> None:
    invalid = httpx.post(gateway_url + "/v1/responses", json={"model": "m", "input": 42})
    assert invalid.status_code == 400
    assert parse(invalid.headers.get("server-timing"))[0] == 0.0  # Azure was never called
    missing = httpx.get(gateway_url + "/v1/nope")
    assert missing.status_code == 404
    parse(missing.headers.get("server-timing"))
