"""``GET /metrics``: known traffic through the real gateway and emulator moves exactly the expected series.

Counters are process-wide (Prometheus' default registry), so every check is a difference between two
scrapes around the traffic this test sends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import DEPLOYMENT, Emulator, gateway_settings
from prometheus_client.parser import text_string_to_metric_families
from support.servers import running

from app.api.factory import create_app

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Series:
    reply = httpx.get(f"{url}/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    series: Series = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            series[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return series


def value(series: Series, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, lbls), v in series.items() if n == name and wanted <= lbls)


@pytest.fixture(scope="module")
def gateway(emulator: Emulator) -> Iterator[str]:
    settings = gateway_settings(emulator.url, num_concurrent_requests=1)
    with running(create_app(settings)) as url:
        yield url


def test_metrics_move_as_the_traffic_says(gateway: str, clean_emulator: Emulator) -> None:
    before = scrape(gateway)
    usage = {
        "prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140,
        "prompt_tokens_details": {"cached_tokens": 64}, "completion_tokens_details": {"reasoning_tokens": 16},
    }
    clean_emulator.script(
        {"message": {"content": "one"}, "usage": usage},
        {"message": {"content": "two"}, "usage": usage},
        {"status": 503, "body": {"error": {"code": "503", "message": "busy"}}},
        {"status": 429, "body": {"error": {"code": "429", "message": "slow"}}, "headers": {"retry-after-ms": "0"}},
    )
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=gateway, timeout=30) as http:
        assert http.post("/v1/responses", json={"model": "m", "input": "a"}).status_code == 200
        assert http.post("/v1/chat/completions", json=chat).status_code == 200
        # Azure fails, then throttles: what the client sees depends on the retry policy; the attempts
        # counter records what Azure answered either way.
        first_error = http.post("/v1/chat/completions", json=chat).status_code
        assert first_error >= 400
        http.post("/v1/chat/completions", json=chat)
        # A bad request never reaches Azure.
        assert http.post("/v1/responses", json={"model": "m", "input": "a", "nonsense": 1}).status_code == 400
        assert http.get("/healthz").status_code == 200
    after = scrape(gateway)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Requests by route template and status (Litestar's Prometheus plugin); never the raw path.
    assert delta("gateway_requests_total", path="/v1/responses", status_code="200") == 1
    assert delta("gateway_requests_total", path="/v1/chat/completions", status_code="200") == 1
    assert delta("gateway_requests_total", path="/v1/responses", status_code="400") == 1
    assert delta("gateway_requests_total", path="/healthz", status_code="200") == 1
    assert delta("gateway_request_duration_seconds_count", path="/v1/responses") == 2
    # Tokens by deployment and kind: two scripted answers' worth.
    assert delta("gateway_tokens_total", deployment=DEPLOYMENT, kind="input") == 200
    assert delta("gateway_tokens_total", deployment=DEPLOYMENT, kind="output") == 80
    assert delta("gateway_tokens_total", deployment=DEPLOYMENT, kind="cached") == 128
    assert delta("gateway_tokens_total", deployment=DEPLOYMENT, kind="reasoning") == 32
    # Every call Azure answered, by outcome; the 400 never went out.
    received = clean_emulator.requests()
    statuses = [r["status"] for r in received]
    assert delta("gateway_upstream_attempts_total") == len(received)
    assert delta("gateway_upstream_attempts_total", outcome="success") == statuses.count(200)
    assert delta("gateway_upstream_attempts_total", outcome="server_error") == statuses.count(503) == 1
    assert delta("gateway_upstream_attempts_total", outcome="throttled") == statuses.count(429) == 1
    retried = len(received) - 4  # four client requests reached Azure
    assert delta("gateway_upstream_retries_total") == retried
    # The latency split, once per request that reached a route.
    assert delta("gateway_upstream_duration_seconds_count", route="/v1/responses") == 2
    assert delta("gateway_overhead_duration_seconds_count", route="/v1/chat/completions") == 3
    assert delta("gateway_upstream_duration_seconds_sum", route="/v1/chat/completions") > 0
    assert value(after, "gateway_upstream_in_flight") == 0
    # No label with unbounded values: no request ids, no raw paths beyond the routes.
    labels = {name for (metric, lbls) in after if metric.startswith("gateway_") for name, _ in lbls}
    bounded = {"method", "path", "status_code", "app_name", "route", "outcome", "reason", "deployment", "kind", "le"}
    assert labels <= bounded


def test_open_streams_in_flight_and_slot_wait(gateway: str, clean_emulator: Emulator) -> None:
    """A stream held open by an emulator gate: one open stream, one slot in use, a second request waits."""
    before = scrape(gateway)
    clean_emulator.script({"message": {"content": "held"}, "stream": {"gate": "metrics"}})
    done = threading.Event()
    result: dict[str, str] = {}

    def stream() -> None:
        with httpx.stream(
            "POST", f"{gateway}/v1/responses", json={"model": "m", "input": "x", "stream": True}, timeout=30
        ) as reply:
            result["body"] = reply.read().decode()
        done.set()

    worker = threading.Thread(target=stream)
    worker.start()
    deadline = time.monotonic() + 10
    while value(scrape(gateway), "gateway_open_streams", route="/v1/responses") < 1:
        assert time.monotonic() < deadline, "the stream never opened"
        time.sleep(0.05)
    during = scrape(gateway)
    assert value(during, "gateway_upstream_in_flight") == 1  # num_concurrent_requests = 1, held by the stream
    # A second request has to wait for that slot.
    waiter = threading.Thread(
        target=lambda: httpx.post(f"{gateway}/v1/responses", json={"model": "m", "input": "y"}, timeout=30)
    )
    waiter.start()
    while value(scrape(gateway), "gateway_upstream_waiting") < 1:
        assert time.monotonic() < deadline, "the second request never queued"
        time.sleep(0.05)
    time.sleep(0.2)
    httpx.post(f"{clean_emulator.url}/_emulator/gates/metrics").raise_for_status()
    assert done.wait(10)
    worker.join(10)
    waiter.join(10)
    assert "response.completed" in result["body"]
    after = scrape(gateway)
    assert value(after, "gateway_open_streams") == 0
    assert value(after, "gateway_upstream_in_flight") == 0 and value(after, "gateway_upstream_waiting") == 0
    wait = "gateway_upstream_slot_wait_seconds"
    waits = value(after, f"{wait}_count") - value(before, f"{wait}_count")
    waited = value(after, f"{wait}_sum") - value(before, f"{wait}_sum")
    assert waits == 1 and waited >= 0.2
    # The stream's usage (the translator asks Azure for it) is counted too.
    output = "gateway_tokens_total"
    assert value(after, output, kind="output") > value(before, output, kind="output")


def test_retries_are_counted_by_reason(emulator: Emulator, clean_emulator: Emulator) -> None:
    settings = gateway_settings(emulator.url, max_retries=2, max_retry_wait=0.0)
    with running(create_app(settings)) as url:
        before = scrape(url)
        clean_emulator.script(
            {"status": 503, "body": {"error": {"code": "503", "message": "busy"}}},
            {"status": 429, "body": {"error": {"code": "429", "message": "slow"}}, "headers": {"retry-after-ms": "0"}},
        )
        chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        reply = httpx.post(f"{url}/v1/chat/completions", json=chat, headers={"x-request-id": "req-retry"}, timeout=30)
        assert reply.status_code == 200, reply.text  # third attempt answered
        after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert [r["status"] for r in clean_emulator.requests()] == [503, 429, 200]
    assert delta("gateway_upstream_attempts_total") == 3
    assert delta("gateway_upstream_retries_total", reason="server_error") == 1
    assert delta("gateway_upstream_retries_total", reason="throttled") == 1
    assert delta("gateway_upstream_retries_total") == 2
    assert delta("gateway_requests_total", path="/v1/chat/completions", status_code="200") == 1
