"""Retries, error mapping, limits and request ids, end to end: client -> real gateway -> real emulator.

Both servers run under uvicorn on loopback; faults are queued through the emulator's admin API
(``POST /_emulator/faults``), exactly as a manual test would. Every test asserts what the client sees
(status, error body, headers), how many attempts reached "Azure" (the emulator records each one), and that
nothing is left behind (no upstream slot held, nobody queued, no scripted fault left unused).
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai
import pytest
from support.servers import running

from app.api.factory import create_app
from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from app.service.azure import Gateway
from app.settings.load import Secret, Settings

AZURE_KEY = "azure-secret-key-0123456789"
DEPLOYMENT = "gpt-4o-mini"
CHAT_BODY: dict[str, Any] = {"model": "x", "messages": [{"role": "user", "content": "hello"}]}
RESPONSES_BODY: dict[str, Any] = {"model": "x", "input": "hello"}
ROUTES = [("/v1/chat/completions", CHAT_BODY), ("/v1/responses", RESPONSES_BODY)]


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState()
    app = create_emulator_app(EmulatorConfig(api_key=AZURE_KEY, deployments=(DEPLOYMENT,)), state=state)
    with running(app) as url:
        yield url, state


@pytest.fixture
def state(emulator: tuple[str, EmulatorState]) -> Iterator[EmulatorState]:
    emulator[1].clear()
    yield emulator[1]
    assert emulator[1].pending == [], "a queued fault was never used"
    emulator[1].clear()


def settings_for(url: str, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "store_url": "memory",  # no store file in the work tree
        "openai_base_url": url,
        "openai_api_key": Secret(AZURE_KEY),
        "openai_model": DEPLOYMENT,
        "default_query": {"api-version": "2024-10-21"},
        "max_retries": 3,
        "max_retry_wait": 0.02,  # keep backoff short; tests of the wait itself raise it
        "read_timeout": 5.0,
    }
    fields.update(overrides)
    return Settings(**fields)


@contextmanager
def gateway(emulator: tuple[str, EmulatorState], **overrides: Any) -> Iterator[tuple[httpx.Client, Gateway]]:
    app = create_app(settings_for(emulator[0], **overrides))
    gw = app.state["gateway"]
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, gw
        assert_settled(gw)


def assert_settled(gw: Gateway, within: float = 5.0) -> None:
    """No upstream slot held and nobody queued once the work is done (a leaked slot would stay > 0)."""
    deadline = time.monotonic() + within
    while gw.client.in_flight or gw.client.queued:
        assert time.monotonic() < deadline, f"in_flight={gw.client.in_flight} queued={gw.client.queued}"
        time.sleep(0.02)


def faults(client_or_url: str, *entries: dict[str, Any]) -> None:
    response = httpx.post(f"{client_or_url}/_emulator/faults", json={"faults": list(entries)})
    assert response.status_code == 200, response.text


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"message", "type", "param", "code"} <= set(body["error"])
    return dict(body["error"])


def attempts(state: EmulatorState) -> int:
    return len(state.requests)


# Retries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_429_with_retry_after_ms_is_retried_after_the_hinted_wait(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any]
) -> None:
    faults(emulator[0], {"fault": "throttle", "retry_after_ms": 300, "count": 2})
    with gateway(emulator, max_retry_wait=5) as (client, _):
        started = time.monotonic()
        response = client.post(path, json=body)
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert attempts(state) == 3
    assert [r.status for r in state.requests] == [429, 429, 200]
    assert elapsed >= 0.6  # two waits of 300 ms, taken from retry-after-ms


def test_hinted_wait_is_capped_by_max_retry_wait(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "throttle", "retry_after": "30"})
    with gateway(emulator, max_retry_wait=0.1) as (client, _):
        started = time.monotonic()
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 200
    assert time.monotonic() - started < 5
    assert attempts(state) == 2


def test_429_after_retries_run_out_is_a_429_with_azure_hints(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    faults(emulator[0], {"fault": "throttle", "retry_after": "7", "count": 3})
    with gateway(emulator, max_retries=2) as (client, _):
        # Through the openai SDK, as users would see it (its own retries off).
        sdk = openai.OpenAI(base_url=f"{str(client.base_url).rstrip('/')}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.RateLimitError) as info:
            sdk.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
    response = info.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
    assert response.headers["x-request-id"]
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "429"
    assert "exceeded token rate limit" in error["message"]
    assert attempts(state) == 3


def test_exhausted_429_with_retry_after_ms_gets_whole_second_retry_after(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    faults(emulator[0], {"fault": "throttle", "retry_after_ms": 1500, "count": 1})
    with gateway(emulator, max_retries=0) as (client, _):
        response = client.post("/v1/responses", json=RESPONSES_BODY)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert attempts(state) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_then_succeeds(emulator: tuple[str, EmulatorState], state: EmulatorState, status: int) -> None:
    faults(emulator[0], {"fault": "server_error", "status": status, "count": 2})
    with gateway(emulator) as (client, _):
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 200
    assert [r.status for r in state.requests] == [status, status, 200]


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_after_retries_run_out_is_502(
    emulator: tuple[str, EmulatorState], state: EmulatorState, status: int
) -> None:
    faults(emulator[0], {"fault": "server_error", "status": status, "count": 4})
    with gateway(emulator, max_retries=3) as (client, _):
        response = client.post("/v1/responses", json=RESPONSES_BODY)
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_error" and error["type"] == "server_error"
    assert f"HTTP {status} (after 4 attempts)" in error["message"]
    assert attempts(state) == 4


def test_delay_past_read_timeout_is_retried_then_504(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 1.5, "count": 3})
    with gateway(emulator, read_timeout=0.3, max_retries=2) as (client, _):
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 504
    error = error_of(response)
    assert error["code"] == "upstream_timeout"
    assert "read timeout" in error["message"] and "after 3 attempts" in error["message"]
    assert attempts(state) == 3


def test_one_slow_answer_then_a_fast_one(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 1.0})
    with gateway(emulator, read_timeout=0.3) as (client, _):
        response = client.post("/v1/responses", json=RESPONSES_BODY)
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert attempts(state) == 2


def test_request_timeout_bounds_the_whole_request(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 3})
    with gateway(emulator, request_timeout=0.5, read_timeout=10) as (client, _):
        started = time.monotonic()
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
        elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert "request_timeout (0.5s)" in error_of(response)["message"]
    assert elapsed < 2
    assert attempts(state) == 1


@pytest.mark.parametrize("after_bytes", [0, 40])
def test_connection_reset_is_retried(
    emulator: tuple[str, EmulatorState], state: EmulatorState, after_bytes: int
) -> None:
    faults(emulator[0], {"fault": "reset", "after_bytes": after_bytes})
    with gateway(emulator) as (client, _):
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"
    assert attempts(state) == 2
    assert state.requests[0].status is None  # the emulator reset it


def test_resets_until_retries_run_out_is_502(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "reset", "count": 3})
    with gateway(emulator, max_retries=2) as (client, _):
        response = client.post("/v1/responses", json=RESPONSES_BODY)
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_unavailable"
    assert "after 3 attempts" in error["message"]
    assert attempts(state) == 3


def test_connect_error_is_retried_then_502() -> None:
    from support.servers import free_port

    app = create_app(settings_for(f"http://127.0.0.1:{free_port()}", max_retries=2))
    with running(app) as url:
        response = httpx.post(f"{url}/v1/chat/completions", json=CHAT_BODY, timeout=30)
    assert response.status_code == 502
    assert "ConnectError" in error_of(response)["message"]
    assert "after 3 attempts" in error_of(response)["message"]
    assert_settled(app.state["gateway"])


def test_malformed_json_from_azure_is_502_not_retried(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    for path, body in ROUTES:
        faults(emulator[0], {"fault": "malformed"})
        with gateway(emulator) as (client, _):
            response = client.post(path, json=body)
        assert response.status_code == 502, path
        assert error_of(response)["code"] == "upstream_error"
        assert "could not read" in error_of(response)["message"]
    assert attempts(state) == 2


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_content_filter_is_400_with_the_filter_results(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any]
) -> None:
    faults(emulator[0], {"fault": "content_filter"})
    with gateway(emulator) as (client, _):
        response = client.post(path, json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "content_filter"
    assert error["param"] == "prompt"
    assert error["type"] == "invalid_request_error"
    assert "content management policy" in error["message"]
    inner = error["innererror"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_result"]["violence"] == {"filtered": True, "severity": "medium"}
    assert attempts(state) == 1


def test_azure_400_passes_message_and_param_and_is_not_retried(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    azure_400 = {
        "error": {
            "message": "Bad temperature.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_value",
        }
    }
    httpx.post(f"{emulator[0]}/_emulator/script", json={"replies": [{"status": 400, "body": azure_400}]})
    with gateway(emulator) as (client, _):
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 400
    assert error_of(response) == {
        "message": "Bad temperature.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "invalid_value",
    }
    assert attempts(state) == 1


def test_rejected_azure_key_is_502_not_401(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    with gateway(emulator, openai_api_key=Secret("wrong-key")) as (client, _):
        response = client.post("/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "upstream_auth_failed"
    assert "rejected the gateway's credentials" in error["message"]
    assert attempts(state) == 1


def test_missing_deployment_is_502_naming_it(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    with gateway(emulator, openai_model="no-such-deployment") as (client, _):
        response = client.post("/v1/responses", json=RESPONSES_BODY)
    assert response.status_code == 502
    message = error_of(response)["message"]
    assert "no-such-deployment" in message and emulator[0] in message
    assert attempts(state) == 1


# Client errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
def test_invalid_json_wrong_type_and_too_large(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str
) -> None:
    with gateway(emulator, max_body_bytes=4096) as (client, _):
        bad_json = client.post(path, content=b'{"model": "x", ', headers={"content-type": "application/json"})
        assert bad_json.status_code == 400
        assert error_of(bad_json)["code"] == "invalid_json"

        body = (
            {"model": "x", "messages": [{"role": "user", "content": 5}]}
            if "chat" in path
            else {"model": "x", "input": "hi", "temperature": "hot"}
        )
        wrong = client.post(path, json=body)
        assert wrong.status_code == 400
        assert error_of(wrong)["param"] == ("messages[0].content" if "chat" in path else "temperature")

        big = client.post(
            path, content=b'{"model": "' + b"x" * 10_000 + b'"}', headers={"content-type": "application/json"}
        )
        assert big.status_code == 413
        assert error_of(big)["type"] == "invalid_request_error"
        assert big.headers["x-request-id"]
    assert attempts(state) == 0


# Limits ----------------------------------------------------------------------------------------------------


def test_full_queue_is_503_with_retry_after(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 1.0, "count": 2})
    with (
        gateway(emulator, num_concurrent_requests=1, max_queue=1, max_queue_wait=10) as (client, gw),
        concurrent.futures.ThreadPoolExecutor(3) as pool,
    ):
        first = pool.submit(client.post, "/v1/chat/completions", json=CHAT_BODY)
        _wait_for(lambda: gw.client.in_flight == 1)
        second = pool.submit(client.post, "/v1/chat/completions", json=CHAT_BODY)
        _wait_for(lambda: gw.client.queued == 1)
        third = client.post("/v1/chat/completions", json=CHAT_BODY)
        assert third.status_code == 503
        assert third.headers["retry-after"] == "1"
        assert error_of(third)["code"] == "gateway_busy"
        assert first.result().status_code == 200 and second.result().status_code == 200
    assert attempts(state) == 2


def test_queue_wait_timeout_is_503(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 1.0})
    with (
        gateway(emulator, num_concurrent_requests=1, max_queue=4, max_queue_wait=0.2) as (client, gw),
        concurrent.futures.ThreadPoolExecutor(1) as pool,
    ):
        first = pool.submit(client.post, "/v1/responses", json=RESPONSES_BODY)
        _wait_for(lambda: gw.client.in_flight == 1)
        started = time.monotonic()
        second = client.post("/v1/responses", json=RESPONSES_BODY)
        assert time.monotonic() - started < 0.9
        assert second.status_code == 503
        assert int(second.headers["retry-after"]) >= 1
        assert "within 0.2s" in error_of(second)["message"]
        assert first.result().status_code == 200
    assert attempts(state) == 1


def test_concurrency_cap_holds_under_a_burst(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 0.2, "count": 12})
    peak = 0
    with (
        gateway(emulator, num_concurrent_requests=3, max_queue=100) as (client, gw),
        concurrent.futures.ThreadPoolExecutor(12) as pool,
    ):
        futures = [pool.submit(client.post, "/v1/chat/completions", json=CHAT_BODY) for _ in range(12)]
        while not all(f.done() for f in futures):
            peak = max(peak, gw.client.in_flight)
            time.sleep(0.005)
        assert [f.result().status_code for f in futures] == [200] * 12
    assert peak <= 3
    assert attempts(state) == 12


def test_client_that_gives_up_leaves_no_slot_behind(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "delay", "seconds": 0.6, "count": 2})
    with gateway(emulator, num_concurrent_requests=1) as (client, gw):
        for _ in range(2):
            with pytest.raises(httpx.ReadTimeout):
                client.post("/v1/chat/completions", json=CHAT_BODY, timeout=0.1)
        assert_settled(gw)
        assert client.post("/v1/chat/completions", json=CHAT_BODY).status_code == 200


def _wait_for(predicate: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


# Request ids -----------------------------------------------------------------------------------------------


def test_every_response_has_a_request_id_and_a_clients_own_is_kept(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    faults(emulator[0], {"fault": "server_error", "count": 4})
    with gateway(emulator) as (client, _):
        responses = [
            client.post("/v1/chat/completions", json=CHAT_BODY),  # 502
            client.post("/v1/chat/completions", json=CHAT_BODY),  # 200
            client.post("/v1/responses", content=b"nope", headers={"content-type": "application/json"}),  # 400
            client.get("/v1/nope"),  # 404 from the router
            client.get("/v1/responses"),  # 405
            client.get("/openapi.json"),
        ]
        assert [r.status_code for r in responses] == [502, 200, 400, 404, 405, 200]
        ids = [r.headers["x-request-id"] for r in responses]
        assert len(set(ids)) == len(ids) and all(ids)
        own = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-request-id": "client-abc.123"})
        assert own.headers["x-request-id"] == "client-abc.123"
        evil = client.get("/v1/nope", headers={"x-request-id": "a b\tc" + "x" * 200})
        assert evil.headers["x-request-id"].startswith("req_")
        assert len(evil.headers.get_list("x-request-id")) == 1


class Capture(logging.Handler):
    """Collects records from the named loggers, attached after uvicorn and Litestar configured logging."""

    def __init__(self, *names: str) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.names = names or ("",)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Capture:
        self._levels = {}
        for name in self.names:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            logging.getLogger(name).removeHandler(self)
            logging.getLogger(name).setLevel(self._levels[name])


def test_access_log_ties_request_id_to_apim_request_id(
    emulator: tuple[str, EmulatorState], state: EmulatorState
) -> None:
    faults(emulator[0], {"fault": "server_error", "status": 503})
    with gateway(emulator) as (client, _), Capture("app.access") as logs:
        response = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-request-id": "trace-42"})
        assert response.status_code == 200

        def access_lines() -> list[dict[str, Any]]:
            # The request line is a structlog event (app.telemetry.observe): its fields travel as the record's msg.
            events = [r.msg for r in logs.records if isinstance(r.msg, dict)]
            return [e for e in events if e.get("event") == "request" and e.get("request_id") == "trace-42"]

        _wait_for(access_lines)  # logged once the response has gone out
    lines = access_lines()
    assert len(lines) == 1
    assert lines[0]["upstream_attempts"] == 2 and lines[0]["status"] == 200
    apim = lines[0]["apim_request_ids"]
    assert len(apim) == 2 and all(len(a) == 36 for a in apim) and lines[0]["apim_request_id"] == apim[-1]


def test_access_log_off_keeps_only_failed_requests(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    """``access_log = false`` (for throughput) still logs every request that failed on the gateway's side."""
    faults(emulator[0], {"fault": "server_error", "status": 500}, {"fault": "server_error", "status": 500})
    with gateway(emulator, access_log=False, max_retries=1) as (client, _), Capture("app.access") as logs:
        failed = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-request-id": "failed-1"})
        ok = client.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-request-id": "ok-1"})
        assert (failed.status_code, ok.status_code) == (502, 200)

        def lines() -> list[dict[str, Any]]:
            return [r.msg for r in logs.records if isinstance(r.msg, dict) and r.msg.get("event") == "request"]

        _wait_for(lines)
        time.sleep(0.2)  # time for a wrongly written "ok-1" line to show up too
    assert [line["request_id"] for line in lines()] == ["failed-1"]
    # The one line says what went wrong: no separate error line is needed to find out.
    assert lines()[0]["error_code"] == "upstream_error" and "HTTP 500" in lines()[0]["error"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
def test_odd_bodies_are_400_never_500(emulator: tuple[str, EmulatorState], state: EmulatorState, path: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    bodies = [b"", b"null", b"[]", b'"x"', b"\xff\xfe", deep, b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}"]
    with gateway(emulator) as (client, _):
        for body in bodies:
            response = client.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body[:20], response.text)
            error = error_of(response)
            assert error["type"] == "invalid_request_error" and error["message"]
        empty = client.post(path, content=b"", headers={"content-type": "application/json"})
        assert error_of(empty)["message"] == "The request body is empty: send a JSON object."
    assert attempts(state) == 0


# Streams: the pre-body phase is retried, nothing after the first byte is --------------------------------


@pytest.mark.parametrize(("path", "body"), ROUTES)
@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "throttle", "retry_after_ms": 50},
        {"fault": "server_error", "status": 503},
        {"fault": "reset"},
    ],
)
def test_stream_open_is_retried_before_any_byte_is_sent(
    emulator: tuple[str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any], fault: dict[str, Any]
) -> None:
    faults(emulator[0], fault)
    with gateway(emulator) as (client, _):
        response = client.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"]
    assert b"[DONE]" in response.content or b"response.completed" in response.content
    assert attempts(state) == 2


def test_stream_429_after_retries_is_a_json_429(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    faults(emulator[0], {"fault": "throttle", "retry_after": "3", "count": 2})
    with gateway(emulator, max_retries=1) as (client, _):
        response = client.post("/v1/chat/completions", json={**CHAT_BODY, "stream": True})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert error_of(response)["type"] == "rate_limit_error"
    assert attempts(state) == 2


def test_mid_stream_drop_is_not_retried(emulator: tuple[str, EmulatorState], state: EmulatorState) -> None:
    script = {
        "replies": [{"message": {"content": "one two three four"}, "stream": {"fail_after": 1, "failure": "drop"}}]
    }
    httpx.post(f"{emulator[0]}/_emulator/script", json=script)
    with gateway(emulator) as (client, _):
        response = client.post("/v1/responses", json={**RESPONSES_BODY, "stream": True})
    assert response.status_code == 200  # the stream had started: the failure is reported inside it
    assert b"response.failed" in response.content
    assert attempts(state) == 1
