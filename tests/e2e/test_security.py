"""Inbound keys, the refusal to serve an open port unauthenticated, and the Azure key never leaking."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from app.service.azure_errors import from_upstream_status
from app.settings.load import Secret, Settings, SettingsError, check_exposure, load_settings
from app.upstream import UpstreamResponse
from app.upstream.retry import retry_after_seconds

AZURE_KEY = "azure-secret-key-LEAKCHECK-0123456789"
CLIENT_KEYS = ("client-key-one-SECRET", "client-key-two-SECRET")
CHAT_BODY: dict[str, Any] = {"model": "x", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState()
    with running(create_emulator_app(EmulatorConfig(api_key=AZURE_KEY), state=state)) as url:
        yield url, state


def settings_for(url: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "store_url": "memory",  # no store file in the work tree
        "openai_base_url": url,
        "openai_api_key": Secret(AZURE_KEY),
        "openai_model": "gpt-4o-mini",
        "default_query": {"api-version": "2024-10-21"},
        "max_retry_wait": 0.01,
        "gateway_api_keys": tuple(Secret(k) for k in CLIENT_KEYS),
    }
    fields.update(overrides)
    return Settings(**fields)


# Inbound auth ----------------------------------------------------------------------------------------------


def test_v1_needs_a_gateway_key(emulator: tuple[str, EmulatorState]) -> None:
    emulator[1].clear()
    with running(create_app(settings_for(emulator[0]))) as url, httpx.Client(base_url=url) as client:
        for headers in ({}, {"authorization": "Bearer nope"}, {"api-key": "nope"}, {"authorization": "Basic x"}):
            for path in ("/v1/chat/completions", "/v1/responses"):
                response = client.post(path, json=CHAT_BODY, headers=headers)
                assert response.status_code == 401, (path, headers)
                error = response.json()["error"]
                assert error["type"] == "authentication_error"
                assert error["code"] in ("missing_api_key", "invalid_api_key")
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.headers["x-request-id"]
        # A bad body is still a 401 first: nothing about the request is looked at before the key.
        assert client.post("/v1/responses", content=b"{not json").status_code == 401
        assert emulator[1].requests == []

        ok_bearer = client.post(
            "/v1/chat/completions", json=CHAT_BODY, headers={"authorization": f"Bearer {CLIENT_KEYS[0]}"}
        )
        ok_api_key = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"api-key": CLIENT_KEYS[1]})
        assert ok_bearer.status_code == ok_api_key.status_code == 200
        # The docs and the contract stay open.
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200


def test_openai_sdk_sends_the_key_as_bearer(emulator: tuple[str, EmulatorState]) -> None:
    import openai

    with running(create_app(settings_for(emulator[0]))) as url:
        good = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEYS[0], max_retries=0)
        assert good.responses.create(model="x", input="hi").status == "completed"
        bad = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.responses.create(model="x", input="hi")


def test_no_keys_means_no_auth(emulator: tuple[str, EmulatorState]) -> None:
    with running(create_app(settings_for(emulator[0], gateway_api_keys=()))) as url:
        assert httpx.post(f"{url}/v1/chat/completions", json=CHAT_BODY).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "gateway.example"])
def test_open_host_without_keys_refuses_to_start(host: str) -> None:
    settings = settings_for("https://x.example", host=host, gateway_api_keys=())
    with pytest.raises(SettingsError) as info:
        check_exposure(settings)
    message = str(info.value)
    assert "\n" not in message
    assert host in message and "gateway_api_keys" in message and "allow_unauthenticated" in message
    assert "GATEWAY_GATEWAY_API_KEYS" in message
    check_exposure(settings_for("https://x.example", host=host))  # keys set: fine
    check_exposure(settings_for("https://x.example", host=host, gateway_api_keys=(), allow_unauthenticated=True))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_without_keys_is_fine(host: str) -> None:
    check_exposure(settings_for("https://x.example", host=host, gateway_api_keys=()))


def test_cli_refuses_open_host(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)}
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--emulator", "--host", "0.0.0.0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: refusing to listen on 0.0.0.0 without client authentication")
    assert "Traceback" not in result.stderr


REQUIRED_ENV = {
    "GATEWAY_OPENAI_BASE_URL": "https://x.example",
    "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
    "GATEWAY_OPENAI_MODEL": "d",
    "GATEWAY_API_VERSION": "2024-10-21",
}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("k1,k2", ("k1", "k2")),
        (" k1 , ,k2 ", ("k1", "k2")),
        ("12345", ("12345",)),
        ('["k1", "k2"]', ("k1", "k2")),
    ],
)
def test_gateway_keys_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, expected: tuple[str, ...]
) -> None:
    for name, value in {**REQUIRED_ENV, "GATEWAY_GATEWAY_API_KEYS": env}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(root=tmp_path)
    assert tuple(k.get_secret_value() for k in settings.gateway_api_keys) == expected
    assert "k1" not in repr(settings) and "12345" not in repr(settings)


def test_gateway_keys_from_secrets_file_and_bad_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED_ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / ".secrets.toml").write_text('gateway_api_keys = ["file-key"]\n')
    assert [k.get_secret_value() for k in load_settings(root=tmp_path).gateway_api_keys] == ["file-key"]
    (tmp_path / ".secrets.toml").write_text("gateway_api_keys = [1234567]\n")
    with pytest.raises(SettingsError) as info:
        load_settings(root=tmp_path)
    assert "gateway_api_keys is invalid" in str(info.value) and "1234567" not in str(info.value)


def test_new_settings_defaults_and_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED_ENV.items():
        monkeypatch.setenv(name, value)
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)  # the committed settings.toml
    settings = load_settings()
    assert (settings.max_retries, settings.max_retry_wait, settings.request_timeout) == (3, 60.0, 900.0)
    assert (settings.max_queue, settings.max_queue_wait, settings.max_body_bytes) == (256, 60.0, 32 * 1024 * 1024)
    assert (settings.stream_idle_timeout, settings.drain_timeout) == (120.0, 30.0)
    assert settings.gateway_api_keys == () and settings.allow_unauthenticated is False
    monkeypatch.setenv("GATEWAY_MAX_RETRIES", "-1")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("max_retries is invalid (got -1, expected an integer >= 0)")
    assert "GATEWAY_MAX_RETRIES" in str(info.value)


# Units: Retry-After parsing and the spec's content-filter shape -------------------------------------------


def test_retry_after_header_precedence_and_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "250", "x-ms-retry-after-ms": "900", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"x-ms-retry-after-ms": "900", "retry-after": "9"}) == 0.9
    assert retry_after_seconds({"retry-after": "9"}) == 9
    now = 1_700_000_000.0
    assert retry_after_seconds({"retry-after": "Tue, 14 Nov 2023 22:13:30 GMT"}, now=now) == pytest.approx(10)
    assert retry_after_seconds({"retry-after": "Tue, 14 Nov 2023 22:13:00 GMT"}, now=now) == 0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after-ms": "nan", "retry-after": "2"}) == 2
    assert retry_after_seconds({}) is None


def test_content_filter_in_the_specs_shape_is_parsed_too() -> None:
    results = {"hate": {"filtered": True, "severity": "high"}}
    body = {
        "error": {
            "message": "filtered",
            "code": "content_filter",
            "param": "prompt",
            "inner_error": {"code": "ResponsibleAIPolicyViolation", "content_filter_results": results},
        }
    }
    reply = UpstreamResponse(status=400, headers=httpx.Headers(), body=msgspec.json.encode(body))
    error = from_upstream_status(reply, deployment="d", endpoint="https://x")
    assert (error.status, error.code, error.param) == (400, "content_filter", "prompt")
    assert error.extra == {"innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results}}
    # Only innererror.code says so (no top-level code): still a content filter.
    body["error"]["code"] = None
    reply = UpstreamResponse(status=400, headers=httpx.Headers(), body=msgspec.json.encode(body))
    assert from_upstream_status(reply, deployment="d", endpoint="https://x").code == "content_filter"


# The Azure key never leaks --------------------------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)  # includes exc_info / stack, if any
        self.lines.append(text + repr(record.args) + repr(record.__dict__))


LOGGERS = ("", "app", "litestar", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore", "asyncio")


def test_azure_key_never_appears_anywhere(emulator: tuple[str, EmulatorState]) -> None:
    url_emulator, state = emulator
    seen: list[str] = []
    capture = Capture()
    settings = settings_for(url_emulator, gateway_api_keys=())
    wrong_key = settings_for(url_emulator, gateway_api_keys=(), openai_api_key=Secret(AZURE_KEY + "-WRONG"))
    app = create_app(settings)
    levels = {}
    try:
        with running(app) as url, running(create_app(wrong_key)) as url_wrong:
            for name in LOGGERS:  # after uvicorn and Litestar have configured their loggers
                logger = logging.getLogger(name)
                levels[name] = logger.level
                logger.setLevel(logging.DEBUG)
                logger.addHandler(capture)
            with httpx.Client(base_url=url, timeout=30) as client:
                faults = [
                    {"fault": "throttle", "retry_after_ms": 10, "count": 4},
                    {"fault": "server_error", "status": 500, "count": 4},
                    {"fault": "reset", "count": 4},
                    {"fault": "malformed"},
                    {"fault": "content_filter"},
                ]
                for fault in faults:
                    httpx.post(f"{url_emulator}/_emulator/faults", json=fault)
                    response = client.post("/v1/chat/completions", json=CHAT_BODY)
                    assert response.status_code >= 400
                    seen += [response.text, str(response.headers)]
                for path, body in (("/v1/responses", {"input": 5}), ("/v1/chat/completions", b"{")):
                    response = (
                        client.post(path, json=body) if isinstance(body, dict) else client.post(path, content=body)
                    )
                    seen += [response.text, str(response.headers)]
                for path in ("/openapi.json", "/openapi.yaml", "/docs", "/_litestar/openapi.json", "/nope"):
                    seen.append(client.get(path).text)
                ok = client.post("/v1/responses", json={"model": "x", "input": "hello"})
                assert ok.status_code == 200
                seen.append(ok.text)
            rejected = httpx.post(f"{url_wrong}/v1/chat/completions", json=CHAT_BODY)
            assert rejected.status_code == 502
            seen += [rejected.text, str(rejected.headers)]
            seen.append(httpx.get(f"{url_emulator}/_emulator/requests").text)
            time.sleep(0.2)  # access-log lines are written just after each response
    finally:
        for name, level in levels.items():
            logging.getLogger(name).removeHandler(capture)
            logging.getLogger(name).setLevel(level)
    seen += [repr(settings), str(settings), repr(wrong_key), repr(app.state["gateway"].settings)]
    state.clear()
    assert len(capture.lines) > 20, "the run should have produced debug logs to check"
    assert any("httpcore" in line for line in capture.lines)  # DEBUG from the HTTP stack was captured
    everything = "\n".join(seen + capture.lines)
    assert AZURE_KEY not in everything
    assert "LEAKCHECK" not in everything
