"""Logging set-up: building many apps in one process (as the test suite does) leaves one listener thread."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from logging.handlers import QueueListener

import pytest
from litestar.testing import TestClient

from app.api.factory import create_app
from app.settings.load import Secret, Settings


def _listener_threads() -> list[threading.Thread]:
    """Live threads running a logging ``QueueListener`` (Litestar's queue_listener handler starts one)."""
    threads = []
    for thread in threading.enumerate():
        target = getattr(thread, "_target", None)  # a QueueListener's thread runs its bound _monitor
        if thread.is_alive() and isinstance(getattr(target, "__self__", None), QueueListener):
            threads.append(thread)
    return threads


def _settings() -> Settings:
    # Nothing is sent upstream: the app is only started and shut down.
    return Settings(
        openai_base_url="http://127.0.0.1:9",
        openai_api_key=Secret("unit-test-key"),
        openai_model="gpt-4o-mini",
        default_query={"api-version": "2024-10-21"},
        store_url="memory",
    )


def test_repeated_apps_do_not_accumulate_logging_listener_threads() -> None:
    with TestClient(create_app(_settings())) as client:
        assert client.get("/healthz").status_code == 200
    before = len(_listener_threads())
    assert before >= 1  # the live configuration's listener: the thread this test counts is the right one
    for _ in range(8):
        with TestClient(create_app(_settings())) as client:
            assert client.get("/healthz").status_code == 200
    assert len(_listener_threads()) == before


def test_lines_queued_before_the_next_app_replaces_logging_are_all_written(monkeypatch: pytest.MonkeyPatch) -> None:
    # The console handler writes to the sys.stderr of the moment the configuration is applied. Not capfd's: it is
    # closed after the test, and logging stays bound to it until the next app is built.
    stderr = io.StringIO()
    logger = logging.getLogger("app.test_logs")
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", stderr)
        create_app(_settings())
        for n in range(50):
            logger.warning("queued line %d for unit-test-key", n)
        create_app(_settings())  # stops the listener the lines were queued to, once it has written them
        written = stderr.getvalue()
    create_app(_settings())  # logging back on the real stderr for the tests that follow
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines if line.get("logger") == "app.test_logs"]
    assert events == [f"queued line {n} for **********" for n in range(50)]
