"""Done-means 2 of issue 13: the 30 MiB worst cases, sent all at once, are refused in bounded memory while
``/healthz`` keeps answering; slow half-sent bodies are let go.

The gateway runs as its own process (``serve --emulator``) so its peak RSS (VmHWM) is measured alone. The bound
asserted is generous against what it measures (about 110-180 MB from a 78 MB start on the 2-core CI machine;
it was over 2 GB for one such body before): a memory regression of the old kind breaks it by a factor of ten,
noise does not. ``/healthz`` latency is reported by bench/inbound.py, not asserted here (no timed assertions).
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import httpx
import pytest
from support.hostile import GatewayProcess, HealthPoller, percentile, post_all, worst_cases

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")

PEAK_BOUND_MIB = 300
EXPECTED = {
    "empty-objects-input": (413, "request_too_large"),
    "empty-objects-chat": (413, "request_too_large"),
    "metadata-keys": (413, "request_too_large"),
    "numbers": (413, "request_too_large"),
    "deep-nesting": (400, "json_too_deep"),
    "invalid-utf8-at-end": (400, "invalid_json"),
}


def test_worst_case_bodies_at_once_stay_in_bounded_memory(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path)
    try:
        start = gateway.memory()["VmRSS"]
        cases = worst_cases()
        poller = HealthPoller(gateway.url)
        poller.start()
        results = post_all(gateway.url, cases, copies=2)  # 12 bodies of 30 MiB at once
        poller.stop()
        peak = gateway.memory()["VmHWM"]
        for name, replies in results.items():
            assert replies == [EXPECTED[name]] * 2, (name, replies)
        assert not poller.failures, poller.failures[:5]
        print(f"\nrobustness: RSS {start:.0f} MiB at start, peak {peak:.0f} MiB; /healthz p99 "
              f"{percentile(poller.latencies, 99) * 1000:.0f} ms over {len(poller.latencies)} polls")
        assert peak < PEAK_BOUND_MIB, f"peak RSS {peak:.0f} MiB (start {start:.0f} MiB)"
    finally:
        gateway.stop()


def _half_send(port: int, outcome: list[str]) -> None:
    """One slow client: headers and half of a 1 MiB body, then nothing; records how the server ended it."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 1048576\r\n\r\n" + b'{"input": "' + b"x" * 500_000)
            data = b""
            while chunk := sock.recv(65536):  # until the server closes it
                data += chunk
            outcome.append(data.split(b"\r\n", 1)[0].decode())
    except ConnectionResetError:
        # Paused by the pending-body budget, this client's bytes were still unread when the server closed.
        outcome.append("reset")
    except OSError as exc:
        outcome.append(repr(exc))


def test_half_sent_bodies_are_bounded_and_released(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path, GATEWAY_BODY_READ_TIMEOUT="2")
    try:
        start = gateway.memory()["VmRSS"]
        outcome: list[str] = []
        clients = [threading.Thread(target=_half_send, args=(gateway.port, outcome)) for _ in range(300)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=120)
        # Every connection was ended by the server (none left hanging): 408, or a reset of a paused one.
        assert len(outcome) == 300 and set(outcome) <= {"HTTP/1.1 408 Request Timeout", "reset"}, set(outcome)
        assert outcome.count("HTTP/1.1 408 Request Timeout") > 0
        assert httpx.get(f"{gateway.url}/healthz", timeout=30).status_code == 200
        memory = gateway.memory()
        print(f"\nhalf-sent bodies: {outcome.count('reset')} reset; RSS {start:.0f} MiB at start, peak "
              f"{memory['VmHWM']:.0f} MiB, after {memory['VmRSS']:.0f} MiB")
        # 300 x 500 kB is 150 MB of body (the peak was 150 MB above the start without a budget). What the gateway
        # buffers is max_pending_body_bytes (32 MiB) plus uvicorn's per-connection read buffers (about 45 MB).
        assert memory["VmHWM"] - start < 32 + 75, memory
    finally:
        gateway.stop()
