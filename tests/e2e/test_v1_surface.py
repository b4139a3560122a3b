"""``api_surface = "v1"``: Azure's ``{endpoint}/openai/v1/chat/completions``, the deployment in the body.

End to end: openai SDK -> gateway under uvicorn -> emulator, asserting on the URL the emulator received.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from conftest import DEPLOYMENT, Emulator, gateway_settings
from support.servers import running

from app.api.factory import create_app
from app.upstream import upstream_url, v1_chat_completions_url


@pytest.fixture(scope="module")
def v1_gateway(emulator: Emulator) -> Iterator[str]:
    settings = gateway_settings(emulator.url, api_surface="v1", default_query={})
    with running(create_app(settings)) as url:
        yield url


def test_v1_url_forms() -> None:
    for endpoint in ("https://r.openai.azure.com", "https://r.openai.azure.com/", "https://r.openai.azure.com/openai",
                     "https://r.openai.azure.com/openai/v1/"):
        assert str(v1_chat_completions_url(endpoint, {})) == "https://r.openai.azure.com/openai/v1/chat/completions"
    url = v1_chat_completions_url("https://r.openai.azure.com", {"api-version": "preview"})
    assert str(url) == "https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview"


def test_default_surface_is_deployments(emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url)
    assert settings.api_surface == "deployments"
    assert upstream_url(settings).path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"


def test_responses_reach_the_v1_url_with_the_model_in_the_body(v1_gateway: str, clean_emulator: Emulator) -> None:
    with openai.OpenAI(base_url=f"{v1_gateway}/v1", api_key="x", max_retries=0) as sdk:
        response = sdk.responses.create(model="whatever-the-client-says", input="Say hi")
    assert response.status == "completed" and "Say hi" in response.output_text
    received = clean_emulator.last_request()
    assert received["path"] == "/openai/v1/chat/completions"
    assert received["query"] == {}  # api-version is optional on v1 and none was configured
    assert received["body"]["model"] == DEPLOYMENT
    assert received["status"] == 200


def test_chat_completions_and_streams_reach_the_v1_url(v1_gateway: str, clean_emulator: Emulator) -> None:
    with openai.OpenAI(base_url=f"{v1_gateway}/v1", api_key="x", max_retries=0) as sdk:
        chat = sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hello"}])
        assert chat.choices[0].message.content
        chunks = list(sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}], stream=True))
    assert chunks
    paths = {r["path"] for r in clean_emulator.requests()}
    assert paths == {"/openai/v1/chat/completions"}
    assert all(r["body"]["model"] == DEPLOYMENT for r in clean_emulator.requests())


def test_v1_with_an_api_version(emulator: Emulator, clean_emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, api_surface="v1", default_query={"api-version": "preview"})
    with running(create_app(settings)) as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        reply = httpx.post(f"{url}/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    received = clean_emulator.last_request()
    assert received["path"] == "/openai/v1/chat/completions" and received["query"] == {"api-version": "preview"}


def test_v1_settings_need_no_api_version(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings.load import load_settings

    for name in ("GATEWAY_API_VERSION",):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(
        {"api_surface": "v1", "openai_base_url": "https://r.openai.azure.com", "openai_api_key": "k",
         "openai_model": "d"},
        root=tmp_path,  # type: ignore[arg-type]
    )
    assert settings.api_version == "v1" and "api-version" not in settings.default_query
