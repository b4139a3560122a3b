"""Schemathesis against the real gateway (uvicorn) in front of the real emulator, with every check on.

CI runs a small, derandomised sample (FUZZ_EXAMPLES per operation, default 60) so it stays well under two
minutes; the acceptance run of 10,000+ cases uses the CLI (see README, "Reliability"). Both use
tests/fuzz.toml, which only widens positive_data_acceptance to allow the gateway's deliberate 400s for
parameters Azure cannot honour. Beyond schemathesis' checks, every response must carry x-request-id.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from servers import running

from app.config import Secret, Settings
from app.emulator import EmulatorConfig, create_emulator_app
from app.factory import create_app

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

schema = schemathesis.openapi.from_path(
    REPO / "openapi.yaml", config=SchemathesisConfig.from_path(REPO / "tests" / "fuzz.toml")
)


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    emulator = create_emulator_app(EmulatorConfig(api_key="fuzz-azure-key"))
    with running(emulator) as azure:
        settings = Settings(
            openai_base_url=azure,
            openai_api_key=Secret("fuzz-azure-key"),
            openai_model="gpt-4o-mini",
            default_query={"api-version": "2024-10-21"},
            max_retry_wait=0.01,
        )
        app = create_app(settings)
        with running(app) as url:
            yield url
        gw = app.state["gateway"]
        assert gw.client.in_flight == 0 and gw.client.queued == 0


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_gateway_conforms_to_its_contract(case: schemathesis.Case, gateway_url: str) -> None:
    response = case.call_and_validate(base_url=gateway_url)
    assert response.status_code < 500, response.text
    assert response.headers.get("x-request-id")
