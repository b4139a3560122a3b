"""The gateway's own misconfiguration is reported as such (issue 13): a refusal to start or a 502 that names
the setting, never a 400 blaming the client; and the messages about it read properly."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Emulator, gateway_settings
from support.servers import running
from test_cli import clean_env

from app.api.factory import create_app

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
        timeout=60,
    )


def test_unsupported_api_version_is_a_502_naming_the_setting(emulator: Emulator) -> None:
    # Well-formed, so it starts; Azure (the emulator) refuses it with 400 "API version not supported".
    app = create_app(gateway_settings(emulator.url, default_query={"api-version": "2099-01-01"}))
    with running(app) as url:
        for path, body in (("/v1/chat/completions", CHAT), ("/v1/responses", {"input": "hi"})):
            reply = httpx.post(f"{url}{path}", json=body, timeout=30)
            assert reply.status_code == 502, reply.text
            error = reply.json()["error"]
            assert error["type"] == "server_error" and error["code"] == "upstream_api_version_unsupported"
            assert "'2099-01-01'" in error["message"] and "GATEWAY_API_VERSION" in error["message"]


def test_implausible_api_version_refuses_to_start(tmp_path: Path) -> None:
    result = cli(tmp_path, "serve", "--emulator", "--api-version", "banana")
    assert result.returncode == 2
    assert result.stderr.startswith("error: api-version is invalid (got 'banana'")
    assert "Traceback" not in result.stderr


def test_taken_port_is_reported_before_any_startup_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(tmp_path, "serve", "--emulator", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on http://127.0.0.1:{port}: Address already in use "
        "(another process is using it; pick another with --port)"
    ]


def test_check_can_run_against_the_emulator(tmp_path: Path) -> None:
    result = cli(tmp_path, "check", "--emulator")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "upstream:    OK in " in result.stdout and "url:         http://127.0.0.1:" in result.stdout


def test_check_connect_error_reads_properly_for_http(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        result = cli(
            tmp_path, "check",
            GATEWAY_OPENAI_BASE_URL=f"http://127.0.0.1:{port}", GATEWAY_OPENAI_API_KEY="k",
            GATEWAY_OPENAI_MODEL="d", GATEWAY_API_VERSION="2024-10-21", GATEWAY_MAX_RETRIES="0",
        )
    assert result.returncode == 1
    outcome = result.stdout.strip().splitlines()[-1]
    assert "ssl:default" not in outcome
    assert outcome.endswith(f"is unreachable: ConnectError: cannot connect to 127.0.0.1:{port}: Connection refused.")


@pytest.fixture
def resetting_upstream() -> Iterator[str]:
    """A TCP server that accepts each connection, reads the request, and closes without answering."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_reset_upstream_message_reads_properly(resetting_upstream: str) -> None:
    app = create_app(gateway_settings(resetting_upstream, max_retries=3, max_retry_wait=0.01))
    with running(app) as url:
        reply = httpx.post(f"{url}/v1/chat/completions", json=CHAT, timeout=30)
    assert reply.status_code == 502, reply.text
    message = reply.json()["error"]["message"]
    assert "unreachable" not in message and ".." not in message and ". (" not in message
    assert message.endswith(
        "closed the connection before answering: RemoteProtocolError: Server disconnected without sending a "
        "complete response (after 4 attempts)."
    ), message
