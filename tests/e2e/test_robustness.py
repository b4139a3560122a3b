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
import time
from pathlib import Path

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


def test_half_sent_bodies_are_released(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path, GATEWAY_BODY_READ_TIMEOUT="2")
    clients: list[socket.socket] = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=60)
            sock.sendall(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 1048576\r\n\r\n" + b'{"input": "' + b"x" * 500_000)
            clients.append(sock)
        replies = []
        for sock in clients:
            data = b""
            while chunk := sock.recv(65536):  # until the server closes it
                data += chunk
            replies.append(data.split(b"\r\n", 1)[0])
        assert replies == [b"HTTP/1.1 408 Request Timeout"] * 300
        time.sleep(0.5)
        memory = gateway.memory()
        print(f"\nhalf-sent bodies: peak {memory['VmHWM']:.0f} MiB, after {memory['VmRSS']:.0f} MiB")
        assert memory["VmHWM"] < PEAK_BOUND_MIB
    finally:
        for sock in clients:
            sock.close()
        gateway.stop()
