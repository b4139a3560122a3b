"""Helpers for the background-response tests: poll a response to a status, hold an Azure call at a gate."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import openai
from conftest import Emulator


def wait_for(client: openai.OpenAI, response_id: str, *statuses: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = client.responses.retrieve(response_id)
        if got.status in statuses:
            return got
        assert time.monotonic() < deadline, f"{response_id} still {got.status}, waiting for {statuses}"
        time.sleep(0.05)


def gated(emulator: Emulator, text: str) -> str:
    """Script one reply whose stream waits at a gate; returns the gate's name."""
    gate = f"g-{uuid.uuid4().hex[:8]}"
    emulator.script({"message": {"content": text}, "stream": {"gate": gate}})
    return gate


def open_gate(emulator: Emulator, gate: str) -> None:
    assert httpx.post(f"{emulator.url}/_emulator/gates/{gate}").status_code == 204
