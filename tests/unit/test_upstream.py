"""AzureChatClient: URLs identical to the openai SDK's, the api-key header, timeouts, the concurrency cap."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx2
import openai
import pytest
from support.servers import free_port, running

from app.settings.load import Secret, Settings
from app.upstream import AzureChatClient, UpstreamUnavailable, chat_completions_url

KEY = "sk-test-very-secret-key"

CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
    ],
}


def make_settings(base_url: str, **kw: Any) -> Settings:
    fields: dict[str, Any] = {
        "openai_base_url": base_url,
        "openai_api_key": Secret(KEY),
        "openai_model": "gpt-4o-mini",
        "default_query": {"api-version": "2024-10-21"},
        "max_retry_wait": 0.01,  # retries are tested in test_reliability.py; keep their waits short here
    }
    fields.update(kw)
    return Settings(**fields)


def sdk_request(base_url: str, deployment: str, query: dict[str, str]) -> httpx2.Request:
    """What the real openai.AzureOpenAI sends for chat.completions.create(model=deployment)."""
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=CHAT_REPLY)

    client = openai.AzureOpenAI(
        azure_endpoint=base_url,
        api_key=KEY,
        api_version=query["api-version"],
        # The whole table, as a NeMo-Gym-style config would pass it; the SDK keeps its order.
        default_query=query,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    client.chat.completions.create(model=deployment, messages=[{"role": "user", "content": "hi"}])
    assert len(seen) == 1
    return seen[0]


URL_CASES = [
    ("https://res.openai.azure.com", "gpt-4o-mini", {"api-version": "2024-10-21"}),
    ("https://res.openai.azure.com/", "gpt-4o-mini", {"api-version": "2024-10-21"}),
    ("https://host.example/v1/azure", "gpt-4o-mini", {"api-version": "2024-10-21"}),
    ("https://host.example/v1/azure/", "gpt-4o-mini", {"api-version": "2024-12-01-preview"}),
    # The SDK appends /openai even when it is already there; we match rather than "fix" it.
    ("https://res.openai.azure.com/openai", "d", {"api-version": "2024-10-21"}),
    ("http://127.0.0.1:8123", "gpt-4o-mini", {"api-version": "2024-10-21"}),
    ("https://res.openai.azure.com", "gpt-4o-mini", {"api-version": "2024-10-21", "foo": "bar baz"}),
    ("https://res.openai.azure.com", "d", {"api-version": "2024-10-21", "a": "x&y=z", "b": "ü/?"}),
    ("https://res.openai.azure.com", "my deployment", {"api-version": "2024-10-21"}),
    ("https://res.openai.azure.com", "dep/with/slash", {"api-version": "2024-10-21"}),
    ("https://res.openai.azure.com", "dép?x#y%z", {"api-version": "2024-10-21"}),
    ("https://res.openai.azure.com", "a:b@c+d", {"api-version": "2024-10-21"}),
    # A base path containing /deployments makes the SDK skip the /deployments/{model} insertion.
    ("https://res.openai.azure.com/x/deployments/foo", "gpt-4o-mini", {"api-version": "2024-10-21"}),
]


@pytest.mark.parametrize(("base_url", "deployment", "query"), URL_CASES)
def test_url_matches_openai_sdk(base_url: str, deployment: str, query: dict[str, str]) -> None:
    expected = sdk_request(base_url, deployment, query)
    ours = chat_completions_url(base_url, deployment, query)
    assert str(ours) == str(expected.url)


def test_client_url_and_headers_match_sdk() -> None:
    query = {"api-version": "2024-10-21", "foo": "bar"}
    expected = sdk_request("https://host.example/v1/azure/", "my dep", query)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=CHAT_REPLY)

    settings = make_settings("https://host.example/v1/azure/", openai_model="my dep", default_query=query)

    async def go() -> None:
        async with AzureChatClient(settings, transport=httpx.MockTransport(handler)) as client:
            reply = await client.post_chat(b'{"messages":[]}')
        assert reply.status == 200
        assert json.loads(reply.body)["id"] == "chatcmpl-1"

    asyncio.run(go())
    (request,) = seen
    assert str(request.url) == str(expected.url)
    assert request.method == "POST"
    assert request.headers["api-key"] == expected.headers["api-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert request.content == b'{"messages":[]}'  # bytes in, untouched


class CountingAzure:
    """A raw ASGI app standing in for Azure: records requests and the peak number in flight."""

    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(
            {"path": scope["path"], "query": scope["query_string"].decode(), "headers": headers, "body": body}
        )
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if headers.get("api-key") != KEY:
            status, payload = 401, {"error": {"code": "401", "message": "Access denied"}}
        else:
            status, payload = 200, CHAT_REPLY
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _burst(settings: Settings, calls: int) -> list[int]:
    async with AzureChatClient(settings) as client:
        replies = await asyncio.gather(*(client.post_chat(b'{"messages":[]}') for _ in range(calls)))
    return [r.status for r in replies]


def test_real_call_sends_api_key_and_semaphore_bounds_concurrency() -> None:
    azure = CountingAzure()
    with running(azure) as url:
        statuses = asyncio.run(_burst(make_settings(url, num_concurrent_requests=2), 6))
    assert statuses == [200] * 6
    assert azure.peak == 2
    assert len(azure.requests) == 6
    first = azure.requests[0]
    assert first["path"] == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert first["query"] == "api-version=2024-10-21"
    assert first["headers"]["api-key"] == KEY
    assert first["headers"]["content-type"] == "application/json"


def test_without_a_tight_limit_calls_do_overlap() -> None:
    # Proves the previous test measures the semaphore, not some serialisation in the test server.
    azure = CountingAzure()
    with running(azure) as url:
        asyncio.run(_burst(make_settings(url, num_concurrent_requests=6), 6))
    assert azure.peak >= 3


def test_upstream_http_errors_are_returned_not_raised() -> None:
    azure = CountingAzure(delay=0)
    with running(azure) as url:
        settings = make_settings(url, openai_api_key=Secret("wrong"))
        assert asyncio.run(_burst(settings, 1)) == [401]


def test_connection_refused_raises_upstream_unavailable_without_key() -> None:
    settings = make_settings(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UpstreamUnavailable) as info:
        asyncio.run(_burst(settings, 1))
    assert not info.value.timeout
    assert "127.0.0.1" in str(info.value)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_read_timeout_raises_upstream_unavailable() -> None:
    azure = CountingAzure(delay=2)
    with running(azure) as url:
        settings = make_settings(url, read_timeout=0.2)
        with pytest.raises(UpstreamUnavailable) as info:
            asyncio.run(_burst(settings, 1))
    assert info.value.timeout
    assert "read timeout" in str(info.value)
    assert KEY not in str(info.value)


def test_pool_is_sized_from_num_concurrent_requests() -> None:
    client = AzureChatClient(make_settings("https://x.example", num_concurrent_requests=3))
    try:
        assert client._transport.limits.max_connections == 3  # type: ignore[attr-defined]
    finally:
        asyncio.run(client.aclose())
