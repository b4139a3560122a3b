"""Logs: one JSON line per request with the ids, durations, attempts and tokens, and never a secret.

The gateway runs as a real ``python -m app serve`` process at ``log_level = "debug"`` (the most talkative)
in front of an emulator whose key is a long random string; its whole stderr and stdout are then searched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.servers import free_port, running
from support.sockets import turn, ws_url
from test_cli import clean_env
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.emulator import EmulatorConfig, create_emulator_app, emulator_state
from app.telemetry.logs import MASK, forget_secrets, redact, register_secret

AZURE_KEY = f"sk-azure-{uuid.uuid4().hex}"
CLIENT_KEY = f"sk-client-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def secret_emulator() -> Iterator[tuple[str, Any]]:
    app = create_emulator_app(EmulatorConfig(api_key=AZURE_KEY, deployments=("gpt-4o-mini",)))
    with running(app) as url:
        yield url, app


def serve(tmp_path: Path, emulator_url: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    settings = {
        "GATEWAY_OPENAI_BASE_URL": emulator_url,
        "GATEWAY_OPENAI_API_KEY": AZURE_KEY,
        "GATEWAY_OPENAI_MODEL": "gpt-4o-mini",
        "GATEWAY_API_VERSION": "2024-10-21",
        "GATEWAY_LOG_LEVEL": "debug",
    }
    environment = clean_env(**{**settings, **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            return proc, base
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"the gateway did not start: {proc.communicate()[1]}") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    return out, err


def test_logs_are_json_with_one_line_per_request_and_no_secret(
    tmp_path: Path, secret_emulator: tuple[str, Any]
) -> None:
    url, app = secret_emulator
    emulator_state(app).clear()
    # Inbound keys on: the client's key is a secret too.
    proc, base = serve(tmp_path, url, GATEWAY_GATEWAY_API_KEYS=f"{CLIENT_KEY},{CLIENT_KEY}-second")
    auth = {"authorization": f"Bearer {CLIENT_KEY}", "x-request-id": "req-log-1"}
    try:
        ok = httpx.post(f"{base}/v1/responses", json={"model": "m", "input": "hello"}, headers=auth, timeout=10)
        assert ok.status_code == 200
        streamed = httpx.post(
            f"{base}/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True,
                  "stream_options": {"include_usage": True}},
            headers={**auth, "x-request-id": "req-log-2"}, timeout=10,
        )
        assert streamed.status_code == 200
        # A request carrying the Azure key itself in its text must not put it in a log either.
        bad = httpx.post(
            f"{base}/v1/responses", json={"model": "m", "input": "x", AZURE_KEY: 1},
            headers={**auth, "x-request-id": "req-log-3"}, timeout=10,
        )
        assert bad.status_code == 400
        # A wrong inbound key: refused, logged, never echoed.
        wrong = httpx.post(
            f"{base}/v1/responses", json={"model": "m", "input": "x"},
            headers={"authorization": f"Bearer {CLIENT_KEY}-second-but-wrong", "x-request-id": "req-log-4"},
            timeout=10,
        )
        assert wrong.status_code == 401
        # A hosted tool left out (hosted_tools = "omit"): said in the header and in the log line.
        omitted = httpx.post(
            f"{base}/v1/responses", json={"model": "m", "input": "x", "tools": [{"type": "web_search"}]},
            headers={**auth, "x-request-id": "req-log-5"}, timeout=10,
        )
        assert omitted.status_code == 200 and omitted.headers["x-gateway-omitted"] == "tools[0] web_search"
    finally:
        out, err = stop(proc)

    assert AZURE_KEY not in out + err and CLIENT_KEY not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(e, dict) and {"event", "level", "timestamp"} <= e.keys() for e in events)
    assert any(e["level"] == "debug" for e in events)  # debug was really on
    requests = {e["request_id"]: e for e in events if e["event"] == "request" and e.get("logger") == "app.access"}
    first = requests["req-log-1"]
    assert first["route"] == "/v1/responses" and first["status"] == 200 and first["method"] == "POST"
    assert first["upstream_attempts"] == 1 and first["apim_request_id"]
    assert first["duration_ms"] >= first["upstream_ms"] > 0 and first["gateway_ms"] >= 0
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0 and first["deployment"] == "gpt-4o-mini"
    second = requests["req-log-2"]
    assert second["route"] == "/v1/chat/completions" and second["stream"] is True and second["output_tokens"] > 0
    third = requests["req-log-3"]
    assert third["status"] == 400 and third["upstream_attempts"] == 0 and third["error_code"] == "unknown_parameter"
    assert requests["req-log-4"]["status"] == 401 and requests["req-log-4"]["error_code"] == "invalid_api_key"
    assert [e["request_id"] for e in events if e["event"] == "request"].count("req-log-1") == 1
    assert requests["req-log-5"]["omitted"] == ["tools[0] web_search"] and "omitted" not in first


def test_websocket_turns_and_refused_upgrades_are_logged(tmp_path: Path, secret_emulator: tuple[str, Any]) -> None:
    """One line per WebSocket turn (method WS, as a POST's), and one for a refused upgrade; no secret."""
    url, _ = secret_emulator
    proc, base = serve(tmp_path, url, GATEWAY_GATEWAY_API_KEYS=CLIENT_KEY)
    try:
        with connect(ws_url(base), additional_headers={"authorization": f"Bearer {CLIENT_KEY}"}) as socket:
            assert turn(socket, model="m", input="hello")[-1]["type"] == "response.completed"
            assert turn(socket, model="m", previous_response_id="resp_gone", input="y")[-1]["type"] == "error"
        with pytest.raises(InvalidStatus), connect(ws_url(base), additional_headers={"x-request-id": "req-ws-no"}):
            pass
    finally:
        out, err = stop(proc)
    assert AZURE_KEY not in out + err and CLIENT_KEY not in out + err
    events = [json.loads(line) for line in err.splitlines() if line.strip().startswith("{")]
    turns = [e for e in events if e["event"] == "request" and e.get("method") == "WS"]
    assert [t["status"] for t in turns] == [200, 400]
    assert turns[0]["route"] == "/v1/responses" and turns[0]["stream"] is True
    assert turns[0]["upstream_attempts"] == 1 and turns[0]["input_tokens"] > 0 and turns[0]["gateway_ms"] >= 0
    assert turns[1]["error_code"] == "previous_response_not_found" and turns[1]["upstream_attempts"] == 0
    refused = next(e for e in events if e.get("request_id") == "req-ws-no")
    assert refused["status"] == 401 and refused["error_code"] == "missing_api_key"


def test_console_format_is_readable(tmp_path: Path, secret_emulator: tuple[str, Any]) -> None:
    url, _ = secret_emulator
    proc, base = serve(tmp_path, url, GATEWAY_LOG_FORMAT="console", GATEWAY_LOG_LEVEL="info")
    try:
        body = {"model": "m", "input": "hi"}
        reply = httpx.post(f"{base}/v1/responses", json=body, headers={"x-request-id": "req-console"})
        assert reply.status_code == 200
    finally:
        _, err = stop(proc)
    line = next(line for line in err.splitlines() if "req-console" in line)
    assert not line.startswith("{")
    assert "request" in line and "route=/v1/responses" in line and "status=200" in line
    assert "\x1b[" not in err  # no colour codes in files
    assert AZURE_KEY not in err


def test_redact_masks_secrets_everywhere() -> None:
    forget_secrets()
    register_secret("sk-very-secret-value")
    register_secret("tok-entra-123456", short_lived=True)
    register_secret("abc")  # too short to mask safely: ignored
    event = {
        "event": "calling with sk-very-secret-value",
        "exception": "Traceback ...\nValueError: bad token tok-entra-123456",
        "nested": {"list": ["x sk-very-secret-value y"], "authorization": "Bearer whatever"},
        "api-key": "anything",
        "count": 3,
        "abc": "abc",
    }
    out = redact(None, "info", event)
    assert out["event"] == f"calling with {MASK}"
    assert out["exception"].endswith(f"bad token {MASK}")
    assert out["nested"] == {"list": [f"x {MASK} y"], "authorization": MASK}
    assert out["api-key"] == MASK and out["count"] == 3 and out["abc"] == "abc"
    forget_secrets()
