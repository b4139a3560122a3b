"""A unit of work outside HTTP (a background run, a WebSocket turn) is measured and logged like a request."""

from __future__ import annotations

from structlog.testing import capture_logs

from app.models import generated as m
from app.telemetry import observe


def test_a_unit_of_work_without_an_http_scope_is_recorded_and_logged_once() -> None:
    with capture_logs() as logs, observe.unit_of_work("/v1/responses", request_id="run_1") as record:
        assert observe.current() is record
        observe.note_attempt("success", "apim-1")
        observe.count_usage(m.CompletionUsage(prompt_tokens=3, completion_tokens=2, total_tokens=5), "dep")
        record.status = 200
    assert observe.current() is None
    lines = [line for line in logs if line["event"] == "request"]
    assert len(lines) == 1, logs
    line = lines[0]
    assert line["request_id"] == "run_1"
    assert line["route"] == "/v1/responses"
    assert line["upstream_attempts"] == 1
    assert line["apim_request_id"] == "apim-1"
    assert (line["input_tokens"], line["output_tokens"]) == (3, 2)


def test_a_quiet_unit_logs_only_when_it_failed() -> None:
    with capture_logs() as logs:
        with observe.unit_of_work("/v1/responses", log=False) as ok:
            ok.status = 200
        with observe.unit_of_work("/v1/responses", log=False) as failed:
            failed.status = 502
    assert [line["status"] for line in logs if line["event"] == "request"] == [502]
