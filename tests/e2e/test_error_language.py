"""Errors speak the client's language, end to end (#13): real gateway, real emulator, the status, param and
code a client sees, and whether anything reached Azure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from support.servers import running

from app.api.factory import create_app
from app.emulator import create_emulator_app
from app.emulator.app import emulator_state
from app.emulator.state import EmulatorState
from app.settings.load import Secret, Settings

CHAT: dict[str, Any] = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}
RESPONSES: dict[str, Any] = {"model": "x", "input": "hi"}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str, EmulatorState]]:
    emulator = create_emulator_app()
    with running(emulator) as emulator_url:
        settings = Settings(
            openai_base_url=emulator_url,
            openai_api_key=Secret("emulator-key"),
            openai_model="gpt-4o-mini",
            default_query={"api-version": "2024-10-21"},
            max_retries=0,
            max_body_bytes=4096,
        )
        with running(create_app(settings)) as gateway_url:
            yield emulator_url, gateway_url, emulator_state(emulator)


@pytest.fixture
def state(stack: tuple[str, str, EmulatorState]) -> Iterator[EmulatorState]:
    stack[2].clear()
    yield stack[2]
    stack[2].clear()


def error(stack: tuple[str, str, EmulatorState], path: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = httpx.post(stack[1] + path, json=body, timeout=30)
    payload = response.json()
    assert set(payload) == {"error"}, payload
    return response.status_code, payload["error"]


def test_max_output_tokens_below_the_minimum_never_reaches_azure(
    stack: tuple[str, str, EmulatorState], state: EmulatorState
) -> None:
    client = openai.OpenAI(base_url=f"{stack[1]}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="x", input="hi", max_output_tokens=-5)
    assert caught.value.param == "max_output_tokens" and caught.value.code == "invalid_value"
    assert ">= 16" in caught.value.message
    assert state.requests == []


@pytest.mark.parametrize(
    "path, body, param",
    [
        ("/v1/responses", {**RESPONSES, "temperature": 5}, "temperature"),
        ("/v1/chat/completions", {**CHAT, "temperature": 5}, "temperature"),
        ("/v1/chat/completions", {**CHAT, "messages": []}, "messages"),
    ],
)
def test_range_errors_are_invalid_value(
    stack: tuple[str, str, EmulatorState], state: EmulatorState, path: str, body: dict[str, Any], param: str
) -> None:
    status, err = error(stack, path, body)
    assert (status, err["param"], err["code"]) == (400, param, "invalid_value")


def test_missing_input_has_a_code(stack: tuple[str, str, EmulatorState], state: EmulatorState) -> None:
    status, err = error(stack, "/v1/responses", {"model": "x"})
    assert (status, err["param"], err["code"]) == (400, "input", "missing_required_parameter")


def test_an_output_without_its_call_names_the_input_item_not_chat_messages(
    stack: tuple[str, str, EmulatorState], state: EmulatorState
) -> None:
    body = {"model": "x", "input": [{"role": "user", "content": "hi"},
                                    {"type": "function_call_output", "call_id": "call_1", "output": "42"}]}  # fmt: skip
    status, err = error(stack, "/v1/responses", body)
    assert (status, err["param"]) == (400, "input[1]")
    assert "messages" not in err["message"] and "call_1" in err["message"]
    assert state.requests == []  # refused by the gateway, in the client's terms


def test_azures_complaint_about_max_completion_tokens_names_max_output_tokens(
    stack: tuple[str, str, EmulatorState], state: EmulatorState
) -> None:
    azure_error = {
        "error": {
            "message": "Invalid 'max_completion_tokens': integer above maximum value. Expected a value <= 16384.",
            "type": "invalid_request_error",
            "param": "max_completion_tokens",
            "code": "integer_above_max_value",
        }
    }
    httpx.post(f"{stack[0]}/_emulator/script", json={"replies": [{"status": 400, "body": azure_error}]})
    status, err = error(stack, "/v1/responses", {**RESPONSES, "max_output_tokens": 1_000_000})
    assert (status, err["param"]) == (400, "max_output_tokens")
    assert "'max_output_tokens'" in err["message"] and "max_completion_tokens" not in err["message"]


def test_azures_413_has_the_same_code_as_the_gateways(
    stack: tuple[str, str, EmulatorState], state: EmulatorState
) -> None:
    own_status, own = error(stack, "/v1/responses", {**RESPONSES, "input": "x" * 8000})
    azure_413 = {"error": {"code": "413", "message": "The request body is too large."}}
    httpx.post(f"{stack[0]}/_emulator/script", json={"replies": [{"status": 413, "body": azure_413}]})
    azure_status, azure = error(stack, "/v1/chat/completions", CHAT)
    assert own_status == azure_status == 413
    assert own["code"] == azure["code"] == "request_too_large"
