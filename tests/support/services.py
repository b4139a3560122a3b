"""The machine's services (PostgreSQL, Redis) in tests: reachable or not, and whether their absence may skip.

Where a service is unreachable its tests skip and say so - unless GATEWAY_TEST_REQUIRE_SERVICES=1 (.ci/run
sets it), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import socket

import pytest


def services_required() -> bool:
    return os.environ.get("GATEWAY_TEST_REQUIRE_SERVICES") == "1"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (GATEWAY_TEST_REQUIRE_SERVICES=1 makes this mandatory)")
    pytest.skip(f"{reason}; set GATEWAY_TEST_REQUIRE_SERVICES=1 to make this a failure")
