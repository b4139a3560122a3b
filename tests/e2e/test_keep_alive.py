"""Idle client connections outlive the clients' own idle expiry.

httpx (and so the openai SDK) drops a pooled connection after 5 s idle; uvicorn's default keep-alive is also
5 s. With equal timers, a client now and then reuses a connection in the instant the server closes it and
gets a reset for a request the gateway never saw (the soak showed 6 in 60,000). The gateway keeps idle
connections for ``keep_alive_timeout`` (75 s by default) instead.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from support.servers import free_port
from test_cli import clean_env, post_until_up, stop

REQUEST = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"


def _exchange(sock: socket.socket) -> bytes:
    """One request on ``sock``; the whole response (head and ``content-length`` body), or what came before EOF."""
    sock.sendall(REQUEST)
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := sock.recv(65536)):
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = (line.partition(b":") for line in head.split(b"\r\n")[1:])
    length = next(int(value) for name, _, value in fields if name.lower() == b"content-length")
    while len(body) < length:
        if not (chunk := sock.recv(65536)):
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _serve(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--emulator", "--port", str(port)],
        cwd=tmp_path, env=clean_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    post_until_up(proc, f"http://127.0.0.1:{port}/v1/responses", json={"model": "x", "input": "up?"})
    return proc, port


def test_idle_connection_is_kept_past_the_clients_expiry(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
            time.sleep(6)  # longer than both httpx's expiry and uvicorn's default keep-alive
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
    finally:
        stop(proc)


def test_keep_alive_timeout_setting_is_applied(tmp_path: Path) -> None:
    proc, port = _serve(tmp_path, GATEWAY_KEEP_ALIVE_TIMEOUT="1")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
            time.sleep(2.5)
            assert sock.recv(1) == b""  # the server closed the idle connection
    finally:
        stop(proc)
