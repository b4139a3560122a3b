"""Gateways at several Azure api-versions in front of one emulator, over real sockets (a pytest plugin).

Used by the translation end-to-end suite and the conformance suite (``pytest_plugins``), so both exercise
the very same stack. Everything is session-scoped: starting uvicorn per test would dominate the run time.

Every call returns an :class:`Exchange`: what the client got back and the Chat request the emulator
received for it (None when the gateway refused the request before calling Azure). Tests run one at a
time, so "the requests recorded since the call started" are exactly that call's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.api.factory import create_app
from app.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from app.emulator.script import parse_action
from app.settings.load import Secret, Settings
from support.servers import running
from support.stream_validator import SHARED

# CI always has the shared reference folder beside the repository (../shared).
NEEDS_SHARED = f"needs ../shared (the reference specs), looked for {SHARED}"

# A strict Responses function tool, as the Agents SDK sends one: used by the e2e rows and the conformance checks.
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}

KEY = "emulator-key"
DEPLOYMENT = "gpt-4o-mini"
# A deployment named like an o-series model: proves the token-limit parameter never follows the name.
O_SERIES_DEPLOYMENT = "o3-mini"

GA_2024_06 = "2024-06-01"
GA = "2024-10-21"
DEC_PREVIEW = "2024-12-01-preview"
APR_PREVIEW = "2025-04-01-preview"

# name -> (api-version, extra Settings fields)
GATEWAYS: dict[str, tuple[str, dict[str, Any]]] = {
    GA_2024_06: (GA_2024_06, {}),
    GA: (GA, {}),
    DEC_PREVIEW: (DEC_PREVIEW, {}),
    APR_PREVIEW: (APR_PREVIEW, {}),
    "think_tags": (APR_PREVIEW, {"reasoning_replay": "think_tags", "reasoning_parser": "think_tags"}),
    "max_tokens_override": (GA, {"token_limit_parameter": "max_tokens"}),
    "max_completion_tokens_override_2024_06": (GA_2024_06, {"token_limit_parameter": "max_completion_tokens"}),
    "o_series_2024_06": (GA_2024_06, {"openai_model": O_SERIES_DEPLOYMENT}),
    "hosted_reject": (GA, {"hosted_tools": "reject"}),
}


@dataclass
class Exchange:
    """One client call through the gateway."""

    gateway: str
    api_version: str
    path: str
    request: dict[str, Any]
    status: int
    body: dict[str, Any]
    # The Chat Completions body Azure (the emulator) received; None when nothing reached it.
    sent: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> dict[str, Any]:
        assert self.status >= 400, f"expected an error, got {self.status}: {self.body}"
        return dict(self.body["error"])

    @property
    def messages(self) -> list[dict[str, Any]]:
        assert self.sent is not None, f"nothing reached Azure: {self.status} {self.body}"
        return list(self.sent["messages"])

    def output(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.body["output"] if item["type"] == kind]

    @property
    def text(self) -> str:
        (message,) = self.output("message")
        return "".join(part["text"] for part in message["content"] if part["type"] == "output_text")


@dataclass
class Stack:
    emulator: str
    state: EmulatorState
    gateways: dict[str, str]
    client: httpx.Client
    # Every exchange made through the stack, oldest first (the conformance suite validates them).
    exchanges: list[Exchange] = field(default_factory=list)

    def call(
        self, gateway: str, body: dict[str, Any], *, reply: dict[str, Any] | None = None, path: str = "/v1/responses"
    ) -> Exchange:
        """POST `body` to `gateway`; `reply` scripts Azure's answer (see app/emulator/actions.py)."""
        before = len(self.state.requests)
        if reply is not None:
            self.state.enqueue([parse_action(reply)])
        try:
            response = self.client.post(self.gateways[gateway] + path, json=body)
        finally:
            self.state.clear_script()  # a refused request must not leave its reply to the next test
        received = self.state.requests[before:]
        assert len(received) <= 1, f"one client call reached Azure {len(received)} times"
        sent = received[0].body if received else None
        if received:
            assert received[0].status == 200, f"Azure (the emulator) rejected {sent}: {response.text}"
        exchange = Exchange(
            gateway=gateway,
            api_version=GATEWAYS[gateway][0],
            path=path,
            request=body,
            status=response.status_code,
            body=response.json(),
            sent=sent,
            headers=dict(response.headers),
        )
        self.exchanges.append(exchange)
        return exchange

    def responses(self, gateway: str, body: dict[str, Any], **kw: Any) -> Exchange:
        """A call that must succeed."""
        exchange = self.call(gateway, body, **kw)
        assert exchange.status == 200, exchange.body
        return exchange

    def refused(self, gateway: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A call the gateway must refuse with a 400 in OpenAI's envelope, without calling Azure."""
        exchange = self.call(gateway, body, **kw)
        assert exchange.status == 400, exchange.body
        assert exchange.sent is None, f"a refused request reached Azure: {exchange.sent}"
        error = exchange.error
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
        return error


def settings_for(base_url: str, api_version: str, **extra: Any) -> Settings:
    fields: dict[str, Any] = {
        "store_url": "memory",  # no store file in the work tree
        "openai_base_url": base_url,
        "openai_api_key": Secret(KEY),
        "openai_model": DEPLOYMENT,
        "default_query": {"api-version": api_version},
    }
    fields.update(extra)
    return Settings(**fields)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    state = EmulatorState()
    emulator = create_emulator_app(
        EmulatorConfig(api_key=KEY, deployments=(DEPLOYMENT, O_SERIES_DEPLOYMENT)), state=state
    )
    with ExitStack() as servers, httpx.Client(timeout=30) as client:
        emulator_url = servers.enter_context(running(emulator))
        gateways = {
            name: servers.enter_context(running(create_app(settings_for(emulator_url, version, **extra))))
            for name, (version, extra) in GATEWAYS.items()
        }
        yield Stack(emulator=emulator_url, state=state, gateways=gateways, client=client)
