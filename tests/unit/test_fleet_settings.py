"""``deployments``, ``redis_url`` and the breaker settings: where they are read from, what an entry inherits
from the top-level keys, and the one-line message for each mistake."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.settings.fleet import pool_of
from app.settings.load import SettingsError, load_settings

KEY = "sk-azure-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("GATEWAY_", "DYNACONF")) or name.endswith("_FOR_DYNACONF"):
            monkeypatch.delenv(name)


def entry(host: str, model: str = "gpt-4o", **extra: object) -> dict[str, object]:
    url = f"https://{host}.openai.azure.com"
    return {"openai_base_url": url, "openai_model": model, "openai_api_key": KEY, **extra}


def error_of(tmp_path: Path, deployments: object, **overrides: object) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings({"api_version": "2024-10-21", "deployments": deployments, **overrides}, root=tmp_path)
    assert len(info.value.problems) == 1, info.value.problems  # only the entry: nothing else is "missing"
    return str(info.value)


def test_the_single_keys_are_a_one_entry_pool(tmp_path: Path) -> None:
    settings = load_settings(
        {"openai_base_url": "https://a.openai.azure.com", "openai_api_key": KEY, "openai_model": "d",
         "api_version": "2024-10-21", "rpm": 600},
        root=tmp_path,
    )  # fmt: skip
    assert settings.deployments == ()
    (only,) = pool_of(settings)
    assert (only.name, only.openai_model, only.rpm) == ("d", "d", 600)
    assert only.default_query == {"api-version": "2024-10-21"}


def test_toml_tables_inherit_what_they_leave_out(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text(
        f"""
openai_api_key = "{KEY}"
[default_query]
"api-version" = "2024-10-21"

[[deployments]]
openai_base_url = "https://east.openai.azure.com"
openai_model = "gpt-4o"
rpm = 600
tpm = 100000

[[deployments]]
openai_base_url = "https://west.openai.azure.com"
openai_model = "gpt-4o"
api-version = "2025-01-01-preview"
weight = 2
""",
        encoding="utf-8",
    )
    settings = load_settings(root=tmp_path)
    east, west = settings.deployments
    # The same deployment name in two regions: labels tell them apart by host.
    assert (east.name, west.name) == ("gpt-4o@east.openai.azure.com", "gpt-4o@west.openai.azure.com")
    assert (east.rpm, east.tpm, east.weight) == (600, 100000, 1.0)
    assert west.default_query == {"api-version": "2025-01-01-preview"} and west.weight == 2.0
    assert east.openai_api_key is not None and east.openai_api_key.get_secret_value() == KEY
    # The top-level keys are the first entry's, for everything that names one deployment.
    assert settings.openai_base_url == "https://east.openai.azure.com" and settings.openai_model == "gpt-4o"
    assert KEY not in repr(settings)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([entry("east", name="e"), entry("west", name="w")]),
        f'[{{openai_base_url = "https://east.openai.azure.com", openai_model = "gpt-4o", openai_api_key = "{KEY}", '
        f'name = "e"}}, {{openai_base_url = "https://west.openai.azure.com", openai_model = "gpt-4o", '
        f'openai_api_key = "{KEY}", name = "w"}}]',
    ],
    ids=["json", "toml"],
)
def test_environment_takes_json_or_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("GATEWAY_DEPLOYMENTS", text)
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-10-21")
    assert [d.name for d in load_settings(root=tmp_path).deployments] == ["e", "w"]


def test_environment_that_is_neither_json_nor_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_DEPLOYMENTS", "east,west")
    monkeypatch.setenv("GATEWAY_API_VERSION", "2024-10-21")
    with pytest.raises(SettingsError, match="GATEWAY_DEPLOYMENTS is not a JSON or TOML list"):
        load_settings(root=tmp_path)


@pytest.mark.parametrize(
    ("deployments", "expected"),
    [
        ([entry("east", rpm=-5)], "deployments[0].rpm is invalid (got -5, expected an integer >= 1)"),
        ([entry("east"), entry("west", weight=0)], "deployments[1].weight is invalid (got 0, expected a number > 0)"),
        ([entry("east", tpm="lots")], "deployments[0].tpm is invalid (got 'lots', expected an integer >= 1)"),
        ([{"openai_model": "d", "openai_api_key": KEY}], "deployments[0].openai_base_url is invalid"),
        ([entry("east", regoin="x")], "deployments[0].regoin is invalid (expected one of api-version, auth"),
        ([{**entry("east"), "openai_base_url": "ftp://x"}], "expected an http(s) URL without ?query or #fragment"),
        ([entry("east", name="a"), entry("west", name="a")], "deployments[1] repeats deployment 'a'"),
        ([entry("east"), entry("east")], "deployments[1] repeats deployment 'gpt-4o@east.openai.azure.com'"),
        ([], "deployments must be a non-empty list of tables"),
        (["east"], "deployments[0] must be a table"),
    ],
)
def test_mistakes_say_which_entry_and_key(tmp_path: Path, deployments: object, expected: str) -> None:
    message = error_of(tmp_path, deployments)
    assert expected in message


def test_an_entry_without_a_key_is_refused_but_entra_needs_none(tmp_path: Path) -> None:
    message = error_of(tmp_path, [{"openai_base_url": "https://e.openai.azure.com", "openai_model": "d"}])
    assert "deployments[0].openai_api_key is invalid (expected the deployment's Azure key (it is not set))" in message
    settings = load_settings(
        {"api_version": "2024-10-21", "openai_api_key": KEY,
         "deployments": [entry("east"), {"openai_base_url": "https://w.openai.azure.com", "openai_model": "d",
                                          "auth": "entra_id"}]},
        root=tmp_path,
    )  # fmt: skip
    assert settings.deployments[1].auth == "entra_id" and settings.deployments[1].openai_api_key is not None


def test_an_entry_without_an_api_version(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"deployments\[0\]\.api-version is invalid"):
        load_settings({"deployments": [entry("east")]}, root=tmp_path)


def test_redis_and_breaker_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"openai_base_url": "https://a.openai.azure.com", "openai_api_key": KEY, "openai_model": "d",
            "api_version": "2024-10-21"}  # fmt: skip
    monkeypatch.setenv("GATEWAY_REDIS_URL", "redis://:hunter2@cache:6379/1")
    monkeypatch.setenv("GATEWAY_BREAKER_FAILURES", "5")
    settings = load_settings(base, root=tmp_path)
    assert settings.redis_url is not None and "hunter2" not in repr(settings)
    assert settings.redis_url.get_secret_value() in settings.secret_values()  # scrubbed from logs
    assert settings.breaker_failures == 5 and settings.breaker_cooldown == 10.0
    monkeypatch.setenv("GATEWAY_REDIS_URL", "http://cache:6379")
    with pytest.raises(SettingsError, match="redis_url is invalid") as info:
        load_settings(base, root=tmp_path)
    assert "cache" not in str(info.value)  # the value (it may hold a password) is not echoed
    monkeypatch.delenv("GATEWAY_REDIS_URL")
    monkeypatch.setenv("GATEWAY_BREAKER_COOLDOWN", "0")
    with pytest.raises(SettingsError, match="breaker_cooldown is invalid"):
        load_settings(base, root=tmp_path)
