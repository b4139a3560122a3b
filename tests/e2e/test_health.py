"""``/healthz`` and ``/readyz``: liveness, readiness, the optional Azure probe, and the flip during a drain."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from conftest import Emulator, gateway_settings
from support.servers import free_port, running
from test_cli import clean_env

from app.api.factory import create_app
from app.settings.load import Secret


def test_healthz_and_readyz_answer_without_auth(http: httpx.Client) -> None:
    live = http.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    assert ready.headers["cache-control"] == "no-store"


def test_probes_need_no_inbound_key_while_v1_does(emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, gateway_api_keys=(Secret("inbound-key-123"),))
    with running(create_app(settings)) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert httpx.get(f"{url}/metrics").status_code == 200
        assert httpx.post(f"{url}/v1/responses", json={"model": "m", "input": "x"}).status_code == 401


def test_readyz_does_not_call_azure_by_default(http: httpx.Client, clean_emulator: Emulator) -> None:
    for _ in range(3):
        assert http.get("/readyz").status_code == 200
    assert clean_emulator.requests() == []


def test_readiness_probe_upstream_is_cached(emulator: Emulator, clean_emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, readiness_probe_upstream=True, readiness_probe_ttl=1.0)
    with running(create_app(settings)) as url:
        first = httpx.get(f"{url}/readyz")
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "ready" and first.json()["upstream"].startswith("HTTP 400 from 127.0.0.1")
        for _ in range(5):
            assert httpx.get(f"{url}/readyz").status_code == 200
        probes = clean_emulator.requests()
        # One real call for six probes; and it cost no tokens: Azure (the emulator) rejected the empty body.
        assert len(probes) == 1 and probes[0]["status"] == 400 and probes[0]["body"]["messages"] == []
        time.sleep(1.1)
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert len(clean_emulator.requests()) == 2


def test_readiness_probe_reports_bad_credentials(emulator: Emulator, clean_emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, readiness_probe_upstream=True, openai_api_key=Secret("wrong-key"))
    with running(create_app(settings)) as url:
        reply = httpx.get(f"{url}/readyz")
        live = httpx.get(f"{url}/healthz")
    assert reply.status_code == 503
    assert reply.json() == {
        "status": "upstream_unavailable",
        "upstream": "HTTP 401 from 127.0.0.1: the credentials were rejected",
    }
    assert "wrong-key" not in reply.text
    assert live.status_code == 200  # alive all the same: a restart would not fix Azure


def test_readiness_probe_reports_an_unreachable_azure(emulator: Emulator) -> None:
    settings = gateway_settings(f"http://127.0.0.1:{free_port()}", readiness_probe_upstream=True)
    with running(create_app(settings)) as url:
        reply = httpx.get(f"{url}/readyz")
    assert reply.status_code == 503
    assert "unreachable" in reply.json()["upstream"]


def test_readyz_flips_to_503_during_the_drain(tmp_path: Path) -> None:
    """SIGTERM: /readyz answers 503 at once while requests are still served, then the port closes."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(GATEWAY_SHUTDOWN_DELAY="2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--emulator", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.1)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}

        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.3)
        draining = httpx.get(f"{base}/readyz", timeout=5)
        assert draining.status_code == 503 and draining.json() == {"status": "draining"}
        # Still serving everything else while the load balancer takes it out of rotation.
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        chat = httpx.post(
            f"{base}/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "still there?"}]},
            timeout=10,
        )
        assert chat.status_code == 200, chat.text

        proc.wait(timeout=20)
        assert time.monotonic() - signalled >= 1.9  # the port stayed open for shutdown_delay
        assert proc.returncode in (0, -signal.SIGTERM), proc.returncode
        try:
            httpx.get(f"{base}/readyz", timeout=2)
            raise AssertionError("the port is still open after the gateway exited")
        except httpx.TransportError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr
