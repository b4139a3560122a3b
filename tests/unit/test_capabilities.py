"""The api-version capability table states Azure's facts (see ../shared/specs/azure_notes.md)."""

from __future__ import annotations

import pytest

from app.translate import capabilities_for
from app.translate.capabilities import FIRST_VERSION

LATER = ("store", "metadata", "service_tier", "prompt_cache_key", "verbosity", "input_audio", "file_parts")


def test_2024_10_21_has_the_september_preview_fields_and_nothing_newer() -> None:
    caps = capabilities_for("2024-10-21")
    assert caps.json_schema and caps.max_completion_tokens and caps.parallel_tool_calls and caps.stream_options
    assert not (caps.reasoning_effort or caps.developer_role)
    assert not any(getattr(caps, name) for name in LATER)


def test_fields_arrive_when_azure_added_them() -> None:
    assert not capabilities_for("2024-06-01").json_schema
    assert capabilities_for("2024-08-01-preview").json_schema
    assert not capabilities_for("2024-08-01-preview").max_completion_tokens
    for name in ("max_completion_tokens", "parallel_tool_calls", "stream_options"):
        assert FIRST_VERSION[name] == "2024-09-01-preview"
        assert getattr(capabilities_for("2024-09-01-preview"), name)
    dec = capabilities_for("2024-12-01-preview")
    assert dec.reasoning_effort and dec.developer_role
    assert FIRST_VERSION["reasoning_effort"] == FIRST_VERSION["developer_role"] == "2024-12-01-preview"


@pytest.mark.parametrize("version", ["2025-01-01-preview", "2025-04-01-preview", "preview", "latest", "v1"])
def test_newer_previews_and_aliases_support_everything(version: str) -> None:
    caps = capabilities_for(version)
    assert all(getattr(caps, name) for name in FIRST_VERSION)


def test_an_unlisted_dated_version_takes_its_newest_predecessor() -> None:
    caps = capabilities_for("2024-11-15")
    assert caps.api_version == "2024-11-15"
    assert caps.max_completion_tokens and not caps.reasoning_effort
    assert capabilities_for("2026-01-01-preview").reasoning_effort


def test_an_unknown_form_gets_the_oldest_behaviour() -> None:
    caps = capabilities_for("yesterday")
    assert not any(getattr(caps, name) for name in FIRST_VERSION)
